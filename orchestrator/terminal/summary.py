"""The end summary of an interactive run: the files changed (with added/removed line counts), each step with its
status (and why, when it failed or was skipped), the usage (tokens, cost, time), and what to do next.

:func:`read_summary` gathers it from the session store after the run (the edits' journal is the record of what
reached the working tree); :class:`RunSummary` renders itself, at any width (nothing is cut: long text wraps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestrator.core.events import UsageTotals
from orchestrator.engine.delivery import delivered_branch, delivery_mode
from orchestrator.terminal.view import format_duration, format_tokens

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console, ConsoleOptions, RenderableType

    from orchestrator.engine.session import SessionResult
    from orchestrator.store.sessions import SessionStore

__all__ = ["FileChange", "StepLine", "RunSummary", "count_changes", "read_summary"]

_MARK = {"succeeded": ("✓", "green"), "failed": ("✗", "red"), "skipped": ("-", "dim")}
_FILE_HEADER = re.compile(r"^diff --git a/(.+?) b/(.+)$")


@dataclass(frozen=True)
class FileChange:
    path: str
    added: int = 0
    removed: int = 0


@dataclass(frozen=True)
class StepLine:
    step_id: str
    role: str
    title: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class RunSummary:
    """What a finished (or stopped) run did, and what to do next (``next_steps``: one command or hint a line)."""

    session_id: str
    status: str
    steps: tuple[StepLine, ...] = ()
    files: tuple[FileChange, ...] = ()
    usage: UsageTotals = field(default_factory=UsageTotals)
    elapsed_s: float | None = None
    next_steps: tuple[str, ...] = ()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        from rich.table import Table
        from rich.text import Text

        style = {"succeeded": "green", "failed": "red"}.get(self.status, "yellow")
        yield Text.assemble("session ", (self.session_id, "bold"), ": ", (self.status, f"bold {style}"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("files", self._files())
        grid.add_row("steps", self._steps())
        grid.add_row("usage", self._usage())
        if self.next_steps:
            grid.add_row("next", Text("\n".join(self.next_steps)))
        yield grid

    def _files(self) -> RenderableType:
        from rich.text import Text

        if not self.files:
            return Text("no files changed", style="dim")
        text = Text()
        width = min(max(len(change.path) for change in self.files), 48)  # the counts line up (long paths wrap)
        for n, change in enumerate(self.files):
            text.append(("\n" if n else "") + change.path.ljust(width))
            text.append(f"  +{change.added}", style="green")
            text.append(f" -{change.removed}", style="red")
        return text

    def _steps(self) -> RenderableType:
        from rich.text import Text

        text = Text()
        for n, step in enumerate(self.steps):
            mark, style = _MARK.get(step.status, ("…", "yellow"))
            text.append(("\n" if n else "") + mark, style=style)
            text.append(f" {step.step_id} ", style="bold")
            text.append(f"({step.role}) {step.title}")
            if step.reason:
                text.append(f"\n    {step.status}: {step.reason}", style=style)
        return text if self.steps else Text("no steps ran", style="dim")

    def _usage(self) -> str:
        usage = self.usage
        tokens = usage.prompt_tokens + usage.completion_tokens
        parts = [f"{format_tokens(tokens) or 0} tokens ({format_tokens(usage.prompt_tokens) or 0} in, "
                 f"{format_tokens(usage.completion_tokens) or 0} out)", f"${usage.cost_usd:.4f}"]
        if self.elapsed_s is not None:
            parts.append(format_duration(self.elapsed_s))
        return " · ".join(parts)


def count_changes(diff: str) -> list[FileChange]:
    """Added and removed lines per file of a ``git diff`` (binary files count 0/0)."""
    counts: dict[str, list[int]] = {}
    current: list[int] | None = None
    for line in diff.splitlines():
        header = _FILE_HEADER.match(line)
        if header:
            current = counts.setdefault(header.group(2), [0, 0])
        elif current is not None and line.startswith("+") and not line.startswith("+++ "):
            current[0] += 1
        elif current is not None and line.startswith("-") and not line.startswith("--- "):
            current[1] += 1
    return [FileChange(path, added, removed) for path, (added, removed) in counts.items()]


def read_summary(session: SessionStore, result: SessionResult, *, elapsed_s: float | None = None,
                 undo_hint: str | None = None) -> RunSummary:
    """The summary of ``result`` from its session's store: the plan's steps (titles), the applied edits (files and
    line counts, summed over steps), and the next steps for how it ended (``undo_hint``: the line offering undo)."""
    plan = session.load_plan()
    steps = tuple(
        StepLine(s.id, s.role, s.goal, result.steps.get(s.id, session.step(s.id).status),
                 (result.reasons.get(s.id) or "").split("\n", 1)[0])
        for s in (plan.steps if plan is not None else ()))
    totals: dict[str, list[int]] = {}
    for step in steps:
        entry = session.journal_entry(step.step_id)
        if entry is None or entry.state != "done":
            continue
        for change in count_changes(entry.diff) or [FileChange(f) for f in entry.files]:
            total = totals.setdefault(change.path, [0, 0])
            total[0] += change.added
            total[1] += change.removed
    files = tuple(FileChange(path, added, removed) for path, (added, removed) in totals.items())
    hints = next_steps(result, changed=bool(files), undo_hint=undo_hint, mode=delivery_mode(session.meta),
                       branch=delivered_branch(session.meta))
    return RunSummary(session_id=result.session_id, status=result.status, steps=steps, files=files,
                      usage=result.usage, elapsed_s=elapsed_s, next_steps=hints)


def next_steps(result: SessionResult, *, changed: bool, undo_hint: str | None = None, mode: str = "worktree",
               branch: str | None = None) -> tuple[str, ...]:
    """What to do after the run: look at the change and commit it (``mode`` ``worktree``; ``commit``: it is
    committed; ``branch``: it is on ``branch``), take it back, or continue the session."""
    hints: list[str] = []
    if changed:
        # `orchestrate undo` restores working-tree edits; committed work is taken back with git.
        if mode == "branch" and branch:
            hints.append(f"review the commits: git log -p HEAD..{branch}   then merge it: git merge {branch}")
        elif mode == "commit":
            hints.append("review the commits: git log -p   (one commit per applied step; git revert takes one back)")
        else:
            hints.append("review the change: git diff   then commit it: git commit -am \"...\"")
            if undo_hint:
                hints.append(undo_hint)
    if result.status == "interrupted":
        hints.append(f"continue where it stopped: orchestrate resume {result.session_id}")
    elif result.status == "failed":
        hints.append(f"retry the failed steps: orchestrate resume {result.session_id} --retry-failed \"what to do "
                     "differently\"")
    return tuple(hints)
