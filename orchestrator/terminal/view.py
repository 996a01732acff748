"""The interactive terminal: a live view of the DAG, the plan review and the diff review (rich).

:class:`LiveView` is an :class:`~orchestrator.core.events.EventSink`: it keeps a :class:`DagView` (which renders itself)
up to date from the events and prints notable events above the live table. :class:`ConsoleReviewer` asks the user
about the plan (accept / edit the task / quit) and about each step's diff; it pauses the live view while asking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from orchestrator.core.events import Event
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.session import PlanDecision
from orchestrator.terminal.prompting import ask_in_thread

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

__all__ = ["StepRow", "DagView", "LiveView", "ConsoleReviewer"]

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


class LiveView:
    """An event sink that shows the DAG live on ``console`` and prints edits, reviews, warnings and errors."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.view = DagView()
        self._live: Live | None = None
        self._lock = threading.RLock()

    def emit(self, event: Event) -> None:
        with self._lock:
            self.view.update(event)
            line = _line(event) or (None if self.console.is_terminal else _log_line(event))
            if line:
                # A log (file, pipe, CI) keeps each line whole; only a terminal wraps to its width.
                self.console.print(line, highlight=False, soft_wrap=not self.console.is_terminal)
            if event.type == "plan.created":
                self._start()
            elif event.type == "session.completed":
                self.stop()
            elif self._live is not None:
                self._live.refresh()

    def _start(self) -> None:
        from rich.live import Live

        if self._live is None and self.console.is_terminal:
            self._live = Live(self.view, console=self.console, refresh_per_second=4, transient=False)
            self._live.start()

    def stop(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None
        if self.view.rows and not self.console.is_terminal:
            self.console.print(self.view)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop redrawing while the user answers a prompt."""
        with self._lock:
            live = self._live
            if live is not None:
                live.stop()
            try:
                yield
            finally:
                if live is not None:
                    live.start()


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


class ConsoleReviewer:
    """Asks the user about the plan, about each step's diff, and for another command when a check cannot start
    (one question at a time)."""

    def __init__(self, console: Console, view: LiveView | None = None) -> None:
        self.console = console
        self.view = view
        self._asking = anyio.Lock()

    async def review_plan(self, plan: Plan, task: str) -> PlanDecision:
        async with self._asking:
            return await ask_in_thread(self._ask_plan, plan)

    def _ask_plan(self, plan: Plan) -> PlanDecision:
        from rich.prompt import Prompt

        self.console.print(plan)
        answer = Prompt.ask("Run this plan? [bold]a[/]ccept / [bold]e[/]dit the task / [bold]q[/]uit",
                            choices=["a", "e", "q"], default="a", console=self.console)
        if answer == "e":
            return PlanDecision("edit", Prompt.ask("New task", console=self.console))
        return PlanDecision("accept" if answer == "a" else "quit")

    async def review_diff(self, step: Step, diff: str) -> bool:
        async with self._asking:
            return await ask_in_thread(self._ask_diff, step, diff)

    async def fix_check(self, command: str, reason: str) -> str:
        """A check cannot start (``reason`` names it and the fix): the command to run instead, "" for no checks."""
        async with self._asking:
            return await ask_in_thread(self._ask_check, reason)

    def _ask_check(self, reason: str) -> str:
        from rich.markup import escape
        from rich.prompt import Prompt

        with self.view.paused() if self.view is not None else _nothing():
            self.console.print(f"[yellow]{escape(reason)}[/]", highlight=False, soft_wrap=True)
            return Prompt.ask("Enter another command, or leave empty to skip checks", default="",
                              show_default=False, console=self.console)

    def _ask_diff(self, step: Step, diff: str) -> bool:
        from rich.markup import escape
        from rich.prompt import Confirm
        from rich.syntax import Syntax

        with self.view.paused() if self.view is not None else _nothing():
            self.console.rule(f"step {escape(step.id)}: {escape(step.goal)}")
            self.console.print(Syntax(diff, "diff", word_wrap=True))
            return Confirm.ask("Apply this change to your working tree?", default=True, console=self.console)


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


@contextmanager
def _nothing() -> Iterator[None]:
    yield
