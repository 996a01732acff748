"""The ``orchestrate sessions`` listing, laid out for the width it is printed at.

Contract: the id (what ``resume`` and ``sessions rm`` take) is never cut. On a terminal, a session takes one line
when the task keeps a readable width beside the other columns, else two (the task on its own line below); never
more. The task is cut with an ellipsis, the directory from the left (its end names the project), the branch from the
right. Not on a terminal (a pipe, a file), nothing is cut: one line per session with every field whole.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from orchestrator.core.records import SessionMeta

__all__ = ["SessionRow", "session_lines"]

_GAP = "  "
_MIN_TASK = 24  # below this the task moves to its own line
_STATUS_STYLE = {"succeeded": "green", "failed": "red", "running": "yellow", "interrupted": "magenta"}


@dataclass(frozen=True)
class SessionRow:
    """One session's fields as shown (single-line text, nothing cut yet)."""

    id: str
    status: str
    updated: str  # "YYYY-MM-DD HH:MM"
    branch: str
    task: str
    cwd: str

    @classmethod
    def of(cls, meta: SessionMeta, home: Path | None = None) -> SessionRow:
        cwd = meta.cwd
        if home is not None and (cwd == str(home) or cwd.startswith(f"{home}/")):
            cwd = "~" + cwd[len(str(home)):]
        return cls(meta.id, meta.effective_status, meta.updated[:16].replace("T", " "), _shown(meta.git.branch or ""),
                   _shown(" ".join(meta.task.split())), _shown(cwd))


def _shown(text: str) -> str:
    """Control characters as ``\\xNN``: a task or directory name must not drive the terminal it is listed on."""
    return "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in text)


def _cut(text: str, width: int, *, left: bool = False) -> str:
    """``text`` in at most ``width`` cells, an ellipsis marking the cut (at the start when ``left``)."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if left:
        kept = text
        while cell_len(kept) > width - 1:
            kept = kept[1:]
        return "…" + kept
    return set_cell_size(text, width - 1).rstrip() + "…"


def _widest(values: Sequence[str], title: str) -> int:
    return max([cell_len(title), *(cell_len(v) for v in values)])


@dataclass
class _Layout:
    """Column widths (0: column hidden) and whether the task goes on a line of its own."""

    status: int
    updated: int
    branch: int
    cwd: int
    task: int
    task_below: bool = False


def _fit(rows: Sequence[SessionRow], width: int, show_cwd: bool) -> _Layout:
    """Widths for ``width`` cells; if the task would still be narrower than ``_MIN_TASK``, it moves below."""
    id_w = _widest([r.id for r in rows], "id")
    lay = _Layout(status=_widest([r.status for r in rows], "status"), updated=16,
                  branch=_widest([r.branch for r in rows], "branch") if any(r.branch for r in rows) else 0,
                  cwd=_widest([r.cwd for r in rows], "cwd") if show_cwd else 0, task=0)

    def rest() -> int:
        shown = [w for w in (id_w, lay.status, lay.updated, lay.branch, lay.cwd) if w]
        return width - sum(shown) - len(_GAP) * len(shown)

    # First for the task's whole width: the directory down to 24 cells, the branch down to 16; then for a readable
    # task: the directory down to 16, the branch to 10, the year goes, the branch goes.
    natural = _widest([r.task for r in rows], "task")
    steps = ((natural, "cwd", 24), (natural, "branch", 16), (_MIN_TASK, "cwd", 16), (_MIN_TASK, "branch", 10),
             (_MIN_TASK, "updated", 11), (_MIN_TASK, "branch", 0))
    for want, name, floor in steps:
        deficit = want - rest()
        if deficit > 0:
            current = getattr(lay, name)
            setattr(lay, name, 0 if floor == 0 else current if current <= floor else max(floor, current - deficit))
    if rest() >= _MIN_TASK:
        lay.task = rest()
        return lay
    # Two lines a session: the first line keeps what fits, the task takes the whole second line.
    lay.task, lay.task_below = width - len(_GAP), True
    if show_cwd:
        lay.cwd = max(0, width - id_w - lay.status - lay.updated - 3 * len(_GAP))
    return lay


def session_lines(metas: Sequence[SessionMeta], *, width: int | None, show_cwd: bool,
                  home: Path | None = None) -> list[Text]:
    """The listing: a header line, then each session's line (or two). ``width=None``: not a terminal, cut nothing."""
    rows = [SessionRow.of(m, home) for m in metas]
    if width is None:
        lay = _Layout(status=_widest([r.status for r in rows], "status"), updated=16,
                      branch=_widest([r.branch for r in rows], "branch"), task=_widest([r.task for r in rows], "task"),
                      cwd=_widest([r.cwd for r in rows], "cwd") if show_cwd else 0)
    else:
        lay = _fit(rows, width, show_cwd)
    id_w = _widest([r.id for r in rows], "id")
    header = SessionRow("id", "status", "updated", "branch", "task", "cwd")
    lines = [_line(header, lay, id_w, header=True)]
    for row in rows:
        lines.append(_line(row, lay, id_w, header=False))
        if lay.task_below:
            lines.append(Text(_GAP + _cut(row.task, lay.task), style="dim"))
    return lines


def _line(row: SessionRow, lay: _Layout, id_w: int, *, header: bool) -> Text:
    updated = row.updated if lay.updated == 16 or header else row.updated[5:]
    status_style = _STATUS_STYLE.get(row.status, "")
    cells: list[tuple[str, int, str]] = [(row.id, id_w, ""), (row.status, lay.status, status_style),
                                         (updated, lay.updated, "")]
    if lay.branch:
        cells.append((_cut(row.branch, lay.branch), lay.branch, "cyan"))
    if lay.task and not lay.task_below:
        cells.append((_cut(row.task, lay.task), lay.task, ""))
    if lay.cwd:
        cells.append((_cut(row.cwd, lay.cwd, left=True), lay.cwd, "dim"))
    text = Text(style="bold" if header else "")
    for index, (value, width, style) in enumerate(cells):
        last = index == len(cells) - 1
        text.append(value if last else value + " " * (width - cell_len(value)) + _GAP, style=None if header else style)
    return text
