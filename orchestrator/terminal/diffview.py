"""A unified diff as the person reviewing it should see it, at any terminal width.

A diff line wider than the terminal is wrapped, and every continuation keeps the line's marker (``+``, ``-`` or the
context space) followed by a dim ``↪``: a reader never mistakes the tail of an added line for context, and never takes
a wrap for a new line. (rich's ``Syntax(word_wrap=True)`` wraps without the marker; cropping would hide code the
person is asked to approve.) Colours: added green, removed red, hunk headers cyan, file headers bold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.cells import cell_len, chop_cells
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions

__all__ = ["DiffView", "CONTINUATION"]

CONTINUATION = "↪"
_FILE_HEADERS = ("diff --git ", "index ", "--- ", "+++ ", "new file mode", "deleted file mode", "similarity index",
                 "rename from", "rename to", "old mode", "new mode", "Binary files")


def _style(line: str) -> str:
    if line.startswith(_FILE_HEADERS):
        return "bold"
    if line.startswith("@@"):
        return "cyan"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    if line.startswith("\\"):
        return "dim"
    return ""


class DiffView:
    """Renders ``diff`` (unified format) line by line at the console's width; see the module docstring."""

    def __init__(self, diff: str, *, tab_size: int = 4) -> None:
        self.diff = diff
        self.tab_size = tab_size

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        width = max(options.max_width, 4)
        for raw in self.diff.splitlines():
            line = raw.expandtabs(self.tab_size)
            yield from self._wrapped(line, _style(line), width)

    @staticmethod
    def _wrapped(line: str, style: str, width: int) -> Iterator[Text]:
        if cell_len(line) <= width:
            yield Text(line, style=style, no_wrap=True, end="\n")
            return
        header = style in ("bold", "cyan")  # file and hunk headers carry no marker: their tail is indented instead
        marker = " " if header else line[:1]
        first = chop_cells(line, width)[0]
        rest = line[len(first):]
        yield Text(first, style=style, no_wrap=True, end="\n")
        for chunk in chop_cells(rest, width - 2):
            text = Text(marker, style=style, no_wrap=True, end="\n")
            text.append(CONTINUATION, style="dim")
            text.append(chunk, style=style)
            yield text
