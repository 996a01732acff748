"""A unified diff cut into per-file pieces a small model can review, with the new file's line numbers written out.

Small models cannot count lines in a diff, so every line a reviewer sees carries the number it has in the new file
(``  12 + text``; removed lines show ``   - text`` with no number): a finding's line is then copied, not computed.
:func:`pack` groups the files into chunks under a character budget (one model request each); a file larger than the
budget is split at hunk boundaries, a hunk larger than the budget is cut, and whatever does not fit in ``max_chunks``
is named in :attr:`Packed.left_out`, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["FileDiff", "Chunk", "Packed", "split_files", "pack"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_NUMBERED = re.compile(r"^\s*(\d+) [+ ] (.*)$")


@dataclass
class FileDiff:
    """One file's part of the diff: its path (the new one; the old one for a deletion) and its numbered hunks."""

    path: str
    header: str  # e.g. "new file", "deleted", "renamed from x", "binary"; "" for a plain modification
    hunks: list[str] = field(default_factory=list)

    def render(self, hunks: list[str] | None = None) -> str:
        shown = self.hunks if hunks is None else hunks
        title = f"File: {self.path}" + (f" ({self.header})" if self.header else "")
        return "\n".join([title, *shown]) + "\n"


@dataclass
class Chunk:
    """The text of one review request and the files it shows."""

    text: str
    files: list[str]

    def locate(self, path: str, code: str, near: int | None) -> int | None:
        """The new-file number of the line of ``path`` shown here whose text is ``code`` (or contains it), the one
        nearest ``near`` when several are; None when no shown line matches. Small models copy a line more reliably
        than they read its number."""
        wanted = " ".join(code.split())
        if len(wanted) < 3:
            return None
        exact: list[int] = []
        partial: list[int] = []
        current = ""
        for line in self.text.splitlines():
            if line.startswith("File: "):
                current = line[len("File: "):].split(" (", 1)[0]
            elif current == path and (found := _NUMBERED.match(line)) is not None:
                text = " ".join(found.group(2).split())
                if text == wanted:
                    exact.append(int(found.group(1)))
                elif wanted in text:
                    partial.append(int(found.group(1)))
        candidates = exact or partial
        if not candidates:
            return None
        return min(candidates, key=lambda number: abs(number - near)) if near else candidates[0]


@dataclass
class Packed:
    chunks: list[Chunk]
    left_out: list[tuple[str, str]]  # (path, why) of what no chunk shows in full


def _path(line: str) -> str:
    raw = line[4:].strip()
    return raw[2:] if raw.startswith(("a/", "b/")) else raw


def split_files(diff: str) -> list[FileDiff]:
    """The files of a ``git diff`` (``a/``/``b/`` prefixes), each hunk rendered with new-file line numbers."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    lines: list[str] = []
    number = 0
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            _close(current, lines)
            current, lines = FileDiff(path=line.rsplit(" b/", 1)[-1], header=""), []
            files.append(current)
        elif current is None:
            continue
        elif (found := _HUNK.match(line)) is not None:
            _close(current, lines)
            lines, number = [line], int(found.group(1))
        elif lines and line[:1] in (" ", "+", "-", "\\"):
            if line.startswith("-"):
                lines.append(f"{'':>5} - {line[1:]}")
            elif line.startswith("\\"):
                continue
            else:
                lines.append(f"{number:>5} {line[:1]} {line[1:]}")
                number += 1
        else:
            _header(current, line)
    _close(current, lines)
    return files


def _close(current: FileDiff | None, lines: list[str]) -> None:
    if current is not None and lines:
        current.hunks.append("\n".join(lines))
        lines.clear()


def _header(current: FileDiff, line: str) -> None:
    if line.startswith("new file"):
        current.header = "new file"
    elif line.startswith("deleted file"):
        current.header = "deleted"
    elif line.startswith("rename from "):
        current.header = f"renamed from {line[len('rename from '):]}"
    elif line.startswith("Binary files"):
        current.header = "binary, not shown"
    elif line.startswith("+++ ") and line[4:].strip() != "/dev/null":
        current.path = _path(line)


def pack(files: list[FileDiff], budget: int, max_chunks: int) -> Packed:
    """Chunks of at most ``budget`` characters (whole files together where they fit, else a file's hunks), at most
    ``max_chunks`` of them; what is cut or does not fit is listed in ``left_out``."""
    pieces: list[tuple[str, str]] = []  # (path, text)
    left_out: list[tuple[str, str]] = []
    for item in files:
        if not item.hunks:
            continue  # a mode change or binary file: nothing a reviewer can read
        whole = item.render()
        if len(whole) <= budget:
            pieces.append((item.path, whole))
            continue
        for hunk in item.hunks:
            text = item.render([hunk])
            if len(text) > budget:
                text = text[:budget].rsplit("\n", 1)[0] + "\n"
                left_out.append((item.path, "a hunk too large for one request was cut"))
            pieces.append((item.path, text))
    chunks: list[Chunk] = []
    for path, text in pieces:
        if chunks and len(chunks[-1].text) + len(text) <= budget:
            chunks[-1].text += "\n" + text
            if path not in chunks[-1].files:
                chunks[-1].files.append(path)
        elif len(chunks) < max_chunks:
            chunks.append(Chunk(text=text, files=[path]))
        elif (path, "over review.max_requests") not in left_out:
            left_out.append((path, "over review.max_requests"))
    return Packed(chunks=chunks, left_out=left_out)
