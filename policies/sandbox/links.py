"""What a private ``/tmp`` would cut off from a command: its workspace's link targets, and the paths it names.

A step's staging links the project's ignored dependency folders in (``staging.include``: ``node_modules``, ``.venv``,
...), one symlink per entry. When the project lives under ``/tmp`` (a ``mktemp -d`` checkout, CI), bubblewrap's
private ``/tmp`` hides the targets and every link dangles, so ``npm test`` cannot find its runner. The folders holding
those targets are bound back **read-only**: the command sees what the host would show it without a private ``/tmp``,
and can change none of it. Targets inside a hidden path (credentials, other sessions) are never bound.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from policies.sandbox.treewalk import SCAN_BUDGET, walk

__all__ = ["cut_off_link_dirs", "referenced_entries"]

MAX_BINDS = 64  # folders bound back at most (each is one mount)


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _link_target_dirs(workspace: Path, budget: int) -> list[Path]:
    """The targets (resolved) of the symlinks below ``workspace`` that point outside it."""
    found: dict[Path, None] = {}
    for _, entry in walk(workspace, budget=budget, descend=lambda e: e.name != ".git"):
        if entry.is_symlink():
            target = Path(os.path.realpath(entry.path))
            if target.exists() and not _under(target, workspace):
                found[target] = None
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


_PATHISH = re.compile(r"(?<![\w.-])/[^\s'\"=:;|&<>()`$]+")


def referenced_entries(words: Sequence[str], *, covered: Sequence[Path], hidden: Sequence[Path],
                       limit: int = MAX_BINDS) -> list[Path]:
    """The top-level entries of ``covered`` trees (``/tmp/x``) that the command names: in its argv (a script's words
    included) or its environment values (``PATH``, ``VIRTUAL_ENV``, a variable holding an interpreter). A virtualenv
    or checkout under ``/tmp`` (CI runners, ``mktemp -d``) would otherwise vanish under the private ``/tmp`` and its
    programs fail with ``execvp: No such file``; they are bound back read-only, as the rest of the host is (the caller
    mounts the hidden paths over them afterwards). None that lies in a hidden path."""
    found: dict[Path, None] = {}
    for word in words:
        for match in _PATHISH.findall(word):
            path = Path(os.path.normpath(match))
            for root in covered:
                if root in path.parents:
                    entry = root / path.relative_to(root).parts[0]
                    # One that holds a hidden path is fine: hidden paths are mounted over it afterwards.
                    if entry.exists() and not any(_under(entry, h) for h in hidden):
                        found[entry] = None
    return list(found)[:limit]
