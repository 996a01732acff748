"""A compact picture of a project for a model's prompt: its file tree, bounded.

Small models plan and navigate far better when they see the file names up front instead of spending turns on
``list_files``; large trees are folded into per-directory counts so the summary stays within a few hundred lines.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from agents.paths import iter_files

__all__ = ["summarize_tree"]


def summarize_tree(root: Path, *, max_entries: int = 120, max_chars: int = 4000) -> str:
    """The files under ``root`` (relative, sorted, junk directories skipped), one a line.

    When there are more than ``max_entries`` files, directories are folded (``src/pkg/ (57 files)``) from the deepest
    level up until the listing fits; the result never exceeds ``max_chars`` (a final line says what was left out).
    """
    files = list(iter_files(root, root.resolve()))
    if not files:
        return "(no files)"
    lines = files
    depth = max(f.count("/") for f in files)
    while len(lines) > max_entries and depth > 0:
        depth -= 1
        lines = _fold(files, depth)
    text = ""
    for index, line in enumerate(lines):
        if len(text) + len(line) + 1 > max_chars or index >= max_entries:
            return text + f"[... {len(lines) - index} more entries not shown]"
        text += line + "\n"
    return text.rstrip("\n")


def _fold(files: list[str], depth: int) -> list[str]:
    """Files at most ``depth`` directories deep listed; deeper ones folded into their ancestor at that depth."""
    counts: Counter[str] = Counter()
    order: list[str] = []
    for name in files:
        parts = name.split("/")
        key = name if len(parts) <= depth + 1 else "/".join(parts[: depth + 1]) + "/"
        if key not in counts:
            order.append(key)
        counts[key] += 1
    return [f"{key} ({counts[key]} files)" if key.endswith("/") else key for key in order]
