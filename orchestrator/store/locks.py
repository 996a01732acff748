"""Cross-process locks (``fcntl.flock``): who may run a session, and who may write the user's working tree.

- :class:`FileLock` is one advisory lock on a file. The kernel drops it when its holder dies, SIGKILL included, so a
  killed run never leaves a stale lock behind. Two opens of the file exclude each other even inside one process.
- :func:`tree_lock` is the lock of one working tree: every process applying an edit to the tree (or repairing a
  half-applied one) holds it for that edit, so two sessions in one repository never interleave their writes (a
  check-then-apply of one landing between the other's check and apply would lose an edit). It lives in the
  repository's git directory when there is one (shared by every ``$ORCHESTRATE_HOME``), else in the home.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from types import TracebackType

__all__ = ["FileLock", "tree_lock"]


class FileLock:
    """An exclusive ``flock`` on ``path`` (created if missing). Use ``with`` to wait for it, or :meth:`try_acquire`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False (and nothing held) if another holder has it."""
        return self._take(fcntl.LOCK_EX | fcntl.LOCK_NB)

    def acquire(self) -> None:
        """Take the lock, waiting as long as another holder has it."""
        self._take(fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def _take(self, flags: int) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def tree_lock(top: Path, home_root: Path) -> FileLock:
    """The apply lock of the working tree rooted at ``top`` (see the module docstring)."""
    git_dir = top / ".git"
    if git_dir.is_dir():
        return FileLock(git_dir / "orchestrate-apply.lock")
    digest = hashlib.sha256(str(top.resolve()).encode()).hexdigest()[:24]
    return FileLock(home_root / "locks" / f"{digest}.lock")
