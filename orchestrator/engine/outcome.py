"""How a session ends: :class:`SessionResult` (what a run or resume returns) and the two ways to get one,
:func:`finish` (record the status with its ``session.completed``) and :func:`guarded` (an error or a cancellation
is recorded as the session's end before it propagates)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from orchestrator.core.errors import OrchestrateError, TaskFailedError
from orchestrator.core.events import ErrorEvent, EventSink, SessionCompleted, UsageTotals
from orchestrator.core.plan import StepStatus
from orchestrator.engine.delivery import delivered_branch
from orchestrator.store.sessions import SessionStore

__all__ = ["SessionResult", "finish", "guarded"]

EndStatus = Literal["succeeded", "failed", "interrupted"]


@dataclass(frozen=True)
class SessionResult:
    session_id: str
    status: EndStatus
    steps: dict[str, StepStatus]
    usage: UsageTotals
    reasons: dict[str, str] = field(default_factory=dict)  # why each failed step failed (or skipped one was skipped)
    already_finished: bool = False  # a resume found nothing left to run (the session had ended before)
    branch: str | None = None  # apply.mode "branch": the branch holding the session's commits

    @property
    def exit_code(self) -> int:
        """DESIGN.md: 0 success, 1 a step failed, 130 interrupted (quitting at the plan review changed nothing: 0)."""
        return {"succeeded": 0, "failed": 1}.get(self.status, 0 if not self.steps else 130)

    def raise_for_status(self) -> None:
        """For Python callers that prefer an exception: :class:`~orchestrator.core.errors.TaskFailedError` (exit code
        1) naming each failed step and why when the session failed; nothing otherwise (an interrupted session is not
        a failure: ``status`` says so)."""
        if self.status != "failed":
            return
        failed = [sid for sid, status in self.steps.items() if status == "failed"] or list(self.reasons)
        detail = "; ".join(f"step {sid}: {self.reasons.get(sid, 'failed')}" for sid in failed)
        raise TaskFailedError(f"session {self.session_id} failed" + (f" ({detail})" if detail else ""))


def finish(session: SessionStore, events: EventSink, status: EndStatus, states: dict[str, Any]) -> SessionResult:
    """Record how ``session`` ended; its ``session.completed`` is committed with the status (resume reads it)."""
    with session.transaction():
        session.update_meta(status=status)
        usage = session.usage()
        events.emit(SessionCompleted(status=status, usage=usage, branch=delivered_branch(session.meta)))
    reasons = {step_id: session.step(step_id).reason for step_id, s in states.items() if s in ("failed", "skipped")}
    return SessionResult(session_id=session.id, status=status, steps=states, usage=usage, reasons=reasons,
                         branch=delivered_branch(session.meta))


async def guarded(session: SessionStore, events: EventSink, work: Awaitable[SessionResult]) -> SessionResult:
    """Await ``work``; on an error or cancellation, record how the session ended before it propagates."""
    try:
        return await work
    except OrchestrateError as exc:
        events.emit(ErrorEvent(message=exc.render()))
        finish(session, events, "failed", {})
        raise
    except (anyio.get_cancelled_exc_class(), KeyboardInterrupt):
        finish(session, events, "interrupted", {})  # synchronous: the cancellation cannot cut it short
        raise
