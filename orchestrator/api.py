"""The public Python API: :class:`Orchestrator` (what the CLI itself uses).

>>> orch = Orchestrator.from_config(load_config(cwd=Path.cwd()), interactive=False, events=JsonlSink(sys.stdout))
>>> result = anyio.run(orch.run, "add input validation to bank.py")   # SessionResult; result.exit_code

The flow (DESIGN.md): session.started → planner → plan.created → scheduler (each step: staging, role pipeline,
optional user approval of the diff, apply) → session.completed. Collaborators come in through the constructor;
:func:`orchestrator.compose.build_collaborators` makes the real ones from config.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio

from agents.plan_fixups import fix_plan
from orchestrator.core.contracts import Memory, StepFailureHandler
from orchestrator.core.errors import InputError, ModelOutputError, OrchestrateError
from orchestrator.core.events import (
    ErrorEvent,
    EventSink,
    PlanCreated,
    PlanStepInfo,
    SessionResumed,
    SessionStarted,
)
from orchestrator.core.plan import Plan, PlanInvalid, validate_plan
from orchestrator.core.ports import UiPorts
from orchestrator.engine.answers import StepAnswers
from orchestrator.engine.delivery import SessionDelivery, with_delivery
from orchestrator.engine.emitter import CheckSource, GatewayLike, SessionEvents
from orchestrator.engine.followup import add_followup, history, reopen_steps
from orchestrator.engine.outcome import finish, guarded
from orchestrator.engine.resume import (
    BudgetGuard,
    Drift,
    SessionApprovals,
    claim_for_resume,
    plan_state,
    repair_and_check,
)
from orchestrator.engine.scheduler import Scheduler
from orchestrator.engine.session import (
    DiffReviewer,
    PlanFn,
    PlanReviewer,
    SessionResult,
    StepExecutor,
    StepFn,
)
from orchestrator.store.locks import tree_lock
from orchestrator.store.sessions import SessionStore, Store
from orchestrator.workspace.staging import Workspace

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.settings.config import LoadedConfig
    from orchestrator.settings.home import Home
    from orchestrator.settings.schema import Settings

__all__ = ["Orchestrator", "GatewayLike", "SessionEvents", "DriftConfirm", "UiPorts"]

# Asked when a resumed session's repository changed outside it: True continues on the changed tree.
DriftConfirm = Callable[[Drift], bool]


class Orchestrator:
    """Plans and runs tasks in ``cwd``. Use :meth:`from_config`; the constructor takes every collaborator."""

    def __init__(self, *, settings: Settings, cwd: Path, home: Home, gateway: GatewayLike, memory: Memory,
                 planner: PlanFn, run_step: StepFn, deps: Any = None, events: SessionEvents | None = None,
                 store: Store | None = None, diff_reviewer: DiffReviewer | None = None,
                 plan_reviewer: PlanReviewer | None = None, approvals: SessionApprovals | None = None,
                 session_options: Mapping[str, Any] | None = None, checks: CheckSource | None = None,
                 failure_handler: StepFailureHandler | None = None) -> None:
        self.settings = settings
        self.checks = checks  # which checks the validator runs here, and why (None: not known to the engine)
        self.cwd = cwd.resolve()
        self.home = home
        self.gateway = gateway
        self.memory = memory
        self.events = events or SessionEvents()
        if store is None:
            from orchestrator.compose import open_store

            store = open_store(home)
        self.store = store
        self._workspace_at = partial(Workspace, exclude=[home.root], include=settings.staging.include,
                                     notify=self._workspace_note)
        self.workspace = self._workspace_at(self.cwd)
        self.delivery: SessionDelivery | None = None  # the attached session's (apply.mode; engine.delivery)
        self.tree_lock = partial(tree_lock, self.workspace.top, home.root)  # held while an edit is applied
        self.session_id: str | None = None  # set as soon as a session exists (for "resume with ..." messages)
        self._planner = planner
        self._run_step = run_step
        self._deps = deps
        self._diff_reviewer = diff_reviewer
        self._failure_handler = failure_handler  # asked when a step fails (interactive); None: it just fails
        self._plan_reviewer = plan_reviewer
        self._approvals = approvals
        self._session_options = dict(session_options or {})
        self._closers: list[Callable[[], None]] = []  # what this object started and must stop (MCP servers)
        self.notices: tuple[str, ...] = ()  # start-up notices for the caller to show once (e.g. rules skipped)

    def _workspace_note(self, message: str) -> None:
        """A one-line notice from the workspace outside any step (a step's own notices: ``StepExecutor``)."""
        from orchestrator.core.events import WarningEvent

        self.events.emit(WarningEvent(message=message))

    @classmethod
    def from_config(cls, loaded: LoadedConfig, *, interactive: bool, console: Console | None = None,
                    events: EventSink | None = None, cwd: Path | None = None, environ: Mapping[str, str] | None = None,
                    session_options: Mapping[str, Any] | None = None, ports: UiPorts | None = None) -> Orchestrator:
        """The real object graph for ``loaded`` (see :mod:`orchestrator.compose`).

        ``ports`` answer the run's questions (:class:`~orchestrator.core.ports.UiPorts`); without them
        ``interactive=True`` asks on ``console`` (:mod:`orchestrator.terminal.ports`), ``interactive=False`` nobody.
        ``session_options`` are stored with each new session (the CLI keeps its model choices there for resume).
        The gate's start-up notices are in :attr:`notices`. The configured MCP servers belong to this object: they
        start on first use and stop in :meth:`aclose` (the one place they are stopped; atexit is only a safety net).
        """
        from orchestrator.compose import SessionExtras, build_collaborators

        environ = environ or os.environ
        if ports is None and interactive:
            from orchestrator.terminal.ports import caller_ports

            ports = caller_ports(console, events, environ=environ, project_root=loaded.project_root)
        ports = ports or UiPorts()
        session_events = SessionEvents(ports.joined(events), budget=BudgetGuard(loaded.settings.budget_usd))
        extras = SessionExtras()
        parts = build_collaborators(loaded, cwd=(cwd or Path.cwd()).resolve(), ports=ports, events=session_events,
                                    environ=environ, extras=extras)
        orch = cls(events=session_events, session_options=session_options, **parts)
        orch.notices = extras.notices
        if extras.mcp is not None:
            orch._closers.append(extras.mcp.close)
        return orch

    async def aclose(self) -> None:
        for close in self._closers:
            await anyio.to_thread.run_sync(close)
        self._closers.clear()
        await self.gateway.aclose()
        self.store.close()

    # ------------------------------------------------------------------------------------------------ planning
    async def plan(self, task: str, *, history: str = "") -> Plan:
        """A validated plan for ``task`` (nothing changed); ``history``: the session so far, for a follow-up."""
        task = _checked(task)
        context = self.memory.load(self.cwd)
        files = await anyio.to_thread.run_sync(self.workspace.list_files)
        told = {"history": history} if history else {}  # planners written before follow-ups take no history
        plan = await self._planner(task, gateway=self.gateway, memory=context, repo_summary="\n".join(files), **told)
        try:
            validate_plan(plan)
        except PlanInvalid as exc:
            raise ModelOutputError(f"the planner returned an invalid plan: {exc.message}") from None
        # Paths repaired, a small plan merged (agents.plan_fixups), whichever planner made it: it reads the files.
        return await anyio.to_thread.run_sync(
            lambda: fix_plan(plan, task, known=files, root=self.cwd, limits=self.settings.planner))

    async def _reviewed_plan(self, task: str, history: str = "") -> tuple[Plan | None, str]:
        """Plan, then (interactive) let the user accept, edit the task and re-plan, or quit (None)."""
        while True:
            plan = await self.plan(task, history=history)
            if self._plan_reviewer is None:
                return plan, task
            decision = await self._plan_reviewer.review_plan(plan, task)
            if decision.action == "accept":
                return plan, task
            if decision.action == "quit":
                return None, task
            task = _checked(decision.task)

    # ------------------------------------------------------------------------------------------------ running
    async def run(self, task: str) -> SessionResult:
        """Plan and run ``task`` in a new session (a configured check that can never run is a ConfigError first)."""
        task = _checked(task)
        if self.checks is not None:
            self.checks.preflight()
        git = await anyio.to_thread.run_sync(self.workspace.git_info)
        options = await anyio.to_thread.run_sync(with_delivery, self._session_options, self.settings.apply, self.cwd,
                                                 git)  # apply.mode: refused here (exit 2) when it cannot work
        session = self.store.create(cwd=self.cwd, task=task, profile=self.settings.profile, git=git,
                                    keep_days=self.settings.sessions.keep_days, options=options)
        self.session_id = session.id
        with self._attached(session):
            self.events.emit(SessionStarted(session_id=session.id, cwd=str(self.cwd), git=git))
            return await guarded(session, self.events, self._plan_and_execute(session, task))

    async def resume(self, session_id: str, *, force: bool = False, confirm_drift: DriftConfirm | None = None,
                     retry_failed: bool = False, guidance: str = "") -> SessionResult:
        """Continue a stored session: finish a half-applied edit, then run every step that has not completed.

        If the repository changed outside the session (HEAD moved, or a file the session edited was modified since),
        it continues only with ``force`` or when ``confirm_drift(drift)`` says so; otherwise it raises
        :class:`InputError` naming the changes, before anything runs. A session another process is running is refused
        (:class:`InputError`). A finished session (its ``session.completed`` was emitted and no step is left to run)
        runs nothing: the result says ``already_finished``, and the caller's sink gets that ``session.completed``
        again, as stored. ``retry_failed`` and ``guidance``: :mod:`orchestrator.engine.followup` (retries, follow-ups).
        """
        session = self.store.open(session_id)
        self.session_id = session.id
        finished, action = claim_for_resume(session, cwd=self.cwd, retry_failed=retry_failed, guidance=guidance)
        if finished is not None and action == "continue":  # nothing to run: say so, with what its consumers were told
            result, told = finished
            session.close()
            if told is not None and self.events.user is not None:
                self.events.user.emit(told)
            return result
        with self._attached(session):
            self.events.emit(SessionResumed(session_id=session.id, retry_failed=retry_failed or None,
                                            guidance=guidance.strip() or None, **plan_state(session)))
            try:  # a refusal leaves the session as it was (resumable), so this is not under guarded()
                # A finished session has no work in flight that a changed tree could spoil: its retry or follow-up
                # starts on today's tree (the user may well have committed or edited its changes since).
                await repair_and_check(session, self.workspace, events=self.events, tree_lock=self.tree_lock,
                                       force=force or finished is not None, confirm=confirm_drift)
            except OrchestrateError as exc:
                self.events.emit(ErrorEvent(message=exc.render()))
                raise
            if action == "retry":
                reopen_steps(session, guidance.strip())
            session.update_meta(status="running", pid=os.getpid())
            if action == "followup":
                return await guarded(session, self.events, self._follow_up(session, guidance.strip()))
            return await guarded(session, self.events, self._continue(session))

    async def _plan_and_execute(self, session: SessionStore, task: str) -> SessionResult:
        plan, task = await self._reviewed_plan(task)
        if plan is None:
            return finish(session, self.events, "interrupted", {})
        if task != session.meta.task:
            session.update_meta(task=task)
        with session.transaction():  # plan.created is announced once the plan is stored
            session.save_plan(plan)
            self.events.emit(PlanCreated(summary=plan.summary, steps=tuple(
                PlanStepInfo(id=s.id, role=s.role, goal=s.goal, depends_on=s.depends_on) for s in plan.steps),
                checks=self.checks.infos() if self.checks is not None else ()))
        return await self._execute(session, task, plan)

    async def _follow_up(self, session: SessionStore, request: str) -> SessionResult:
        """Plan ``request`` knowing the session's history (reviewed like a first plan: quitting leaves the session as it
        was); its steps (``fN.*``) join the plan and run."""
        new, request = await self._reviewed_plan(request, history(session))
        if new is None:
            return finish(session, self.events, "succeeded", plan_state(session).get("states", {}))
        plan = add_followup(session, new, request, self.events)
        return await self._execute(session, session.meta.task, plan)

    async def _continue(self, session: SessionStore) -> SessionResult:
        if self.events.budget is not None:
            self.events.budget.check(session)  # a session that used its budget up does not start spending again
        plan = session.load_plan()
        if plan is None:
            return await self._plan_and_execute(session, session.meta.task)
        return await self._execute(session, session.meta.task, plan)

    async def _execute(self, session: SessionStore, task: str, plan: Plan) -> SessionResult:
        answers = StepAnswers(self._diff_reviewer, self._failure_handler,
                              max_change_requests=self.settings.review.max_change_requests)
        executor = StepExecutor(task=task, plan=plan, session=session, workspace=self.workspace,
                                run_step=self._run_step, deps=self._deps, events=self.events,
                                diff_reviewer=self._diff_reviewer, tree_lock=self.tree_lock, answers=answers,
                                followups=session.meta.followups, delivery=self.delivery)
        scheduler = Scheduler(plan, runner=executor, store=session, events=self.events,
                              max_parallel=self.settings.max_parallel,
                              model_for=lambda step: self.gateway.model_for(step.role),
                              stopped=lambda: answers.stopped)
        states = await scheduler.run()
        status: Literal["succeeded", "failed"] = (
            "succeeded" if all(s == "succeeded" for s in states.values()) else "failed")
        return finish(session, self.events, status, states)

    @contextmanager
    def _attached(self, session: SessionStore) -> Iterator[None]:
        self.events.session = session
        if self._approvals is not None:
            self._approvals.attach(session)
        try:  # where the session's edits land: its own worktree in apply.mode "branch"
            self.delivery = SessionDelivery(session)
            self.workspace = self._workspace_at(self.delivery.tree or self.cwd)
            yield
        finally:
            self.events.session = None
            if self._approvals is not None:
                self._approvals.attach(None)
            session.close()


def _checked(task: str) -> str:
    task = task.strip()
    if not task:
        raise InputError("the task is empty", hint="say what to do, e.g. orchestrate exec \"add tests for bank.py\"")
    return task
