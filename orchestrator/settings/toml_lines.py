"""Find the line of a key in TOML text, so config errors can say ``file:line``.

``tomllib`` returns plain dicts without positions; this scans the text once, tracking table headers, and parses each
header and key with ``tomllib`` itself so quoting and dotted keys are handled exactly as TOML defines them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from typing import Any

__all__ = ["find_key_line"]


def _path_of(fragment: str) -> tuple[str, ...] | None:
    """The key path a header body or a dotted key denotes, e.g. ``a."b.c".d`` → ``("a", "b.c", "d")``."""
    try:
        data: Any = tomllib.loads(f"{fragment} = 0")
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(data, dict) and len(data) == 1:
        key, data = next(iter(data.items()))
        path.append(key)
    return tuple(path)


def find_key_line(text: str, key_path: Sequence[str]) -> int | None:
    """1-based line where ``key_path`` (or its longest prefix present) is defined; ``None`` if not found."""
    target = tuple(key_path)
    table: tuple[str, ...] = ()
    best: tuple[int, int] | None = None  # (matched length, line)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            body = line.lstrip("[").split("]")[0] if not line.startswith("[[") else line[2:].split("]]")[0]
            table = _path_of(body.strip()) or table
            full = table
        elif "=" in line:
            key = _path_of(line.split("=", 1)[0].strip())
            if key is None:
                continue
            full = (*table, *key)
        else:
            continue
        length = _common_prefix(full, target)
        if length == len(full) and (best is None or length > best[0]):
            best = (length, number)
            if length == len(target):
                return number
    return best[1] if best else None


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
