"""What the live table shows: :class:`DagView` (per-step rows, renders itself) and :func:`event_line`, the line
printed above the table for a notable event (the screen, :mod:`orchestrator.terminal.screen`, does the printing)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestrator.core.events import Event

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["StepRow", "DagView", "event_line"]

_STYLE = {"pending": "dim", "running": "yellow", "succeeded": "green", "failed": "red", "skipped": "dim"}


@dataclass
class StepRow:
    step_id: str
    role: str
    depends_on: tuple[str, ...] = ()
    status: str = "pending"
    model: str = ""
    tokens: int = 0
    started: float | None = None
    finished: float | None = None

    def elapsed(self, now: float) -> str:
        if self.started is None:
            return ""
        return f"{(self.finished or now) - self.started:.1f}s"


@dataclass
class DagView:
    """Per-step status, role, model, tokens and elapsed time; renders itself as a table."""

    rows: dict[str, StepRow] = field(default_factory=dict)
    cost_usd: float = 0.0

    def update(self, event: Event) -> None:
        now = time.monotonic()
        if event.type == "plan.created":
            self.rows = {s.id: StepRow(s.id, s.role, s.depends_on) for s in event.steps}
        elif event.type == "step.started" and event.step_id in self.rows:
            row = self.rows[event.step_id]
            row.status, row.model, row.started, row.finished = "running", event.model, now, None
        elif event.type == "step.completed" and event.step_id in self.rows:
            row = self.rows[event.step_id]
            row.status, row.finished = event.status, now if row.started is not None else None
        elif event.type == "usage":
            self.cost_usd += event.cost_usd
            if event.step_id in self.rows:
                self.rows[event.step_id].tokens += event.prompt_tokens + event.completion_tokens

    def __rich__(self) -> RenderableType:
        from rich.table import Table

        now = time.monotonic()
        table = Table(box=None, pad_edge=False, show_edge=False)
        for name in ("step", "role", "status", "model", "tokens", "elapsed", "after"):
            table.add_column(name, style="dim" if name in ("after", "model") else None)
        for row in self.rows.values():
            style = _STYLE.get(row.status, "")
            table.add_row(row.step_id, row.role, f"[{style}]{row.status}[/]", row.model,
                          str(row.tokens or ""), row.elapsed(now), ", ".join(row.depends_on))
        if self.cost_usd:
            table.caption = f"cost so far ${self.cost_usd:.4f}"
        return table


def event_line(event: Event, *, terminal: bool) -> str | None:
    """The rich-markup line to print above the live table for ``event``, or None. A console that is not a terminal
    (CI logs, pipes) has no live table, so it also gets one line per transition."""
    return _line(event) or (None if terminal else _log_line(event))


def _line(event: Event) -> str | None:
    from rich.markup import escape

    if event.type == "edit.applied":
        return f"[green]✓[/] {escape(event.step_id)}: applied {escape(', '.join(event.files))}"
    if event.type == "review.completed":
        return f"[cyan]review[/] {escape(event.step_id)}: {escape(event.verdict)}"
    if event.type == "validation.completed":
        return f"[cyan]checks[/] {escape(event.step_id)}: {'passed' if event.passed else '[red]failed[/]'}"
    if event.type == "warning":
        return f"[yellow]warning:[/] {escape(event.message)}"
    if event.type == "error":
        return None  # the CLI prints the error line itself, once
    return None


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
        return f"[{_STYLE.get(event.status, '')}]■[/] {escape(event.step_id)}: {event.status}"
    if event.type == "command.executed":
        import shlex

        return f"[dim]$ {escape(shlex.join(event.argv))} → {event.decision}, exit {event.exit_code}[/]"
    return None
