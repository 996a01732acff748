"""A unified diff as the person reviewing it should see it, at any terminal width.

A diff line wider than the terminal is wrapped, and every continuation keeps the line's marker (``+``, ``-`` or the
context space) followed by a dim ``↪``: a reader never mistakes the tail of an added line for context, and never takes
a wrap for a new line. (rich's ``Syntax(word_wrap=True)`` wraps without the marker; cropping would hide code the
person is asked to approve.) Colours: added green, removed red, hunk headers cyan, file headers bold.
"""

from __future__ import annotations

import unicodedata
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
        lines = self.diff.split("\n")  # not splitlines(): a \r or \x0c inside a line is content, shown below
        for raw in lines[:-1] if lines[-1] == "" else lines:
            line = raw.expandtabs(self.tab_size)
            yield from _wrapped(_visible(line, _style(line)), width)


def _visible(line: str, style: str) -> Text:
    """``line`` as text in ``style``, each control character shown as a reversed ``\\xNN``: an escape sequence in a
    changed file must not move the cursor or erase lines while the person reads the diff they are asked to approve."""
    text = Text(style=style, no_wrap=True, end="\n")
    start = 0
    for index, char in enumerate(line):
        if unicodedata.category(char) == "Cc":
            text.append(line[start:index])
            text.append(f"\\x{ord(char):02x}", style="reverse")
            start = index + 1
    text.append(line[start:])
    return text


def _wrapped(text: Text, width: int) -> Iterator[Text]:
    plain = text.plain
    if cell_len(plain) <= width:
        yield text
        return
    style = str(text.style)
    marker = " " if style in ("bold", "cyan") else plain[:1]  # file and hunk headers: the tail is only indented
    first = len(chop_cells(plain, width)[0])
    offsets = [first]
    for chunk in chop_cells(plain[first:], width - 2):
        offsets.append(offsets[-1] + len(chunk))
    head, *tails = text.divide(offsets[:-1])
    yield head
    for tail in tails:
        line = Text(marker, style=style, no_wrap=True, end="\n")
        line.append(CONTINUATION, style="dim")
        line.append_text(tail)
        yield line
