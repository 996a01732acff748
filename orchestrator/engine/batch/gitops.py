"""The git a batch worker needs: a fresh clone, a snapshot of a working tree, and the patch between two snapshots.

Every command goes through :mod:`orchestrator.workspace.gitrun` (the clone as the user, the rest hardened).

A snapshot is the tree object of the working tree as it is (tracked and untracked files, minus ignored ones and check
artifacts), written through a private index, so the clone's own index and HEAD are never touched: whatever the
session did (edits, commits with ``--commit``) shows in the final snapshot.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestrator.workspace.gitrun import Git, clone

__all__ = ["clone", "snapshot", "diff"]

# Left out of snapshots: what a check leaves behind, when the repository does not ignore it (as staging does).
_ARTIFACTS = tuple(f":(exclude,glob){pattern}" for pattern in (
    "**/__pycache__/**", "**/*.py[co]", "**/.pytest_cache/**", "**/.mypy_cache/**", "**/.ruff_cache/**",
    "**/.hypothesis/**"))


def snapshot(tree: Path) -> str:
    """The id of a git tree object holding ``tree``'s working tree as it is now (a session ran in it, so git runs
    hardened: :class:`orchestrator.workspace.gitrun.Git`, never reading what the session may have put in ``.git``'s
    config). :class:`~orchestrator.core.errors.GitError` on failure."""
    index = tree / ".git" / "orchestrate-batch-index"
    index.unlink(missing_ok=True)
    if (tree / ".git" / "index").is_file():  # its stat cache: only changed files are hashed again (large repos)
        shutil.copyfile(tree / ".git" / "index", index)
    git = Git(tree / ".git", tree, index=index)
    try:
        git.run(["add", "-A", "--", ".", *_ARTIFACTS])
        return git.out(["write-tree"])
    finally:
        index.unlink(missing_ok=True)


def diff(tree: Path, start: str, end: str) -> tuple[bytes, tuple[str, ...]]:
    """The binary-safe patch from snapshot ``start`` to ``end`` (``git apply`` applies it) and the paths it touches."""
    git = Git(tree / ".git", tree)
    patch = git.run(["diff", "--binary", "--no-color", "--no-renames", start, end]).stdout
    names = _names(patch)
    if names is None:  # a quoted path in a header: ask git rather than unquote C-style escapes here
        raw = git.run(["diff", "--name-only", "-z", "--no-renames", start, end]).stdout
        names = tuple(n for n in raw.decode("utf-8", "surrogateescape").split("\0") if n)
    return patch, names


def _names(patch: bytes) -> tuple[str, ...] | None:
    """The paths of a rename-free patch, from its ``diff --git a/P b/P`` headers; None if a header is quoted."""
    names = []
    for line in patch.split(b"\n"):
        if not line.startswith(b"diff --git "):
            continue
        rest = line[len(b"diff --git ") :]
        if not rest.startswith(b"a/"):
            return None
        half = (len(rest) - 1) // 2  # "a/P b/P": both halves are the same path without renames
        old, sep, new = rest[:half], rest[half : half + 1], rest[half + 1 :]
        if sep != b" " or not new.startswith(b"b/") or old[2:] != new[2:]:
            return None
        names.append(old[2:].decode("utf-8", "surrogateescape"))
    return tuple(names)
