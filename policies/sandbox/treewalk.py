"""A bounded breadth-first walk of a workspace, shared by the scans a command's mounts depend on.

Each confined command looks through its workspace before it starts (nested ``.git``/``.orchestrate`` to keep
read-only, links whose targets a private ``/tmp`` would hide), so the walk is bounded: a huge tree costs at most
``budget`` directory entries, never an unbounded start-up. Symlinks are never followed.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["SCAN_BUDGET", "walk"]

SCAN_BUDGET = 20_000  # directory entries read at most


def walk(root: Path, *, descend: Callable[[os.DirEntry[str]], bool],
         budget: int = SCAN_BUDGET) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """``(directory, entry)`` for each entry below ``root``, shallowest first, at most ``budget`` of them. A real
    directory is entered when ``descend(entry)`` says so; unreadable directories are skipped."""
    queue = deque([str(root)])
    while queue and budget > 0:
        directory = queue.popleft()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    budget -= 1
                    yield directory, entry
                    if entry.is_dir(follow_symlinks=False) and descend(entry):
                        queue.append(entry.path)
                    if budget <= 0:
                        break
        except OSError:
            continue
