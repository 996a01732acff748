"""What a step reports while it works, for the people watching: its phase (``step.phase``), the action its coder just
took, and the commands that were refused (``command.refused``).

The pipeline (:mod:`agents.pipeline`) calls :class:`StepActivity` at its natural points; the coder's toolbox reports
each action through its ``on_action`` callback; :class:`ReportedCommands` wraps the session's command runner so a
refusal (by the policy or by the user) gets its own event after ``command.decided``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from agents.actions import (
    Action,
    ApplyPatchAction,
    DoneAction,
    EditAction,
    ListFilesAction,
    McpAction,
    ReadFileAction,
    RunAction,
    SearchAction,
    WriteFileAction,
)
from orchestrator.core.events import CommandRefused, EventSink, Phase, StepPhase

if TYPE_CHECKING:
    from orchestrator.core.services import CommandOutcome, Commands

__all__ = ["StepActivity", "ReportedCommands", "describe_action"]

_DETAIL_CHARS = 80  # one table cell: the rest of a long command is not what a glance needs
_PATCHED_FILE = re.compile(r"^\+\+\+ (?:b/)?(\S+)", re.MULTILINE)


def describe_action(action: Action) -> str:
    """A few words for what ``action`` does: ``edit bank.py``, ``run pytest -q``, ``read README.md``."""
    if isinstance(action, RunAction):
        text = "run " + " ".join(action.command.split())
    elif isinstance(action, (EditAction, WriteFileAction)):
        text = f"{'edit' if isinstance(action, EditAction) else 'write'} {action.path}"
    elif isinstance(action, ApplyPatchAction):
        text = "patch " + (", ".join(dict.fromkeys(_PATCHED_FILE.findall(action.diff))) or "files")
    elif isinstance(action, ReadFileAction):
        text = f"read {action.path}"
    elif isinstance(action, SearchAction):
        text = f"search {action.pattern!r}" + (f" in {action.path}" if action.path not in ("", ".") else "")
    elif isinstance(action, ListFilesAction):
        text = f"list {action.path}"
    elif isinstance(action, McpAction):
        text = f"mcp {action.server + '.' if action.server else ''}{action.tool}"
    elif isinstance(action, DoneAction):
        text = "done"
    else:
        text = type(action).__name__
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


class StepActivity:
    """Emits one step's ``step.phase`` events. A phase and detail equal to the last one sent is not sent again."""

    def __init__(self, events: EventSink, step_id: str) -> None:
        self._events = events
        self._step_id = step_id
        self._last: tuple[str, str] | None = None

    def phase(self, phase: Phase, detail: str = "") -> None:
        if self._last == (phase, detail):
            return
        self._last = (phase, detail)
        self._events.emit(StepPhase(step_id=self._step_id, phase=phase, detail=detail))

    def acted(self, action: Action) -> None:
        """The toolbox's ``on_action``: the coder is about to carry out ``action``."""
        self.phase("acting", describe_action(action))


class ReportedCommands:
    """The session's command runner, plus a ``command.refused`` event for each command that did not run because the
    policy forbade it or the user declined it (the runner itself reports ``command.decided``/``command.executed``)."""

    def __init__(self, inner: Commands, events: EventSink) -> None:
        self._inner = inner
        self._events = events

    async def run(self, step_id: str, command: str, *, cwd: Path, workspace: Path,
                  timeout_s: float, idle_timeout_s: float | None = None) -> CommandOutcome:
        outcome = await self._inner.run(step_id, command, cwd=cwd, workspace=workspace, timeout_s=timeout_s,
                                        idle_timeout_s=idle_timeout_s)
        if outcome.refused:
            by = "policy" if outcome.decision == "forbidden" else "user"
            self._events.emit(CommandRefused(step_id=step_id, argv=outcome.argv, by=by, reason=outcome.reason))
        return outcome
