"""Search/replace edits on file text: the exact block the model quotes is replaced by its replacement.

The contract: the search block must match exactly once. When it matches nowhere, one tolerant pass compares lines
with surrounding whitespace ignored and accepts the result only if it is unique (then the replacement is re-indented
by the difference the model got wrong). Otherwise :class:`EditError` explains what went wrong and shows the closest
lines in the file, because a small model fixes its edit far more often when it sees what the file really says.
Line endings are the file's: a CRLF file stays CRLF whatever the model wrote.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from agents import prompts

__all__ = ["EditError", "EditResult", "apply_edit", "detect_newline", "to_newline"]

_NEAR_CONTEXT_LINES = 12
_DEFINITION = re.compile(r"(async\s+def|def|class)\s")


class EditError(Exception):
    """An edit that cannot be applied; ``str()`` is the explanation for the model."""


@dataclass(frozen=True)
class EditResult:
    text: str  # the new file text, in the file's line endings
    first_line: int  # 1-based line where the replacement starts
    tolerant: bool  # matched only after ignoring whitespace


def detect_newline(text: str) -> str:
    """``"\\r\\n"`` when the text's first line break is CRLF, else ``"\\n"``."""
    index = text.find("\n")
    return "\r\n" if index > 0 and text[index - 1] == "\r" else "\n"


def to_newline(text: str, newline: str) -> str:
    """``text`` with every line break made ``newline``."""
    unified = text.replace("\r\n", "\n")
    return unified if newline == "\n" else unified.replace("\n", newline)


def apply_edit(original: str, search: str, replace: str) -> EditResult:
    """Replace the unique occurrence of ``search`` in ``original`` by ``replace``. Raises :class:`EditError`."""
    newline = detect_newline(original)
    text = original.replace("\r\n", "\n")
    search = search.replace("\r\n", "\n")
    replace = replace.replace("\r\n", "\n")
    if not search.strip():
        raise EditError(_say("empty_search"))
    if search == replace:
        raise EditError(_say("unchanged"))
    count = text.count(search)
    if count == 1:
        index = text.index(search)
        _refuse_header_only(text, text.count("\n", 0, index), search, replace)
        new = text[:index] + replace + text[index + len(search) :]
        return EditResult(to_newline(new, newline), text.count("\n", 0, index) + 1, tolerant=False)
    if count > 1:
        lines = _occurrence_lines(text, search)
        raise EditError(_say("ambiguous", count=count, lines=", ".join(map(str, lines))))
    tolerant = _tolerant_replace(text, search, replace)
    if tolerant is not None:
        new, first = tolerant
        _refuse_header_only(text, first - 1, search, replace)
        if new == text:
            raise EditError(_say("unchanged"))
        return EditResult(to_newline(new, newline), first, tolerant=True)
    if replace.strip() and replace in text:
        line = text.count("\n", 0, text.index(replace)) + 1
        raise EditError(_say("already_applied", line=line))
    raise EditError(_not_found_message(text, search))


def _refuse_header_only(text: str, start: int, search: str, replace: str) -> None:
    """Refuse an edit whose search block is only a ``def``/``class`` line that the replacement redefines.

    Small models write ``"search": "def median(values):"`` with the whole new function as the replacement, meaning to
    replace the function; applied as written, the old body stays below the new one (broken or silently wrong code).
    The model is shown the whole definition to quote instead.
    """
    wanted = _block_lines(search)
    header = wanted[0].strip() if len(wanted) == 1 else ""
    if not header.endswith(":") or not _DEFINITION.match(header):
        return
    replacement = _block_lines(replace)
    if len(replacement) < 2 or replacement[0].strip() != header:
        return
    lines = text.split("\n")
    depth = len(_indent(lines[start]))
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(_indent(lines[end])) > depth):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    if end == start + 1:
        return  # a definition without a body below it (e.g. a one-liner): nothing would be left behind
    body = "\n".join(lines[start:end])
    raise EditError(_say("header_only", header=header, body_start=start + 2, start=start + 1, end=end, body=body))


