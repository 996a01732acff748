"""The user's dependency folders, linked read-only into each staging (``staging.include``).

A staging holds what the snapshot holds: tracked files and untracked files that are not ignored. The folders a
project's dependencies live in (``node_modules``, ``.venv``, ...) are usually ignored, so a check like ``npm test`` or
the venv's ``pytest`` could not run in a staging. Each ``staging.include`` pattern names such paths in the user's tree
(relative to the project root; ``*``, ``?``, ``[...]`` match within one name, ``**`` any number of directories);
every match the staging lacks is linked in:

- a directory becomes a real directory of symlinks, one per entry (so an ignore rule for the directory, like
  ``node_modules/``, still matches it and ``git status`` in the staging stays clean);
- anything else becomes one symlink.

A match the staging already has (a tracked or not-ignored folder) is left as it is. The links point into the user's
tree, which is not writable by a staging's sandboxed commands (only the staging and ``sandbox.writable_roots`` are):
the dependencies are read-only there, while new entries may still be created in the staging's own directory. The
caller keeps the linked paths out of every step's change.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path, PurePosixPath

__all__ = ["DEFAULT_INCLUDE", "find", "link"]

# Built-in patterns: those that match nothing are not worth a note (most projects have one kind of dependencies).
DEFAULT_INCLUDE = ("node_modules", ".venv", "venv", "env", "vendor")
_GLOB = frozenset("*?[")


def find(top: Path, patterns: Sequence[str], *, skip: Collection[Path] = ()) -> dict[str, list[str]]:
    """Pattern → the paths (relative, POSIX) it matches under ``top``, never inside ``.git`` or ``skip``. Matching
    does not descend into a match (``**/node_modules`` does not search ``node_modules`` itself) nor follow links."""
    found: dict[str, list[str]] = {}
    for pattern in patterns:
        parts = [p for p in PurePosixPath(pattern).parts if p not in ("", ".")]
        matches: list[str] = []
        if parts and not PurePosixPath(pattern).is_absolute() and ".." not in parts:
            _walk(top, "", parts, matches, frozenset(skip))
        found[pattern] = matches
    return found


def _walk(top: Path, rel: str, parts: list[str], found: list[str], skip: frozenset[Path]) -> None:
    if not parts:
        if rel and top / rel not in skip:
            found.append(rel)
        return
    head, rest = parts[0], parts[1:]
    if head == "**":
        _walk(top, rel, rest, found, skip)
        for child in _subdirs(top / rel):
            child_rel = _join(rel, child)
            if child_rel not in found:
                _walk(top, child_rel, parts, found, skip)
        return
    if not _GLOB.intersection(head):
        if os.path.lexists(top / rel / head) and (not rest or _is_dir(top / rel / head)):
            _walk(top, _join(rel, head), rest, found, skip)
        return
    names = sorted(os.listdir(top / rel)) if (top / rel).is_dir() else []
    for name in names:
        if name != ".git" and fnmatch.fnmatchcase(name, head) and (not rest or _is_dir(top / rel / name)):
            _walk(top, _join(rel, name), rest, found, skip)


def _subdirs(directory: Path) -> list[str]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    return [e.name for e in entries if e.name != ".git" and e.is_dir(follow_symlinks=False)]


def _is_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name


def link(top: Path, tree: Path, paths: Iterable[str]) -> tuple[str, ...]:
    """Link each of ``paths`` (relative) from ``top`` into ``tree`` where ``tree`` lacks it; the ones linked."""
    linked: list[str] = []
    for rel in paths:
        source, dest = top / rel, tree / rel
        if os.path.lexists(dest) or any(rel.startswith(f"{done}/") for done in linked):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if _is_dir(source):
            dest.mkdir()
            for entry in sorted(os.listdir(source)):
                os.symlink(source / entry, dest / entry)
        else:
            os.symlink(source, dest)
        linked.append(rel)
    return tuple(linked)
