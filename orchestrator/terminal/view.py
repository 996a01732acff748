"""What the live table shows: :class:`DagView` (per-step rows, renders itself) and :func:`event_line`, the line
printed above the table for a notable event (the screen, :mod:`orchestrator.terminal.screen`, does the printing).

A row shows the step's id, role, phase (with a spinner while it runs: drafting, acting, reviewing, checking, waiting
for you, applying; then succeeded, failed or skipped), elapsed time, tokens, cost, and in the last column its title
with its latest activity under it (``edit bank.py``, ``pytest -q → exit 1``). The last column takes the width the
others leave and wraps, so a title is never cut, even at 80 columns. Before the plan exists the view shows that the
planner is working.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestrator.core.events import Event
from orchestrator.terminal.lines import command_text, event_line

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.text import Text

__all__ = ["StepRow", "DagView", "event_line", "format_tokens", "format_duration"]

_STYLE = {"pending": "dim", "running": "yellow", "succeeded": "green", "failed": "red", "skipped": "dim"}
_PHASE_TEXT = {"waiting": "waiting for you"}
_WIDE = 100  # from this width the table has one line a step (its title column gets 40 columns or more)
_PLANNING = "the planner is reading the repository and splitting the task into steps"


def format_tokens(tokens: int) -> str:
    """``980``, ``12.3k``, ``1.2M``; empty for none."""
    if not tokens:
        return ""
    if tokens < 1000:
        return str(tokens)
    if tokens < 1_000_000:
        return f"{tokens / 1000:.1f}k"
    return f"{tokens / 1_000_000:.1f}M"


def format_duration(seconds: float) -> str:
    """``4.2s``, ``3m05s``, ``1h02m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


@dataclass
class StepRow:
    """One step as the table shows it; ``phase``/``detail`` are what it is doing now (while ``running``)."""

    step_id: str
    role: str
    depends_on: tuple[str, ...] = ()
    status: str = "pending"
    model: str = ""
    tokens: int = 0
    started: float | None = None
    finished: float | None = None
    title: str = ""
    cost_usd: float = 0.0
    phase: str = ""
    detail: str = ""  # the last activity: an action, a command and its exit code, the review's verdict
    reason: str = ""  # why it failed or was skipped

    def elapsed(self, now: float) -> str:
        if self.started is None:
            return ""
        return format_duration((self.finished or now) - self.started)

    def state_text(self) -> str:
        if self.status != "running":
            return self.status
        return _PHASE_TEXT.get(self.phase, self.phase or "running")


