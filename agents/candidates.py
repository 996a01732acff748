"""Sampled candidate changes for one coder step, selected by the project's checks (``coder.candidates``).

With ``coder.candidates = K > 1`` a coder step first makes up to K independent attempts at the step from the same
base, one after another in the step's staging: each attempt starts from the base (the previous one is reverted with
``git apply --reverse`` of its own diff), so no attempt sees another's files. Every attempt that changed something is
run through the checks. The first attempt that passes is taken and sampling stops (a later one could only tie on the
checks, at up to K times the cost). When none passes, the attempt kept is the one with the fewest failing checks,
then the fewest changed lines (then the earliest); the step's usual feedback rounds continue from its conversation.
The chosen change then goes through the reviewer gate as usual.

Attempt 1 runs at the coder role's own temperature (the embedded model's default is greedy decoding, its most
reliable single try); the others sample at :data:`SAMPLING_TEMPERATURE`, or the role's temperature when higher, so
that they differ. Attempts run one at a time: they share the staging, and a local model serves one request at a time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.loop import Stalled, TurnLimit
from orchestrator.core.errors import OrchestrateError

if TYPE_CHECKING:
    from agents.coder import Coder
    from agents.tools import ToolBox
    from agents.validator import ValidationResult
    from orchestrator.core.services import StagingTree

__all__ = ["SAMPLING_TEMPERATURE", "Attempt", "MakeCoder", "attempt_temperature", "changed_lines", "sample"]

SAMPLING_TEMPERATURE = 0.7

# (temperature (None: the role's), seed (None: unseeded)) → a fresh coder
MakeCoder = Callable[[float | None, int | None], "tuple[Coder, ToolBox]"]
RunChecks = Callable[[], Awaitable["ValidationResult"]]


@dataclass(frozen=True)
class Attempt:
    """One candidate: its coder (conversation and toolbox), what it changed, and its checks (``None``: not checked)."""

    index: int
    coder: Coder
    tools: ToolBox
    summary: str
    diff: str
    checks: ValidationResult | None = None
    failure: str = ""  # why it has no checked change (did not finish, changed nothing)

    @property
    def passed(self) -> bool:
        return self.checks is not None and self.checks.passed

    @property
    def blocked(self) -> bool:
        return self.checks is not None and self.checks.blocked

    def rank(self) -> tuple[int, int, int, int]:
        """Smaller is better: passed, then checked at all, then fewer failing checks, fewer changed lines, earlier."""
        if self.checks is None:
            return (2, 0, 0, self.index)
        return (0 if self.checks.passed else 1, len(self.checks.failing), changed_lines(self.diff), self.index)


def attempt_temperature(configured: float | None, index: int) -> float | None:
    """The sampling temperature of attempt ``index`` (0-based); ``None`` means the role's own setting."""
    if index == 0:
        return None
    return max(configured or 0.0, SAMPLING_TEMPERATURE)


def changed_lines(diff: str) -> int:
    """Added plus removed lines of a unified diff (file headers not counted)."""
    return sum(
        1 for line in diff.splitlines()
        if line[:1] in "+-" and line and not line.startswith(("+++ ", "--- "))
    )


async def sample(
    count: int, *, staging: StagingTree, make_coder: MakeCoder, run_checks: RunChecks, temperature: float | None = None
) -> Attempt:
    """Make up to ``count`` attempts (see the module docstring); the chosen one's change is left in ``staging``.

    ``temperature`` is the coder role's configured one. An attempt whose checks could not run (blocked) is returned
    at once: no other attempt could fare better.
    """
    best: Attempt | None = None
    for index in range(count):
        # A seed of its own for each sampled attempt: their first messages are the same, and without it the second
        # sample's calls were answered with the first one's kept replies (engine.replay), the same candidate again.
        made = make_coder(attempt_temperature(temperature, index), index or None)
        attempt = await _attempt(index, staging, made, run_checks)
        if attempt.passed or attempt.blocked:
            return attempt
        if best is None or attempt.rank() < best.rank():
            best = attempt
        _apply(staging, staging.diff(), reverse=True)  # everything since the base, files its checks wrote included
    if best is None:
        raise ValueError("sample() needs count >= 1")
    _apply(staging, best.diff, reverse=False)
    return best


async def _attempt(index: int, staging: StagingTree, made: tuple[Coder, ToolBox], run_checks: RunChecks) -> Attempt:
    coder, tools = made
    summary, failure, finished = "", "", True
    try:
        summary = (await coder.run()).summary
    except TurnLimit as exc:
        failure, finished = f"the coder did not finish within {exc.turns} turns", False
    except Stalled as exc:
        summary = f"stopped after {exc.doing}"
        failure = f"the coder stopped after {exc.doing} without changing anything"
    diff = staging.diff()
    if not finished or not diff.strip():  # out of turns fails a round in the single-candidate pipeline too
        return Attempt(index, coder, tools, summary, diff, failure=failure or "the coder changed nothing")
    return Attempt(index, coder, tools, summary, diff, checks=await run_checks())


def _apply(staging: StagingTree, diff: str, *, reverse: bool) -> None:
    """Apply (or revert) ``diff`` to the staging's files; diffs are relative to the staging's tree top."""
    if not diff.strip():
        return
    try:
        # on the staging's registered git dir, hardened (orchestrator.workspace.gitrun)
        staging.apply_own(diff, reverse=reverse)
    except OrchestrateError as exc:
        what = "revert" if reverse else "restore"
        raise OrchestrateError(f"could not {what} a candidate change in {staging.tree}: {exc.message}") from exc
