"""One step, end to end, inside a session: staging → the role pipeline → user approval → apply → cleanup.

:class:`StepExecutor` is the scheduler's step runner. It gives the step a staging (reattached or rebuilt from the
store after a crash or Ctrl-C), runs the pipeline (``agents.pipeline.run_step``, injected), shows an approved
coder diff to the user when asked to, applies it to the working tree through the journal, re-runs the step on the
updated tree when its diff conflicts with edits applied meanwhile, and always removes the staging. Nothing here
touches the user's tree before the diff was approved and validated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import anyio

from orchestrator.core.contracts import MemoryContext, Message, StepOutcome
from orchestrator.core.events import EditApplied, EventSink, StepPhase, WarningEvent
from orchestrator.core.plan import Plan, Step, ancestors, build_dag
from orchestrator.core.ports import DiffReviewer, PlanDecision, PlanReviewer  # re-exported (they lived here)
from orchestrator.engine.answers import StepAnswers
from orchestrator.engine.followup import step_task
from orchestrator.engine.outcome import SessionResult
from orchestrator.engine.scheduler import FATAL_ERRORS
from orchestrator.store.sessions import JournalEntry, SessionStore
from orchestrator.workspace.staging import ApplyConflict, Staging, Workspace

if TYPE_CHECKING:
    from orchestrator.engine.delivery import SessionDelivery

__all__ = [
    "StepFn",
    "PlanFn",
    "DiffReviewer",
    "PlanDecision",
    "PlanReviewer",
    "StoreCheckpoint",
    "StepExecutor",
    "SessionResult",
    "StepScoped",
    "applied_journal",
]

@runtime_checkable
class StepScoped(Protocol):
    """Deps that know which step uses them (``agents.pipeline.StepDeps``): their model calls are made for the step,
    so usage events carry its id and kept replies are looked up under ``reply_scope`` (the step, or ``"s1#2"`` once
    the user had it run again twice: a retry is never answered with the replies of the attempt that failed)."""

    def for_step(self, step_id: str, reply_scope: str | None = None) -> object: ...


class StepFn(Protocol):
    """``agents.pipeline.run_step``."""

    async def __call__(self, step: Step, *, task: str, plan: Plan, staging: Staging, deps: Any,
                       checkpoint: StoreCheckpoint | None = None) -> StepOutcome: ...

    # It may also take ``guidance: str`` (the user's words for the coder: in the first message of a fresh
    # conversation, appended to a saved one that does not have them yet); it is passed only when there is some.


class PlanFn(Protocol):
    """``agents.planner.make_plan``."""

    async def __call__(self, task: str, *, gateway: Any, memory: MemoryContext, repo_summary: str) -> Plan: ...

    # It may also take ``history: str`` (a follow-up: the session so far); it is passed only for a follow-up.


def applied_journal(session: SessionStore, events: EventSink) -> Callable[[JournalEntry], None]:
    """The edit journal of ``session``: an edit's ``done`` and its ``edit.applied`` event are committed together, so a
    crash can never leave an applied edit without its event; the event reaches the consumers only after that commit
    (``SessionEvents``), so an edit announced as applied is never applied again by a resume."""

    def record(entry: JournalEntry) -> None:
        with session.transaction():
            session.journal(entry)
            if entry.state == "done":
                events.emit(EditApplied(step_id=entry.step_id, files=entry.files))

    return record


class StoreCheckpoint:
    """A step's conversation, persisted in the session store (``agents.pipeline.StepCheckpoint``)."""

    def __init__(self, session: SessionStore, step_id: str) -> None:
        self._session = session
        self._step_id = step_id

    def load(self) -> list[Message] | None:
        return self._session.load_messages(self._step_id)

    def save(self, messages: Sequence[Message]) -> None:
        self._session.save_messages(self._step_id, messages)