@dataclass
class DagView:
    """Per-step rows kept up to date from the session's events; renders itself as a table (``__rich__``)."""

    rows: dict[str, StepRow] = field(default_factory=dict)
    cost_usd: float = 0.0
    tokens: int = 0
    planning_since: float | None = None  # session.started, until plan.created: the planner is working
    started: float | None = None

    def update(self, event: Event) -> None:
        now = time.monotonic()
        if event.type in ("session.started", "session.resumed"):
            self.started = self.started or now
            self.planning_since = now if event.type == "session.started" else None
            if event.type == "session.resumed" and event.steps:  # the stored plan, each step where it stands
                states = event.states or {}
                self.rows = {s.id: StepRow(s.id, s.role, s.depends_on, title=s.goal,
                                           status=_resumed(states.get(s.id, "pending"))) for s in event.steps}
        elif event.type == "plan.created":
            self.planning_since = None
            self.rows = {s.id: StepRow(s.id, s.role, s.depends_on, title=s.goal) for s in event.steps}
        elif event.type == "usage":
            self.cost_usd += event.cost_usd
            self.tokens += event.prompt_tokens + event.completion_tokens
            if event.step_id in self.rows:
                row = self.rows[event.step_id]
                row.tokens += event.prompt_tokens + event.completion_tokens
                row.cost_usd += event.cost_usd
        else:
            step_id = getattr(event, "step_id", None)
            if isinstance(step_id, str) and step_id in self.rows:
                self._update_row(self.rows[step_id], event, now)

    def _update_row(self, row: StepRow, event: Event, now: float) -> None:
        if event.type == "step.started":
            row.status, row.model, row.started, row.finished = "running", event.model, now, None
            row.phase, row.detail, row.reason = "", "", ""
        elif event.type == "step.completed":
            row.status, row.finished = event.status, now if row.started is not None else None
            row.reason = (event.reason or "").split("\n", 1)[0]
        elif event.type == "step.phase":
            row.phase, row.detail = event.phase, event.detail or row.detail
        elif event.type == "command.decided" and event.decision == "prompt":
            row.phase, row.detail = "waiting", f"allow `{command_text(event.argv)}`?"
        elif event.type == "command.executed":
            if row.phase == "waiting":
                row.phase = "acting"
            row.detail = f"{command_text(event.argv)} → exit {event.exit_code}"
        elif event.type == "command.refused":
            if row.phase == "waiting":
                row.phase = "acting"
            row.detail = f"{command_text(event.argv)} → refused"
        elif event.type == "review.completed":
            row.detail = f"review: {event.verdict}"
        elif event.type == "validation.completed":
            row.detail = "checks passed" if event.passed else "checks failed"
        elif event.type == "edit.applied":
            row.detail = "applied " + ", ".join(event.files)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        """A table with one line a step when the title column would get at least 40 columns; else each step is a
        status line with its title and activity wrapped under it (nothing is cut at 80 columns)."""
        now = time.monotonic()
        if options.max_width >= _WIDE:
            yield self._table(now)
        else:
            yield from self._stacked(now)

    def _table(self, now: float) -> RenderableType:
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, show_edge=False)
        for name in ("step", "role", "phase", "time", "tokens", "cost"):
            table.add_column(name, no_wrap=True, justify="right" if name in ("time", "tokens", "cost") else "left")
        table.add_column("title / activity", ratio=1, overflow="fold")
        if not self.rows and self.planning_since is not None:
            table.add_row("plan", "planner", Spinner("dots", text=Text("planning", style="yellow")),
                          format_duration(now - self.planning_since), format_tokens(self.tokens),
                          _cost(self.cost_usd), Text(_PLANNING, style="dim"))
        for row in self.rows.values():
            table.add_row(row.step_id, row.role, _state(row), row.elapsed(now), format_tokens(row.tokens),
                          _cost(row.cost_usd), _title(row))
        if self.tokens or self.cost_usd:
            table.caption = self._total()
        return table

    def _stacked(self, now: float) -> Iterator[RenderableType]:
        from rich.padding import Padding
        from rich.spinner import Spinner
        from rich.text import Text

        if not self.rows and self.planning_since is not None:
            facts = _facts("planner", format_duration(now - self.planning_since), self.tokens, self.cost_usd)
            yield Spinner("dots", text=Text.assemble(("planning", "yellow"), facts))
            yield Padding(Text(_PLANNING, style="dim"), (0, 0, 0, 4))
        width = min(max((len(r.step_id) for r in self.rows.values()), default=4), 16)  # ids line up
        for row in self.rows.values():
            head = Text.assemble((f"{row.step_id:<{width}}", "bold"), " ")
            state = _state(row)
            facts = _facts(row.role, row.elapsed(now), row.tokens, row.cost_usd)
            if isinstance(state, Spinner):
                state.text = Text.assemble(state.text, facts)  # type: ignore[arg-type]
                yield _Beside(head, state)
            else:
                yield Text.assemble(head, state, facts)  # type: ignore[arg-type]
            yield Padding(_title(row), (0, 0, 0, 4))
        if self.tokens or self.cost_usd:
            yield Text(self._total(), style="dim")

    def _total(self) -> str:
        elapsed = f" · {format_duration(time.monotonic() - self.started)}" if self.started is not None else ""
        return f"{format_tokens(self.tokens)} tokens · ${self.cost_usd:.4f} so far{elapsed}"


class _Beside:
    """``left`` then ``right`` on one line (a spinner after the step id)."""

    def __init__(self, left: RenderableType, right: RenderableType) -> None:
        self.left, self.right = left, right

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        from rich.table import Table

        grid = Table.grid()
        grid.add_column(no_wrap=True)
        grid.add_column()
        grid.add_row(self.left, self.right)
        yield grid


def _facts(role: str, elapsed: str, tokens: int, cost_usd: float) -> Text:
    from rich.text import Text

    parts = [role, elapsed, f"{format_tokens(tokens)} tokens" if tokens else "", _cost(cost_usd)]
    return Text("  " + "  ".join(p for p in parts if p), style="dim")


def _resumed(state: str) -> str:
    """A stored step state as the table shows it before the resumed run reaches it (one in flight runs again)."""
    return "pending" if state == "running" else state


def _state(row: StepRow) -> RenderableType:
    from rich.spinner import Spinner
    from rich.text import Text

    style = "bold magenta" if row.phase == "waiting" and row.status == "running" else _STYLE.get(row.status, "")
    text = Text(row.state_text(), style=style)
    return Spinner("dots", text=text, style=style) if row.status == "running" else text


def _title(row: StepRow) -> RenderableType:
    from rich.text import Text

    text = Text(row.title)
    note = row.reason if row.status in ("failed", "skipped") and row.reason else row.detail
    if note:
        text.append("\n" + note, style="red" if row.status == "failed" else "dim")
    return text


def _cost(cost_usd: float) -> str:
    return f"${cost_usd:.4f}" if cost_usd else ""
