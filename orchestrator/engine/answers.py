"""The user's answers that keep a step going (interactive runs): at its diff and when it fails.

- At the diff, :meth:`StepAnswers.settle_diff` asks the :class:`~orchestrator.engine.session.DiffReviewer` until the
  user applies or rejects the change. "Change it: ..." (a :class:`~orchestrator.core.contracts.DiffDecision` of kind
  ``change``) sends the guidance back to the same step's coder, which continues its conversation in the same staging
  and proposes a new diff; at most ``max_change_requests`` times, then the step fails (a bound, so a session always
  ends).
- When a step fails, :meth:`StepAnswers.after_failure` asks the
  :class:`~orchestrator.core.contracts.StepFailureHandler`: retry (with guidance), skip, or stop. Without a handler
  (``exec``) a failed step just fails. After "stop", :attr:`StepAnswers.stopped` is set: the scheduler starts no
  other step and no other failure is asked about.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from orchestrator.core.contracts import (
    DiffDecision,
    FailureDecision,
    StepFailure,
    StepFailureHandler,
    StepOutcome,
)
from orchestrator.core.plan import Step

if TYPE_CHECKING:
    from orchestrator.engine.session import DiffReviewer

__all__ = ["StepAnswers"]

Rerun = Callable[[str], Awaitable[StepOutcome]]  # the same step's coder again, with the user's guidance
REJECTED = "the user rejected the change"  # the step's failure reason when the user said so at its diff


class StepAnswers:
    """See the module docstring. Either collaborator may be None (nobody to ask)."""

    def __init__(self, diff_reviewer: DiffReviewer | None = None, failure_handler: StepFailureHandler | None = None,
                 *, max_change_requests: int = 3) -> None:
        self.diff_reviewer = diff_reviewer
        self.failure_handler = failure_handler
        self.max_change_requests = max_change_requests
        self.stopped = False

    async def settle_diff(self, step: Step, outcome: StepOutcome, rerun: Rerun) -> StepOutcome:
        """The outcome to apply (its diff may be empty: the coder undid its change), or the step's failure."""
        if self.diff_reviewer is None:
            return outcome
        changes = 0
        while True:
            decision = DiffDecision.of(await self.diff_reviewer.review_diff(step, outcome.diff))
            if decision.kind == "apply":
                return outcome
            if decision.kind == "reject":
                return StepOutcome(status="failed", summary=outcome.summary, reason=REJECTED)
            if changes >= self.max_change_requests:
                return StepOutcome(status="failed", summary=outcome.summary,
                                   reason=f"the user still asked for changes after {changes} "
                                          f"(review.max_change_requests = {self.max_change_requests})")
            changes += 1
            outcome = await rerun(decision.guidance.strip() or "Change it: the user did not accept this diff.")
            if outcome.status != "succeeded":
                return StepOutcome(status="failed", summary=outcome.summary,
                                   reason=outcome.reason or "the step failed after the user's change request")
            if not outcome.diff.strip():
                return outcome

    async def after_failure(self, step: Step, outcome: StepOutcome, attempt: int) -> FailureDecision | None:
        """What to do about ``step``'s failure: None (nobody to ask, the session is stopping, or the user rejected its
        change a moment ago: they decided) means it fails."""
        if self.failure_handler is None or self.stopped or outcome.reason.startswith(REJECTED):
            return None
        decision = await self.failure_handler.on_step_failed(StepFailure(
            step_id=step.id, role=step.role, goal=step.goal, reason=outcome.reason or "the step failed",
            attempt=attempt))
        if decision.kind == "stop":
            self.stopped = True
        return decision
