"""What a run needs from a user interface, as ports (issue 13: "the CLI passes its UI ports in").

The engine asks a person through these and nothing else: the command :class:`~orchestrator.core.contracts.Approver`
(commands and MCP tool calls alike), the :class:`PlanReviewer`, the :class:`DiffReviewer`, the
:class:`~orchestrator.core.contracts.StepFailureHandler` and the :class:`CheckFixer`; and it tells the interface what
happens through an :class:`~orchestrator.core.events.EventSink` (the live view). :class:`UiPorts` bundles them.

The terminal's implementations are built by :func:`orchestrator.terminal.ports.terminal_ports`; the CLI passes them
to :meth:`orchestrator.api.Orchestrator.from_config` (``ports=``), and :mod:`orchestrator.compose` wires whatever it
is given, so compose never imports the terminal. Tests pass scripted ports (:mod:`orchestrator.testing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from orchestrator.core.events import EventSink, FanoutSink

if TYPE_CHECKING:
    from orchestrator.core.contracts import Approver, DiffDecision, StepFailureHandler
    from orchestrator.core.plan import Plan, Step

__all__ = ["PlanDecision", "PlanReviewer", "DiffReviewer", "CheckFixer", "UiPorts"]


@dataclass(frozen=True)
class PlanDecision:
    """The user's answer to a plan: ``accept`` it, ``edit`` the task (``task``: the new one) and plan again, or
    ``quit``."""

    action: Literal["accept", "edit", "quit"]
    task: str = ""  # the edited task, with "edit"


class PlanReviewer(Protocol):
    """Shown each plan before it runs (interactive runs)."""

    async def review_plan(self, plan: Plan, task: str) -> PlanDecision: ...


class DiffReviewer(Protocol):
    """The user's last word on a step's change before it reaches the working tree (interactive runs): a
    :class:`~orchestrator.core.contracts.DiffDecision` (apply / reject / change with guidance), or a bool (True =
    apply, False = reject) for reviewers written before the "change it" answer."""

    async def review_diff(self, step: Step, diff: str) -> bool | DiffDecision: ...


class CheckFixer(Protocol):
    """Asks the user for another command when a check cannot start (interactive runs)."""

    async def fix_check(self, command: str, reason: str) -> str:
        """The command to run instead; empty: run no checks for the rest of the session."""
        ...


@dataclass(frozen=True)
class UiPorts:
    """The ports a front end offers a run; each None is "nobody to ask": the non-interactive default.

    * ``approver``: commands (and MCP tool calls) the policy gate wants approved; None: the non-interactive approver
      (:class:`policies.approval.NonInteractiveApprover`: what ``exec`` does, driven by the approval policy).
    * ``plan_reviewer``: each plan before it runs; None: plans run as made.
    * ``diff_reviewer``: each step's diff before it is applied; used only when ``review.user_approves_diff`` is on
      and the approval policy is not ``never``; None: diffs are applied once the reviewer agent approves.
    * ``failure_handler``: a failed step (retry / skip / stop); None: it just fails.
    * ``check_fixer``: a check command that cannot start; None: the step whose checks cannot start fails.
    * ``events``: the interface's own event sink (the live view), given every event besides the caller's ``events``.
    """

    approver: Approver | None = None
    plan_reviewer: PlanReviewer | None = None
    diff_reviewer: DiffReviewer | None = None
    failure_handler: StepFailureHandler | None = None
    check_fixer: CheckFixer | None = None
    events: EventSink | None = None

    def joined(self, events: EventSink | None) -> EventSink | None:
        """A caller's ``events`` and this interface's sink, whichever there are (both: each gets every event)."""
        if events is None or self.events is None:
            return events if self.events is None else self.events
        return FanoutSink(events, self.events)
