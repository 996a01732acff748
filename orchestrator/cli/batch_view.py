"""The terminal view of ``orchestrate batch``: a live progress display while it runs (done, running, failed, tokens,
ETA) and the summary table at the end. On a console that is not a terminal, one line a finished task instead."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.engine.batch.events import BatchEvent, BatchSummary
    from orchestrator.engine.batch.results import TaskResult

__all__ = ["ProgressSink", "summary_table"]

_MARK = {"succeeded": "[green]✓[/]", "failed": "[red]✗[/]", "error": "[red]![/]"}


class ProgressSink:
    """A :class:`~orchestrator.engine.batch.events.BatchSink` that draws the batch's progress on ``console``."""

    def __init__(self, console: Console, *, total: int) -> None:
        self._console = console
        self._live = console.is_terminal
        self._progress = Progress(
            TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[running]} running, [red]{task.fields[failed]} failed[/], "
                       "{task.fields[tokens]} tokens"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False,
            disable=not self._live)
        self._task = self._progress.add_task("batch", total=total, running=0, failed=0, tokens=0)
        self._running = self._failed = self._tokens = 0

    def __enter__(self) -> ProgressSink:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def emit(self, event: BatchEvent) -> None:
        if event.type == "batch.task.started":
            self._running += 1
        elif event.type in ("batch.task.completed", "batch.task.interrupted"):
            self._running -= 1
            if event.type == "batch.task.completed":
                self._finished(event.result)
        elif event.type == "batch.completed":
            # tasks finished by earlier runs count as done from the start
            self._progress.update(self._task, completed=event.summary.total - event.summary.not_run
                                  - event.summary.interrupted)
            return
        self._progress.update(self._task, running=self._running, failed=self._failed, tokens=self._tokens)

    def skip(self, count: int) -> None:
        self._progress.advance(self._task, count)

    def _finished(self, result: TaskResult) -> None:
        self._failed += result.status != "succeeded"
        self._tokens += result.usage.prompt_tokens + result.usage.completion_tokens
        self._progress.advance(self._task)
        line = f"{_MARK[result.status]} {escape(result.id)} {result.status} ({result.duration_s:.1f}s)"
        if result.error:
            line += f": {escape(result.error)}"
        self._progress.console.print(line, highlight=False, soft_wrap=True)


def summary_table(summary: BatchSummary, results: dict[str, TaskResult], order: Sequence[str], out: Path) -> Table:
    """One row a task of the tasks file (in its order), then the totals in the caption."""
    table = Table(box=None, pad_edge=False, caption_justify="left", caption=(
        f"{summary.succeeded}/{summary.total} succeeded, {summary.failed} failed, {summary.errors} errors"
        + (f", {summary.not_run} not run" if summary.not_run else "")
        + (" (batch budget reached)" if summary.budget_exhausted else "")
        + f"; {summary.usage.prompt_tokens + summary.usage.completion_tokens} tokens, ${summary.usage.cost_usd:.4f}"
        + f"; {summary.tasks_per_minute:g} tasks/min. Results: {out / 'results.jsonl'}"))
    for name in ("id", "status", "check", "files", "tokens", "time", "error"):
        table.add_column(name, no_wrap=name != "error", overflow="fold")
    for task_id in order:
        r = results.get(task_id)
        if r is None:
            table.add_row(escape(task_id), "[dim]not run[/]", "", "", "", "", "")
            continue
        check = "" if r.check_passed is None else ("pass" if r.check_passed else "[red]fail[/]")
        table.add_row(escape(r.id), f"{_MARK[r.status]} {r.status}", check, str(len(r.files_changed)),
                      str(r.usage.prompt_tokens + r.usage.completion_tokens), f"{r.duration_s:.1f}s",
                      escape(r.error or ""))
    return table
