"""Where AGENTS.md docs are: the project root, the directories searched, and the one doc picked per directory.

Discovery only looks at the chain of directories between the project root and the working directory (and, for
scoped docs, the chain between the working directory and a file): it ``stat``\\s a handful of names per directory and
never lists or walks a tree, so its cost does not grow with the size of the repository.

The rules follow Codex's ``agents_md.rs``:

- the project root is the nearest ancestor of ``cwd`` (``cwd`` included) holding one of the root markers (a file or a
  directory; a dangling symlink does not count); no markers, or no marker found: only ``cwd`` is searched;
- in each directory, the first of ``AGENTS.override.md``, ``AGENTS.md`` and the fallback names that is a regular file
  (symlinks followed) is that directory's doc; anything else with such a name (a directory) is skipped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath

from orchestrator.settings.config import marked_ancestor as find_project_root
from orchestrator.settings.config import project_chain

__all__ = [
    "OVERRIDE_FILENAME",
    "DEFAULT_FILENAME",
    "candidate_names",
    "find_project_root",
    "search_dirs",
    "doc_in",
    "project_doc_paths",
    "scoped_dirs",
    "scoped_doc_paths",
]

OVERRIDE_FILENAME = "AGENTS.override.md"
DEFAULT_FILENAME = "AGENTS.md"


def candidate_names(fallbacks: Iterable[str] = ()) -> tuple[str, ...]:
    """The names tried in each directory, in order: the override, ``AGENTS.md``, then the fallbacks.

    Empty and repeated fallback names are ignored (as Codex does).
    """
    names = [OVERRIDE_FILENAME, DEFAULT_FILENAME]
    for name in fallbacks:
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _is_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def search_dirs(cwd: Path, root: Path | None) -> tuple[Path, ...]:
    """The directories whose docs apply in ``cwd``: from ``root`` down to ``cwd`` (both included), or ``cwd`` alone
    (no root, or a root that is not an ancestor of cwd: never search outside the chain)."""
    return (cwd,) if root is None else tuple(project_chain(root, cwd))


def doc_in(directory: Path, names: Sequence[str]) -> Path | None:
    """The first of ``names`` in ``directory`` that is a regular file (symlinks followed), or None."""
    base = str(directory)
    for name in names:
        candidate = os.path.join(base, name)
        if _is_file(candidate):
            return Path(candidate)
    return None


def project_doc_paths(cwd: Path, *, markers: Sequence[str], names: Sequence[str]) -> list[Path]:
    """The project docs that apply in ``cwd``, ordered from the project root down to ``cwd``, one per directory."""
    found: list[Path] = []
    for directory in search_dirs(cwd, find_project_root(cwd, markers)):
        doc = doc_in(directory, names)
        if doc is not None:
            found.append(doc)
    return found


def _relative_inside(cwd: Path, raw: str) -> PurePath | None:
    """``raw`` (relative to ``cwd``, or absolute) as a normalised path relative to ``cwd``; None if it leaves cwd."""
    if not raw:
        return None
    joined = os.path.normpath(os.path.join(str(cwd), raw))
    try:
        return PurePath(joined).relative_to(cwd)
    except ValueError:
        pass
    if os.path.isabs(raw):
        # An absolute path spelled through a symlink to the (resolved) cwd is still inside it.
        try:
            return PurePath(os.path.realpath(joined)).relative_to(cwd)
        except ValueError:
            pass
    return None


def scoped_dirs(cwd: Path, files: Iterable[str]) -> list[Path]:
    """The directories strictly below ``cwd`` on the way to each of ``files``, deduplicated, shallow to deep.

    A file's own directory and every directory between it and ``cwd`` count; a path naming an existing directory
    counts too. Paths outside ``cwd`` are ignored. Equal depths keep the order in which the files were given.
    """
    seen: dict[Path, int] = {}
    for raw in files:
        rel = _relative_inside(cwd, raw)
        if rel is None or not rel.parts:
            continue
        parts = rel.parts
        target = cwd.joinpath(*parts)
        depth = len(parts) if target.is_dir() else len(parts) - 1
        for i in range(1, depth + 1):
            directory = cwd.joinpath(*parts[:i])
            seen.setdefault(directory, len(seen))
    return sorted(seen, key=lambda d: (len(d.parts), seen[d]))


def scoped_doc_paths(cwd: Path, files: Iterable[str], *, names: Sequence[str]) -> list[Path]:
    """The docs in :func:`scoped_dirs` (one per directory), shallow to deep."""
    found: list[Path] = []
    for directory in scoped_dirs(cwd, files):
        doc = doc_in(directory, names)
        if doc is not None:
            found.append(doc)
    return found
