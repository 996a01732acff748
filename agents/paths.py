"""Paths an agent names, confined to one root (a step's staging area), and the files under it.

Every path an action carries goes through :func:`resolve_inside`: absolute paths, ``..`` escapes and symlinks that
lead outside the root are refused, and so is the git metadata (``.git``), which agents never edit directly.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from agents import prompts

__all__ = ["PathRefused", "resolve_inside", "relative_to_root", "iter_files", "read_text", "write_text", "IGNORED_DIRS"]

# Directories no agent needs to list or search: VCS metadata, caches, virtualenvs, dependency trees.
IGNORED_DIRS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".venv", "venv",
     "node_modules", ".tox", ".nox", "target", "dist", "build", ".eggs", ".orchestrate", ".idea", ".vscode"}
)
_PROTECTED_TOP = frozenset({".git"})


class PathRefused(Exception):
    """A path an agent named is outside its root, or protected. ``str()`` is the message for the model."""


def resolve_inside(root: Path, name: str) -> Path:
    """The absolute path ``name`` (relative to ``root``) designates, after resolving symlinks.

    Raises :class:`PathRefused` when ``name`` is empty, absolute, escapes ``root`` (``..`` or a symlink pointing out),
    or lies in the root's ``.git``. The file need not exist.
    """
    text = name.strip()
    if not text:
        raise PathRefused(prompts.load("path_errors#empty"))
    if text.startswith("~") or PurePosixPath(text).is_absolute() or Path(text).is_absolute():
        raise PathRefused(prompts.render("path_errors#absolute", path=repr(text)))
    real_root = root.resolve()
    target = (real_root / text).resolve()
    if target != real_root and not target.is_relative_to(real_root):
        raise PathRefused(prompts.render("path_errors#outside", path=repr(text)))
    rel = target.relative_to(real_root)
    if rel.parts and rel.parts[0] in _PROTECTED_TOP:
        raise PathRefused(prompts.render("path_errors#protected", path=repr(text), top=rel.parts[0]))
    return target


def relative_to_root(root: Path, path: Path) -> str:
    """``path`` (inside ``root``) as the POSIX relative path agents and diffs use."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def iter_files(root: Path, start: Path, pattern: str | None = None) -> Iterator[str]:
    """Relative POSIX paths of the regular files under ``start`` (inside ``root``), sorted, skipping IGNORED_DIRS.

    ``pattern`` is a glob matched against the relative path and against the file name (``*.py`` matches at any
    depth, ``src/*.py`` only there). Symlinks are listed but never followed into directories.
    """
    real_root = root.resolve()
    if start.is_file():
        rel = start.relative_to(real_root).as_posix()
        if _matches(rel, pattern):
            yield rel
        return
    for dirpath, dirnames, filenames in os.walk(start):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        base = Path(dirpath)
        for filename in sorted(f for f in filenames if f not in IGNORED_DIRS):  # a worktree's .git is a file
            rel = (base / filename).relative_to(real_root).as_posix()
            if _matches(rel, pattern):
                yield rel


def _matches(rel: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    name = rel.rsplit("/", 1)[-1]
    return fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(name, pattern) or PurePosixPath(rel).match(pattern)


def read_text(path: Path, *, max_bytes: int = 2_000_000) -> str:
    """The text of a file, newlines as stored (CRLF kept). Raises ValueError for binary or oversized files."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(prompts.render("path_errors#too_large", size=size, limit=max_bytes))
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        raise ValueError(prompts.load("path_errors#binary"))
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return handle.read()


def write_text(path: Path, text: str) -> None:
    """Write ``text`` exactly (no newline translation), creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)
