"""Unified diffs applied in pure Python, hunk by hunk, with the context checked.

Models write imperfect diffs: hunk headers with wrong counts or line numbers, blank context lines without their
leading space, ``a/``/``b/`` prefixes or not. The parser trusts the hunk *bodies*, not the header counts; each hunk's
old lines (context and removals) must appear in the file, searched nearest to the header's line first, exactly and
then ignoring trailing whitespace. A patch applies completely or not at all: :func:`apply_patch` computes every new
file text before the caller writes anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents import prompts

__all__ = ["PatchError", "FilePatch", "Hunk", "parse_patch", "apply_hunks"]

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")
_DEV_NULL = "/dev/null"


class PatchError(Exception):
    """A diff that cannot be parsed or applied; ``str()`` is the explanation for the model."""


@dataclass
class Hunk:
    old_start: int  # 1-based, from the header (a hint: the context decides)
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" " | "-" | "+", text without newline)

    @property
    def old(self) -> list[str]:
        return [text for tag, text in self.lines if tag != "+"]

    @property
    def new(self) -> list[str]:
        return [text for tag, text in self.lines if tag != "-"]


@dataclass
class FilePatch:
    old_path: str | None  # None: the file is created
    new_path: str | None  # None: the file is deleted
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The path the patch is about (the new path, or the old one for a deletion)."""
        return self.new_path or self.old_path or ""


def _strip_prefix(raw: str) -> str | None:
    name = raw.split("\t", 1)[0].strip()
    if name == _DEV_NULL:
        return None
    if name.startswith(("a/", "b/")):
        name = name[2:]
    return name


def parse_patch(diff: str) -> list[FilePatch]:
    """The file patches of a unified diff. Raises :class:`PatchError` when there is none or a hunk is malformed."""
    patches: list[FilePatch] = []
    current: FilePatch | None = None
    hunk: Hunk | None = None
    lines = diff.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("--- ") and index + 1 < len(lines) and lines[index + 1].startswith("+++ "):
            current = FilePatch(_strip_prefix(line[4:]), _strip_prefix(lines[index + 1][4:]))
            patches.append(current)
            hunk = None
            index += 2
            continue
        if line.startswith("@@"):
            if current is None:
                raise PatchError(prompts.load("patch_errors#hunk_before_header"))
            match = _HUNK_HEADER.match(line)
            hunk = Hunk(int(match.group(1)) if match else 0)
            current.hunks.append(hunk)
        elif hunk is not None and line[:1] in (" ", "-", "+"):
            hunk.lines.append((line[0], line[1:]))
        elif hunk is not None and line == "" and _more_hunk_lines(lines, index):
            hunk.lines.append((" ", ""))  # a blank context line whose leading space was lost
        elif hunk is not None and not line.startswith("\\"):
            hunk = None  # git's "diff --git"/"index" lines and prose end the hunk
        index += 1
    if not patches:
        raise PatchError(prompts.load("patch_errors#no_headers"))
    for patch in patches:
        if not patch.hunks and patch.old_path is not None and patch.new_path is not None:
            raise PatchError(prompts.render("patch_errors#no_hunks", path=patch.path))
    return patches


def _more_hunk_lines(lines: list[str], index: int) -> bool:
    """A blank line is part of the hunk only if hunk lines follow it (not at the end of the diff)."""
    for later in lines[index + 1 :]:
        if later[:1] in (" ", "-", "+") and not later.startswith(("--- ", "+++ ")):
            return True
        if later != "":
            return False
    return False


def apply_hunks(path: str, text: str, hunks: list[Hunk]) -> str:
    """``text`` (LF line breaks) with every hunk applied in order. Raises :class:`PatchError` naming the hunk."""
    # A new (empty) file gets a final newline; an existing file keeps whatever it had.
    trailing_newline = text.endswith("\n") or not text
    lines = text.split("\n") if text else []
    if text.endswith("\n"):
        lines.pop()
    offset = 0
    cursor = 0
    for number, hunk in enumerate(hunks, start=1):
        old = hunk.old
        hint = max(0, hunk.old_start - 1 + offset)
        start = _find_block(lines, old, hint, cursor)
        if start is None:
            raise PatchError(_hunk_failure(path, number, old, lines, hint))
        lines[start : start + len(old)] = hunk.new
        offset += len(hunk.new) - len(old)
        cursor = start + len(hunk.new)
    result = "\n".join(lines)
    return result + "\n" if trailing_newline and lines else result


def _find_block(lines: list[str], old: list[str], hint: int, cursor: int) -> int | None:
    """Where ``old`` occurs at or after ``cursor``, nearest to ``hint``; exact first, then ignoring trailing spaces."""
    if not old:
        return min(hint, len(lines))
    candidates = range(cursor, len(lines) - len(old) + 1)
    for normalize in (_same, _rstrip):
        wanted = [normalize(x) for x in old]
        hits = [i for i in candidates if all(normalize(lines[i + k]) == wanted[k] for k in range(len(old)))]
        if hits:
            return min(hits, key=lambda i: abs(i - hint))
    return None


def _same(line: str) -> str:
    return line


def _rstrip(line: str) -> str:
    return line.rstrip()


def _hunk_failure(path: str, number: int, old: list[str], lines: list[str], hint: int) -> str:
    expected = "\n".join(old[:8])
    around = "\n".join(lines[max(0, hint - 2) : hint + 6])
    return prompts.render("patch_errors#hunk_not_found", number=number, path=path, expected=expected, line=hint + 1,
                          around=around)
