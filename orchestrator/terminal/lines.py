"""The lines printed above the live table (into the scrollback) for notable events: edits applied, the reviewer's
verdict and comments, the commands the agents ran with their exit code (and the output tail of a failing one),
refused commands, failure and skip reasons, warnings.

A console that is not a terminal (CI logs, pipes) has no live table, so it also gets one line per transition (the plan,
each step's start and end); those lines keep their established format, which scripts and tests read.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from orchestrator.core.events import Event
from orchestrator.core.text import tail_lines

__all__ = ["event_line", "command_text"]

_STYLE = {"succeeded": "green", "failed": "red", "skipped": "dim"}
_COMMENTS = 3  # reviewer comments shown (the rest are in the review.completed event)
_COMMENT_CHARS = 160


def command_text(argv: Sequence[str]) -> str:
    """The command as the agent wrote it: the script of ``bash -c SCRIPT``, else the argv as a shell would read it."""
    if len(argv) == 3 and argv[0] in ("bash", "sh") and argv[1] in ("-c", "-lc"):
        return argv[2]
    return shlex.join(argv)


def event_line(event: Event, *, terminal: bool) -> str | None:
    """The rich-markup line(s) to print above the live table for ``event``, or None."""
    return _line(event, terminal=terminal) or (None if terminal else _log_line(event))


def _line(event: Event, *, terminal: bool) -> str | None:
    from rich.markup import escape

    if event.type == "edit.applied":
        return f"[green]✓[/] {escape(event.step_id)}: applied {escape(', '.join(event.files))}"
    if event.type == "review.completed":
        comments = [c if len(c) <= _COMMENT_CHARS else c[: _COMMENT_CHARS - 1] + "…" for c in event.comments]
        hidden = len(comments) - _COMMENTS
        shown = "".join(f"\n    [dim]- {escape(c)}[/]" for c in comments[:_COMMENTS])
        return (f"[cyan]review[/] {escape(event.step_id)}: {escape(event.verdict)}{shown}"
                + (f"\n    [dim](+{hidden} more)[/]" if hidden > 0 else ""))
    if event.type == "validation.completed":
        return f"[cyan]checks[/] {escape(event.step_id)}: {'passed' if event.passed else '[red]failed[/]'}"
    if event.type == "command.executed" and terminal:
        mark = "[green]exit 0[/]" if event.exit_code == 0 else f"[red]exit {event.exit_code}[/]"
        return f"[dim]{escape(event.step_id)} $[/] {escape(command_text(event.argv))} {mark}" + _tail(event.output_tail)
    if event.type == "command.refused":
        by = "by the policy" if event.by == "policy" else "by you"
        reason = f": {escape(event.reason)}" if event.reason else ""
        return f"[dim]{escape(event.step_id)} $[/] {escape(command_text(event.argv))} [yellow]refused {by}[/]{reason}"
    if event.type == "step.completed" and event.status != "succeeded" and event.reason and terminal:
        first, *more = event.reason.splitlines()
        mark = "[red]✗[/]" if event.status == "failed" else "[dim]-[/]"
        return f"{mark} {escape(event.step_id)} {event.status}: {escape(first)}" + _tail("\n".join(more))
    if event.type == "warning":
        return f"[yellow]warning:[/] {escape(event.message)}"
    return None  # an error is printed by the CLI itself, once


def _tail(text: str | None) -> str:
    """Output lines under a command or a failure reason, indented and dim."""
    from rich.markup import escape

    if not text:
        return ""
    return "".join(f"\n    [dim]{escape(line)}[/]" for line in tail_lines(text, 5))


def _log_line(event: Event) -> str | None:
    """Progress lines for a console that is not a terminal (CI logs, pipes): what the live table shows otherwise."""
    from rich.markup import escape

    if event.type == "plan.created":
        steps = "".join(
            f"\n  {escape(s.id)} ({s.role}{', after ' + ', '.join(s.depends_on) if s.depends_on else ''}): "
            f"{escape(s.goal)}" for s in event.steps)
        count = f"{len(event.steps)} step{'s' if len(event.steps) != 1 else ''}"
        return f"plan, {count}: {escape(event.summary)}{steps}" if event.summary else f"plan, {count}:{steps}"
    if event.type == "step.started":
        return f"[yellow]▶[/] {escape(event.step_id)} ({event.role}, {escape(event.model)})"
    if event.type == "step.completed":
        reason = f" ({escape(event.reason.splitlines()[0])})" if event.reason else ""
        return f"[{_STYLE.get(event.status, '')}]■[/] {escape(event.step_id)}: {event.status}{reason}"
    if event.type == "command.executed":
        return (f"[dim]$ {escape(shlex.join(event.argv))} → {event.decision}, exit {event.exit_code}[/]"
                + _tail(event.output_tail))
    return None
