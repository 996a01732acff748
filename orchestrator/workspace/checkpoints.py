"""A step's checkpoint on disk: the state of the paths an edit touches, before and after it, and putting the "before"
back (``orchestrate undo``; the journal's rollback of a half-applied edit).

A path's state is a :class:`~orchestrator.core.records.FileImage` (sha256 of its bytes, or of a symlink's target, and
its ``lstat`` mode). Two states are *the same* when their bytes and their git-visible mode (regular, executable,
symlink) are: a ``chmod g+w`` by the user's umask is not a change, a ``chmod +x`` is. Every path is relative to the
tree's top; a path that would leave the tree is refused (:class:`~orchestrator.core.errors.InputError`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from orchestrator.core.errors import InputError
from orchestrator.core.records import FileImage, JournalEntry

__all__ = ["image", "images", "preimage", "premodes", "new_dirs", "same", "before", "write_image", "restore"]


def _path(root: Path, rel: str) -> Path:
    path = root / rel
    if ".." in Path(rel).parts or Path(rel).is_absolute():
        raise InputError(f"the journal names a path outside {root}: {rel}", hint="the session store is damaged")
    return path


def image(root: Path, rel: str) -> FileImage:
    """The current state of ``root/rel`` (a directory where a file was counts as absent: it holds no file content)."""
    path = _path(root, rel)
    try:
        info = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return FileImage()
    if stat.S_ISLNK(info.st_mode):
        data = os.fsencode(os.readlink(path))
    elif stat.S_ISREG(info.st_mode):
        data = path.read_bytes()
    else:
        return FileImage()
    return FileImage(sha256=hashlib.sha256(data).hexdigest(), mode=info.st_mode)


def images(root: Path, files: Iterable[str]) -> dict[str, FileImage]:
    return {rel: image(root, rel) for rel in files}


def preimage(root: Path, rel: str) -> str | None:
    """What the journal keeps of ``rel`` before an edit: its bytes (a symlink: its target) base64, None if absent."""
    path = _path(root, rel)
    if path.is_symlink():
        return base64.b64encode(os.fsencode(os.readlink(path))).decode()
    return base64.b64encode(path.read_bytes()).decode() if path.is_file() else None


def premodes(root: Path, files: Iterable[str]) -> dict[str, int | None]:
    return {rel: image(root, rel).mode for rel in files}


def new_dirs(root: Path, files: Iterable[str]) -> tuple[str, ...]:
    """The directories writing ``files`` would create (absent now), deepest first: undo removes them if empty."""
    found: set[str] = set()
    for rel in files:
        for parent in Path(rel).parents:
            if parent != Path() and not (root / parent).is_dir():
                found.add(parent.as_posix())
    return tuple(sorted(found, key=lambda p: (-p.count("/"), p)))


def _git_mode(mode: int | None) -> int | None:
    if mode is None:
        return None
    if stat.S_ISLNK(mode):
        return 0o120000
    return 0o100755 if mode & stat.S_IXUSR else 0o100644


def same(a: FileImage, b: FileImage) -> bool:
    """Whether two states hold the same bytes and the same git-visible mode."""
    return a.sha256 == b.sha256 and _git_mode(a.mode) == _git_mode(b.mode)


def before(entry: JournalEntry, rel: str) -> FileImage:
    """The state ``rel`` had before ``entry``'s edit (from its pre-image; the mode is unknown for old entries)."""
    content = entry.preimages.get(rel)
    if content is None:
        return FileImage()
    digest = hashlib.sha256(base64.b64decode(content)).hexdigest()
    return FileImage(sha256=digest, mode=entry.premodes.get(rel, stat.S_IFREG | 0o644))


def write_image(root: Path, rel: str, content: str | None, mode: int | None) -> None:
    """Make ``root/rel`` hold ``content`` (base64; None: remove it) with ``mode`` (None: a regular file, mode kept)."""
    path = _path(root, rel)
    if path.is_symlink() or (content is None and path.exists()) or path.is_dir():
        _remove(path)
    if content is None:
        return
    data = base64.b64decode(content)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is not None and stat.S_ISLNK(mode):
        _remove(path)
        os.symlink(os.fsdecode(data), path)
        return
    path.write_bytes(data)
    if mode is not None:
        path.chmod(stat.S_IMODE(mode))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        with contextlib.suppress(OSError):
            path.rmdir()  # a directory where a file was is removed only if empty: its content is not ours
        return
    path.unlink(missing_ok=True)


def restore(root: Path, entry: JournalEntry) -> None:
    """Put every path of ``entry`` back as it was before the edit: first remove what the edit created (files, then
    its new directories once empty), then write back what existed (so a file that became a directory, or the other
    way round, comes back too)."""
    for rel in sorted((f for f in entry.files if entry.preimages.get(f) is None), key=lambda p: -p.count("/")):
        write_image(root, rel, None, None)
    for rel in entry.new_dirs:
        with contextlib.suppress(OSError):
            (root / rel).rmdir()
    for rel in entry.files:
        content = entry.preimages.get(rel)
        if content is not None:
            write_image(root, rel, content, entry.premodes.get(rel))
