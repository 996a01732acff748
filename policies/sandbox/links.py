"""Targets of the workspace's symlinks that a private ``/tmp`` (or a hidden tree) would cut off.

A step's staging links the project's ignored dependency folders in (``staging.include``: ``node_modules``, ``.venv``,
...), one symlink per entry. When the project lives under ``/tmp`` (a ``mktemp -d`` checkout, CI), bubblewrap's
private ``/tmp`` hides the targets and every link dangles, so ``npm test`` cannot find its runner. The folders holding
those targets are bound back **read-only**: the command sees what the host would show it without a private ``/tmp``,
and can change none of it. Targets inside a hidden path (credentials, other sessions) are never bound.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from pathlib import Path

__all__ = ["cut_off_link_dirs"]

SCAN_BUDGET = 20_000  # directory entries read at most (a deep tree is not walked for ever)
MAX_BINDS = 64  # folders bound back at most (each is one mount)


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _link_target_dirs(workspace: Path, budget: int) -> list[Path]:
    """The targets (resolved) of the symlinks below ``workspace`` that point outside it."""
    found: dict[Path, None] = {}
    queue = deque([str(workspace)])
    while queue and budget > 0:
        directory = queue.popleft()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    budget -= 1
                    if entry.is_symlink():
                        target = Path(os.path.realpath(entry.path))
                        if target.exists() and not _under(target, workspace):
                            found[target] = None
                    elif entry.is_dir(follow_symlinks=False) and entry.name != ".git":
                        queue.append(entry.path)
                    if budget <= 0:
                        break
        except OSError:
            continue
    return list(found)


def cut_off_link_dirs(workspace: Path, *, covered: Sequence[Path], hidden: Sequence[Path],
                      budget: int = SCAN_BUDGET) -> list[Path]:
    """Folders to bind read-only so the workspace's links into ``covered`` trees resolve: the common parent folder of
    each link's target (so ``node_modules/*`` costs one mount), outermost first, none inside ``hidden``."""
    parents: dict[Path, None] = {}
    for target in _link_target_dirs(workspace, budget):
        holder = target.parent
        if any(_under(holder, c) for c in covered) and not any(_under(holder, h) or _under(h, holder)
                                                               for h in hidden):
            parents[holder] = None
    ordered = sorted(parents, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in ordered:
        if not any(_under(path, k) for k in kept):
            kept.append(path)
    return kept[:MAX_BINDS]
