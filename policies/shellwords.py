"""The value of a shell word as bash sees it: backslashes and double-quote escapes resolved, globs noticed."""

from __future__ import annotations

__all__ = ["unescape_word", "unescape_double"]

_GLOB = frozenset("*?[")


def unescape_word(text: str) -> tuple[str, bool]:
    """An unquoted word's value and whether it is static (no glob characters)."""
    if "\\" not in text:  # the common case, without the per-character loop (the gate's hot path)
        return text, _GLOB.isdisjoint(text)
    out: list[str] = []
    static = True
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
            continue
        if ch in _GLOB:
            static = False
        out.append(ch)
        i += 1
    # `~` stays as written: rules name it literally, and the gate expands it where a path is needed.
    return "".join(out), static


def unescape_double(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