class StepExecutor:
    """Runs one step for the scheduler (see the module docstring). ``conflict_reruns`` bounds re-runs on conflict;
    ``tree_lock()`` is held while an edit is applied to the working tree
    (:func:`orchestrator.store.locks.tree_lock`)."""

    def __init__(self, *, task: str, plan: Plan, session: SessionStore, workspace: Workspace, run_step: StepFn,
                 deps: Any, events: EventSink, diff_reviewer: DiffReviewer | None = None,
                 conflict_reruns: int = 2, tree_lock: Callable[[], AbstractContextManager[Any]] = nullcontext,
                 answers: StepAnswers | None = None, followups: tuple[str, ...] = (),
                 delivery: SessionDelivery | None = None) -> None:
        self._task = task
        self._delivery = delivery  # commits applied steps (apply.mode), keeps failed steps' work on branches
        self._followups = followups  # follow-up requests: the task of the steps "fN.*"
        self.answers = answers or StepAnswers(diff_reviewer)
        self._plan = plan
        self._dag = build_dag(plan)
        self._session = session
        self._workspace = workspace
        self._run_step = run_step
        self._deps = deps
        self._events = events
        self._conflict_reruns = conflict_reruns
        self._tree_lock = tree_lock

    async def __call__(self, step: Step) -> StepOutcome:
        done = await anyio.to_thread.run_sync(self._already_applied, step)
        if done is not None:
            return done
        failures = 0
        while True:
            record = self._session.step(step.id)
            scope = f"{step.id}#{record.retries}" if record.retries else step.id
            deps = self._deps.for_step(step.id, scope) if isinstance(self._deps, StepScoped) else self._deps
            outcome = await self._run_once(step, record.guidance, deps)
            if outcome.status == "succeeded":
                return outcome
            failures += 1
            decision = await self.answers.after_failure(step, outcome, failures)
            if decision is None or decision.kind != "retry":
                return outcome
            self._events.emit(WarningEvent(step_id=step.id, message=f"step {step.id} runs again (your answer)"))
            with self._session.transaction():  # the retry starts over: no stale conversation, no replayed replies
                self._session.set_step(record.model_copy(update={
                    "retries": record.retries + 1, "guidance": decision.guidance.strip() or record.guidance}))
                self._session.save_messages(step.id, [])

    async def _run_once(self, step: Step, guidance: str, deps: Any) -> StepOutcome:
        for _ in range(self._conflict_reruns + 1):
            staging = await self._staging_for(step)
            try:
                result = await self._attempt(step, staging, deps, guidance)
            except BaseException as exc:
                # Cancelled (Ctrl-C) or the whole run stops: keep the work for `resume`; else the step just failed.
                if isinstance(exc, Exception) and not isinstance(exc, FATAL_ERRORS):
                    self._keep_failed(step, staging)
                    self._discard(step, staging)
                else:
                    self._park(step, staging)  # synchronous: cancellation cannot cut it short
                raise
            if result is not None and result.status == "failed":
                result = self._keep_failed(step, staging, result)
            self._discard(step, staging)
            if result is not None:
                return result
        return StepOutcome(status="failed", reason="its change kept conflicting with the other steps' edits")

    def _already_applied(self, step: Step) -> StepOutcome | None:
        """A step killed after its edit landed (journal ``done``) is finished, not run again: its staging goes."""
        applied = self._session.journal_entry(step.id)
        if applied is None or applied.state != "done":
            return None
        record = self._session.staging(step.id)
        staging = self._workspace.attach(record) if record is not None else None
        if staging is not None:
            staging.remove()
        self._session.set_staging(step.id, None)
        if self._delivery is not None:  # killed between the apply and its commit: commit now (never twice)
            with self._tree_lock():
                self._delivery.after_apply(step, applied.diff, applied.files)
        return StepOutcome(status="succeeded", summary="its edit was applied before the interruption",
                          files=applied.files)

    async def _step(self, step: Step, staging: Staging, deps: Any, guidance: str) -> StepOutcome:
        """The step's pipeline once, for its task (a follow-up's steps: the follow-up's), with the user's guidance."""
        extra = {"guidance": guidance} if guidance else {}
        return await self._run_step(step, task=step_task(self._task, self._followups, step), plan=self._plan,
                                    staging=staging, deps=deps,
                                    checkpoint=StoreCheckpoint(self._session, step.id), **extra)

    async def _attempt(self, step: Step, staging: Staging, deps: Any, guidance: str = "") -> StepOutcome | None:
        outcome = await self._step(step, staging, deps, guidance)
        if outcome.status != "succeeded":
            return StepOutcome(status="failed", summary=outcome.summary, reason=outcome.reason or "the step failed")
        if step.role != "coder" or not outcome.diff.strip():
            return StepOutcome(status="succeeded", summary=outcome.summary)
        if self.answers.diff_reviewer is not None:  # the live view shows the step waiting for the user
            self._events.emit(StepPhase(step_id=step.id, phase="waiting", detail="your review of the change"))
        # "Change it: ..." runs the same coder again in this staging, from its conversation, with the user's words.
        outcome = await self.answers.settle_diff(step, outcome, partial(self._step, step, staging, deps))
        if outcome.status != "succeeded" or not outcome.diff.strip():
            return outcome
        files = tuple(outcome.files) or tuple(await anyio.to_thread.run_sync(staging.changed_files))
        journal = applied_journal(self._session, self._events)
        self._events.emit(StepPhase(step_id=step.id, phase="applying", detail=", ".join(files)))
        try:
            await anyio.to_thread.run_sync(self._apply, step.id, outcome.diff, files, journal)
        except ApplyConflict as conflict:
            self._events.emit(WarningEvent(step_id=step.id, message=f"{conflict}; re-running it on the updated tree"))
            self._session.save_messages(step.id, [])  # the re-run starts over: its old conversation is stale
            return None
        return StepOutcome(status="succeeded", summary=outcome.summary, files=files)

    def _apply(self, step_id: str, diff: str, files: tuple[str, ...], journal: Callable[[JournalEntry], None]) -> None:
        step = next((s for s in self._plan.steps if s.id == step_id), Step(id=step_id, role="coder", goal=step_id))
        with self._tree_lock():  # other sessions may write to the same tree: one edit at a time
            if self._delivery is not None:  # a change that could not be committed on its own is not applied
                self._delivery.before_apply(step_id, diff, files)
            self._workspace.apply(step_id, diff, files, journal)
            if self._delivery is not None:
                self._delivery.after_apply(step, diff, files)

    async def _staging_for(self, step: Step) -> Staging:
        return await anyio.to_thread.run_sync(self._prepare_staging, step)

    def _prepare_staging(self, step: Step) -> Staging:
        """Reattach what a killed run left, or rebuild what an interrupted run saved, or start fresh."""
        record = self._session.staging(step.id)
        notify = partial(self._note, step.id)  # the staging's notices are about this step
        staging = self._workspace.attach(record, notify=notify) if record is not None else None
        if staging is None:
            staging = self._workspace.create_staging(self._session.stagings_dir, step.id, notify=notify)
            if record is not None and record.diff:
                try:
                    staging.apply_own(record.diff)
                except Exception:  # the tree moved on: the saved work no longer fits, start the step over
                    self._session.save_messages(step.id, [])
            elif record is not None:
                self._session.save_messages(step.id, [])
            if step.role != "coder":
                staging.review_base(self._applied_before(step))
        self._session.set_staging(step.id, staging.record())
        return staging

    def _note(self, step_id: str, message: str) -> None:
        self._events.emit(WarningEvent(step_id=step_id, message=message))

    def _applied_before(self, step: Step) -> list[str]:
        entries = (self._session.journal_entry(s.id) for s in self._plan.steps if s.id in ancestors(self._dag, step.id))
        return [e.diff for e in entries if e is not None and e.state == "done"]

    def _park(self, step: Step, staging: Staging) -> None:
        """Interrupted: keep the work in the store (the diff so far) and remove the staging from disk."""
        try:
            diff = staging.diff()
        except Exception:
            diff = None
        self._session.set_staging(step.id, staging.record(diff=diff or None))
        staging.remove()

    def _keep_failed(self, step: Step, staging: Staging, result: StepOutcome | None = None) -> StepOutcome | None:
        """A failed coder step's work is kept on a branch (``SessionDelivery.keep_failed``): said in a warning and in
        the first line of ``result``'s reason."""
        branch = self._delivery.keep_failed(step, staging) if self._delivery is not None else None
        if branch is None:
            return result
        note = f"its work is on branch {branch}"
        self._events.emit(WarningEvent(step_id=step.id, message=f"step {step.id} failed: {note}"))
        if result is None:
            return None
        first, newline, rest = result.reason.partition("\n")
        return result.model_copy(update={"reason": f"{first} ({note}){newline}{rest}"})

    def _discard(self, step: Step, staging: Staging) -> None:
        staging.remove()
        self._session.set_staging(step.id, None)
