"""Helpers shared by tests across areas: a committed git repository, and a conversation on a real terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["make_repo", "converse"]


def make_repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """``root`` as a git repository on branch ``main`` with ``files`` (relative path → text or bytes) in one commit."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def _take_terminal() -> None:
    """In the child, before exec: a new session whose controlling terminal is stdin (the pty)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def converse(argv: Sequence[str], cwd: Path, env: Mapping[str, str], answers: Sequence[tuple[bytes, bytes]],
             *, timeout_s: float = 180, controlling: bool = False) -> tuple[int, str]:
    """Run ``argv`` on a pty, typing each answer once its question has shown (in order): (exit status, output).

    A run silent for ``timeout_s`` is killed (the status then says so), so a question that never comes fails the
    test instead of hanging it. ``controlling``: the pty is the child's controlling terminal (its own session), so
    a typed Ctrl-C (``b"\\x03"``) reaches it as SIGINT, as on a real terminal.
    """
    master, slave = pty.openpty()
    proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=slave, stdout=slave, stderr=slave,
                            close_fds=True, preexec_fn=_take_terminal if controlling else None)  # noqa: PLW1509 (2 syscalls)
    os.close(slave)
    seen, mark, pending = b"", 0, list(answers)
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout_s)
            if not ready:
                proc.kill()
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            # Several questions may arrive in one read (a loaded machine): answer every one that has shown.
            while pending and pending[0][0] in seen[mark:]:
                mark = seen.index(pending[0][0], mark) + len(pending[0][0])
                os.write(master, pending.pop(0)[1])
    finally:
        os.close(master)
    return proc.wait(timeout=timeout_s), seen.decode("utf-8", errors="replace")