def _occurrence_lines(text: str, search: str) -> list[int]:
    lines: list[int] = []
    start = text.find(search)
    while start != -1 and len(lines) < 10:
        lines.append(text.count("\n", 0, start) + 1)
        start = text.find(search, start + 1)
    return lines


def _block_lines(block: str) -> list[str]:
    """The block's lines without leading/trailing blank lines (models often pad blocks with them)."""
    lines = block.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _tolerant_replace(text: str, search: str, replace: str) -> tuple[str, int] | None:
    """Match ``search`` line by line ignoring surrounding whitespace; replace only when the match is unique."""
    wanted = [line.strip() for line in _block_lines(search)]
    if not wanted:
        return None
    lines = text.split("\n")
    hits = [
        i for i in range(len(lines) - len(wanted) + 1)
        if all(lines[i + k].strip() == wanted[k] for k in range(len(wanted)))
    ]
    if len(hits) != 1:
        return None
    start = hits[0]
    new_lines = _fit_indentation(_block_lines(search), lines[start : start + len(wanted)], _block_lines(replace))
    result = lines[:start] + new_lines + lines[start + len(wanted) :]
    return "\n".join(result), start + 1


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _fit_indentation(search: list[str], matched: list[str], replace: list[str]) -> list[str]:
    """The replacement lines in the file's indentation.

    Models often get the search block's indentation wrong while writing the replacement correctly, or get both wrong
    the same way: a replacement that already starts at the file's indentation is kept as written; otherwise it is
    mapped the way the search block's indentation maps onto the file's.
    """
    if not replace:
        return []
    if _indent(replace[0]) == _indent(matched[0]) != _indent(search[0]):
        return [line if line.strip() else "" for line in replace]
    indents = _indent_map(search, matched)
    return [_reindent(line, indents) for line in replace]


def _indent_map(model_lines: list[str], file_lines: list[str]) -> dict[str, str]:
    """How the model's indentation maps to the file's, learnt from the lines that matched."""
    mapping: dict[str, str] = {}
    for model_line, file_line in zip(model_lines, file_lines, strict=True):
        if model_line.strip():
            mapping.setdefault(_indent(model_line), _indent(file_line))
    return mapping


def _reindent(line: str, mapping: dict[str, str]) -> str:
    """The replacement line with the indentation the file uses (a deeper, unseen indent keeps its extra part)."""
    if not line.strip():
        return ""
    indent = _indent(line)
    known = max((k for k in mapping if indent.startswith(k)), key=len, default=None)
    if known is None:
        return line
    return mapping[known] + indent[len(known) :] + line.lstrip()


def _not_found_message(text: str, search: str) -> str:
    wanted = _block_lines(search)
    lines = text.split("\n")
    near = _nearest_window(lines, wanted)
    if near is None:
        return _say("not_found_nothing_near")
    start, end = near
    return _say("not_found_near", start=start + 1, end=end, lines="\n".join(lines[start:end]))


def _say(name: str, /, **values: object) -> str:
    """Message ``name`` of agents/prompts/edit_errors.md, filled with ``values``."""
    return prompts.render(f"edit_errors#{name}", **values)


def _nearest_window(lines: list[str], wanted: list[str]) -> tuple[int, int] | None:
    """The window of the file most similar to the wanted lines (0-based start, end), if anything is similar."""
    if not wanted or not lines:
        return None
    size = min(len(wanted), _NEAR_CONTEXT_LINES, len(lines))
    target = "\n".join(line.strip() for line in wanted[:size])
    best: tuple[float, int] = (0.0, 0)
    for start in range(len(lines) - size + 1):
        window = "\n".join(line.strip() for line in lines[start : start + size])
        matcher = difflib.SequenceMatcher(None, target, window, autojunk=False)
        if matcher.real_quick_ratio() <= best[0] or matcher.quick_ratio() <= best[0]:
            continue
        ratio = matcher.ratio()
        if ratio > best[0]:
            best = (ratio, start)
    if best[0] < 0.5:
        return None
    return best[1], min(len(lines), best[1] + size)
