"""What a resumed session must carry over or check: drift of the working tree, approvals "for this session", budget.

- :func:`detect_drift` compares the repository's HEAD and the content of every file the session's applied edits
  touched (hashes recorded by the store after each apply) with the current state: a :class:`Drift` says what changed.
- :class:`SessionApprovals` wraps the policy gate: a command prefix the user allowed "for this session" is recorded in
  the session store, and replayed into the gate when the session resumes (in a new process).
- :class:`BudgetGuard` enforces ``budget_usd`` on the session's total cost (every process of it), not just the
  current process's.
- :func:`already_finished` tells a session that has nothing left to run (resuming it runs nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from orchestrator.core.errors import InputError, check_budget
from orchestrator.core.events import PlanStepInfo, SessionCompleted
from orchestrator.engine.followup import ResumeAction, resume_action
from orchestrator.engine.outcome import SessionResult
from orchestrator.store.sessions import SessionStore, file_digest

if TYPE_CHECKING:
    from orchestrator.core.contracts import GateVerdict, PolicyGate
    from orchestrator.core.events import EventSink
    from orchestrator.workspace.staging import Workspace

__all__ = ["Drift", "detect_drift", "check_drift", "accept_drift", "already_finished", "plan_state",
           "SessionApprovals", "BudgetGuard", "claim_for_resume", "repair_and_check"]


@dataclass(frozen=True)
class Drift:
    """How the working tree changed outside the session since it last ran."""

    head: tuple[str, str] | None = None  # (recorded, current) when HEAD moved
    modified: tuple[str, ...] = ()  # files the session edited whose content changed since (relative to the cwd)

    def describe(self) -> str:
        """One line: ``HEAD 1a2b3c4d5e6f → 9f8e7d6c5b4a; files a.py, b.py modified``."""
        parts = []
        if self.head is not None:
            parts.append(f"HEAD {self.head[0][:12] or 'none'} → {self.head[1][:12] or 'none'}")
        if self.modified:
            parts.append(f"file{'s' if len(self.modified) > 1 else ''} {', '.join(self.modified)} modified")
        return "; ".join(parts)


def detect_drift(session: SessionStore, workspace: Workspace) -> Drift | None:
    """The changes made outside ``session`` to its repository since it last ran, None if there are none."""
    recorded = session.meta.git.commit
    current = workspace.git_info().commit
    head = (recorded or "", current or "") if recorded and recorded != current else None
    modified = tuple(_shown(Path(path), workspace.cwd) for path, digest in sorted(session.touched_files().items())
                     if file_digest(Path(path)) != digest)
    return Drift(head=head, modified=modified) if head or modified else None


async def check_drift(session: SessionStore, workspace: Workspace, *, force: bool,
                      confirm: Callable[[Drift], bool] | None) -> None:
    """Continue on a tree changed outside the session only with ``force`` or when ``confirm(drift)`` says so (it is
    then the new reference); otherwise raise :class:`~orchestrator.core.errors.InputError` naming the changes."""
    drift = await anyio.to_thread.run_sync(detect_drift, session, workspace)
    if drift is None:
        return
    if not (force or (confirm is not None and confirm(drift))):
        raise InputError(f"the repository changed since session {session.id} last ran: {drift.describe()}",
                         hint=f"check the changes, then: orchestrate exec resume {session.id} --force")
    await anyio.to_thread.run_sync(accept_drift, session, workspace)


def accept_drift(session: SessionStore, workspace: Workspace) -> None:
    """The user chose to continue on the changed tree: take its HEAD and file contents as the new reference."""
    session.update_meta(git=workspace.git_info())
    session.retake_touched()


def already_finished(session: SessionStore) -> tuple[SessionResult, SessionCompleted | None] | None:
    """The result of a session that has nothing left to run, with the ``session.completed`` it emitted (if stored).

    Finished: its status is ``succeeded`` or ``failed`` (recorded with its ``session.completed``, in one transaction)
    and every step of its plan is final. A failed session with steps left (its budget ran out) or without a plan (the
    planner failed) is not finished: resuming it continues. None when it is not finished.
    """
    status = session.meta.status
    plan = session.load_plan()
    if status not in ("succeeded", "failed") or plan is None:
        return None
    records = session.steps([step.id for step in plan.steps])
    if any(r.status not in ("succeeded", "failed", "skipped") for r in records.values()):
        return None
    told = [e for e in session.events() if isinstance(e, SessionCompleted)]
    result = SessionResult(session_id=session.id, status=status, steps={k: r.status for k, r in records.items()},
                           usage=session.usage(), already_finished=True,
                           reasons={k: r.reason for k, r in records.items() if r.status == "failed"})
    return result, (told[-1] if told else None)


async def repair_and_check(session: SessionStore, workspace: Workspace, *, events: EventSink,
                           tree_lock: Callable[[], AbstractContextManager[Any]], force: bool,
                           confirm: Callable[[Drift], bool] | None) -> None:
    """Finish the edits a killed run left half-applied (under ``tree_lock``: another session may be applying to this
    tree right now), then :func:`check_drift`."""
    from orchestrator.engine.session import applied_journal

    def recover() -> None:
        for entry in session.open_journal():
            with tree_lock():
                workspace.recover(entry, applied_journal(session, events))

    await anyio.to_thread.run_sync(recover)
    await check_drift(session, workspace, force=force, confirm=confirm)


def claim_for_resume(session: SessionStore, *, cwd: Path, retry_failed: bool, guidance: str,
                     ) -> tuple[tuple[SessionResult, SessionCompleted | None] | None, ResumeAction]:
    """Claim ``session`` for a resume from ``cwd`` (never two processes on one session) and say what the resume does:
    :func:`already_finished`'s answer and :func:`~orchestrator.engine.followup.resume_action`'s. A session started
    elsewhere, or running in another process, is refused (:class:`InputError`) and closed again."""
    try:
        if session.meta.cwd != str(cwd):
            raise InputError(f"session {session.id} was started in {session.meta.cwd}",
                             hint=f"resume it from there: -C {session.meta.cwd}")
        session.claim()
        finished = already_finished(session)
        return finished, resume_action(session.meta.status, finished and finished[0].steps,
                                       retry_failed=retry_failed, guidance=guidance)
    except BaseException:
        session.close()
        raise


def plan_state(session: SessionStore) -> dict[str, Any]:
    """``session.resumed``'s ``steps`` and ``states`` (the stored plan, and where each step stands), so a view shows
    the whole plan as it resumes; ``{}`` when the session has no plan yet."""
    plan = session.load_plan()
    if plan is None:
        return {}
    return {"steps": tuple(PlanStepInfo(id=s.id, role=s.role, goal=s.goal, depends_on=s.depends_on)
                           for s in plan.steps),
            "states": {s.id: session.step(s.id).status for s in plan.steps}}


def _shown(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return str(path)


class SessionApprovals:
    """A ``seams.PolicyGate`` around the real gate that persists "allow for this session" in the attached session."""

    def __init__(self, gate: PolicyGate) -> None:
        self.gate = gate
        self._session: SessionStore | None = None

    def evaluate(self, argv: Sequence[str], *, cwd: Path) -> GateVerdict:
        return self.gate.evaluate(argv, cwd=cwd)

    def remember_for_session(self, prefix: Sequence[str]) -> None:
        self.gate.remember_for_session(prefix)
        if self._session is not None:
            self._session.add_session_approval(prefix)

    def attach(self, session: SessionStore | None) -> None:
        """Record into ``session`` from now on (None: stop), after restoring the approvals it already has."""
        self._session = session
        if session is not None:
            for prefix in session.session_approvals():
                self.gate.remember_for_session(prefix)


class BudgetGuard:
    """``budget_usd`` over the whole session: raises :class:`~orchestrator.core.errors.BudgetExceededError` once its
    total cost reaches it (:func:`~orchestrator.core.errors.check_budget`, the gateway's rule too)."""

    def __init__(self, budget_usd: float) -> None:
        self.budget_usd = budget_usd

    def check(self, session: SessionStore) -> None:
        check_budget(self.budget_usd, session.usage().cost_usd, session_id=session.id)
