"""The git a batch worker needs: a fresh clone, a snapshot of a working tree, and the patch between two snapshots.

A snapshot is the tree object of the working tree as it is (tracked and untracked files, minus ignored ones and check
artifacts), written through a private index, so the clone's own index and HEAD are never touched: whatever the
session did (edits, commits with ``--commit``) shows in the final snapshot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["GitError", "clone", "snapshot", "diff"]

# Left out of snapshots: what a check leaves behind, when the repository does not ignore it (as staging does).
_ARTIFACTS = tuple(f":(exclude,glob){pattern}" for pattern in (
    "**/__pycache__/**", "**/*.py[co]", "**/.pytest_cache/**", "**/.mypy_cache/**", "**/.ruff_cache/**",
    "**/.hypothesis/**"))
_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class GitError(Exception):
    """A git command failed; the message is its last line of output."""


def _git(args: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> bytes:
    proc = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "-c", "core.quotepath=false", *args], cwd=cwd,
                          env={**os.environ, **_ENV, **(env or {})}, capture_output=True, check=False)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {lines[-1] if lines else f'exit {proc.returncode}'}")
    return proc.stdout


def clone(repo: str, dest: Path, ref: str | None) -> None:
    """A fresh clone of ``repo`` at ``dest`` (which must not exist), on ``ref`` if given."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    _git(["clone", "--quiet", "--", repo, str(dest)], cwd=dest.parent)
    if ref:
        _git(["checkout", "--quiet", ref, "--"], cwd=dest)


def snapshot(tree: Path) -> str:
    """The id of a git tree object holding ``tree``'s working tree as it is now."""
    index = tree / ".git" / "orchestrate-batch-index"
    index.unlink(missing_ok=True)
    if (tree / ".git" / "index").is_file():  # its stat cache: only changed files are hashed again (large repos)
        shutil.copyfile(tree / ".git" / "index", index)
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        _git(["add", "-A", "--", ".", *_ARTIFACTS], cwd=tree, env=env)
        return _git(["write-tree"], cwd=tree, env=env).decode().strip()
    finally:
        index.unlink(missing_ok=True)


def diff(tree: Path, start: str, end: str) -> tuple[bytes, tuple[str, ...]]:
    """The binary-safe patch from snapshot ``start`` to ``end`` (``git apply`` applies it) and the paths it touches."""
    patch = _git(["diff", "--binary", "--no-color", "--no-ext-diff", "--no-renames", start, end], cwd=tree)
    names = _names(patch)
    if names is None:  # a quoted path in a header: ask git rather than unquote C-style escapes here
        raw = _git(["diff", "--name-only", "-z", "--no-renames", start, end], cwd=tree)
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
