"""Cutting long text to size, in one place: what a model, a log line or the live view is shown of an output.

Every cut says what it keeps (``keep``) and how the reader learns that something was cut (``note``); the texts
models see are exactly the ones the callers produced before this module gathered them (prompts change behaviour).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Keep", "tail_lines", "clip", "clip_bytes"]

Keep = Literal["head", "tail", "middle"]


def tail_lines(text: str, count: int, *, skip_blank: bool = False) -> list[str]:
    """The last ``count`` lines of ``text``; with ``skip_blank``, of its non-blank lines, right-stripped."""
    lines = text.splitlines()
    if skip_blank:
        lines = [line.rstrip() for line in lines if line.strip()]
    return lines[-count:] if count > 0 else []


def clip(text: str, limit: int, *, keep: Keep = "tail", note: str = "", snap: int = 0) -> str:
    """``text`` when it has at most ``limit`` characters; else about ``limit`` of them, and ``note``:

    - ``"head"``: the first ``limit`` characters, then ``note``;
    - ``"tail"``: ``note``, then the last ``limit`` characters; with ``snap``, starting after the first line break
      of those when it is among their first ``snap`` characters (whole lines);
    - ``"middle"``: the first third of ``limit`` and the rest of it from the end, ``note`` between them (``{cut}`` in
      ``note`` says how many characters were left out).
    """
    if len(text) <= limit:
        return text
    if keep == "head":
        return text[:limit] + note
    if keep == "tail":
        cut = text[-limit:] if limit > 0 else ""
        newline = cut.find("\n") if snap > 0 else -1
        return note + (cut[newline + 1:] if 0 <= newline < snap else cut)
    head = text[: limit // 3]
    tail = text[-(limit - len(head)):] if limit > len(head) else ""
    return head + note.replace("{cut}", str(len(text) - len(head) - len(tail))) + tail


def clip_bytes(text: str, limit: int, *, note: str = "") -> str:
    """``text`` when its UTF-8 encoding has at most ``limit`` bytes; else ``note`` and its last ``limit`` bytes,
    cut at a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return note + (data[-limit:] if limit > 0 else b"").decode("utf-8", errors="ignore")
