"""Which paths around a workspace hold git and orchestrate metadata that a sandboxed command must not rewrite.

For a plain repository that is ``WS/.git`` (a directory). For a linked worktree (how orchestrate stages steps)
``WS/.git`` is a *file* ``gitdir: /repo/.git/worktrees/NAME``; that git dir and the repository's common dir
(``commondir`` inside it: objects, refs, hooks, config) live outside the workspace and must stay read-only too, and,
under bubblewrap, visible even when they sit under the private ``/tmp``. The workspace may also be a subdirectory of
the repository: the nearest ``.git`` above it counts.

The workspace is writable by the command, so a ``.git`` file is untrusted input: a git dir outside the workspace is
only accepted when it points back at this workspace (a worktree's ``gitdir`` file) or is a submodule's dir inside the
superproject's ``modules/``; anything else is ignored rather than exposed.

Nested ``.git`` and ``.orchestrate/`` anywhere below the workspace (a vendored repository, ``sub/.orchestrate/``
that a later run would load) are protected too. The search is breadth-first and bounded (:data:`SCAN_BUDGET`
directory entries, symlinks not followed, no descent into a ``.git``): a huge tree is not walked to its end, and what
lies past the budget is not protected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from policies.sandbox.treewalk import SCAN_BUDGET, walk

__all__ = ["ProtectedPaths", "protected_paths", "nested_metadata", "SCAN_BUDGET"]

_METADATA_NAMES = (".git", ".orchestrate")


@dataclass(frozen=True)
class ProtectedPaths:
    """``metadata``: paths to keep read-only (existing ones only); ``git_dirs``: git dirs outside the repo's tree that
    must be visible for git to work (a subset of ``metadata``)."""

    metadata: tuple[Path, ...]
    git_dirs: tuple[Path, ...]


def _find_dot_git(workspace: Path) -> Path | None:
    for directory in (workspace, *workspace.parents):
        candidate = directory / ".git"
        if candidate.is_dir() or candidate.is_file():
            return candidate
    return None


def _read_pointer(path: Path, prefix: str) -> str | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    if prefix:
        if not text.startswith(prefix):
            return None
        text = text[len(prefix):].strip()
    return text or None


def _linked_git_dirs(dot_git: Path) -> tuple[Path, ...]:
    """The git dir and common dir a ``.git`` file points to, if they check out; else nothing."""
    target = _read_pointer(dot_git, "gitdir:")
    if target is None:
        return ()
    git_dir = Path(os.path.realpath(dot_git.parent / target))
    if not (git_dir / "HEAD").is_file():
        return ()
    back = _read_pointer(git_dir / "gitdir", "")
    is_worktree = back is not None and Path(os.path.realpath(git_dir / back)) == Path(os.path.realpath(dot_git))
    is_submodule = git_dir.parent.name == "modules"  # <superproject git dir>/modules/NAME
    if not (is_worktree or is_submodule):
        return ()
    found = [git_dir]
    common = _read_pointer(git_dir / "commondir", "")
    if common is not None:
        common_dir = Path(os.path.realpath(git_dir / common))
        if (common_dir / "objects").is_dir() and common_dir not in found:
            found.append(common_dir)
    return tuple(found)


def protected_paths(workspace: Path) -> ProtectedPaths:
    """The metadata paths of ``workspace`` (already resolved) to protect, in mount order (outermost first)."""
    metadata: list[Path] = []
    git_dirs: tuple[Path, ...] = ()
    dot_git = _find_dot_git(workspace)
    if dot_git is not None:
        if dot_git.is_file():
            git_dirs = _linked_git_dirs(dot_git)
            metadata.extend(sorted(git_dirs, key=lambda p: len(p.parts)))
        metadata.append(dot_git)
    orchestrate_dir = workspace / ".orchestrate"
    if orchestrate_dir.is_dir():
        metadata.append(orchestrate_dir)
    metadata.extend(p for p in nested_metadata(workspace) if p not in metadata)
    return ProtectedPaths(metadata=tuple(metadata), git_dirs=git_dirs)


def nested_metadata(workspace: Path, budget: int = SCAN_BUDGET) -> list[Path]:
    """``.git`` (file or directory) and ``.orchestrate/`` below ``workspace`` (not its own), shallowest first, found
    breadth-first within ``budget`` directory entries."""
    top = str(workspace)
    return [Path(entry.path) for directory, entry in walk(workspace, budget=budget,
                                                           descend=lambda e: e.name not in _METADATA_NAMES)
            if entry.name in _METADATA_NAMES and directory != top
            and (entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False))]
