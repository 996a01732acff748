"""A process on a real pseudo-terminal, its output rendered by pyte into the screen a person sees.

Used by the terminal tests and by ``scripts/screens.py`` (the README's screen captures). Waiting is by condition
(:meth:`PtyScreen.expect`), never by time: the timeout only turns a question that never comes into a failure instead
of a hang.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PtyScreen"]


def _take_terminal() -> None:
    """In the child, before exec: a new session whose controlling terminal is the pty (Ctrl-C → SIGINT)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyScreen:
    """``argv`` running on a ``columns`` x ``lines`` pty; :meth:`text` is the rendered scrollback plus the screen."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], columns: int = 80,
                 lines: int = 50, timeout_s: float = 120) -> None:
        import pyte

        self.columns, self.timeout_s = columns, timeout_s
        self.screen: Any = pyte.HistoryScreen(columns, lines, history=5000)
        self._stream: Any = pyte.ByteStream(self.screen)
        self.raw = b""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        sized = {**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)}
        self.proc = subprocess.Popen(list(argv), cwd=cwd, env=sized, stdin=slave, stdout=slave, stderr=slave,
                                     close_fds=True, preexec_fn=_take_terminal)  # noqa: PLW1509 (2 syscalls)
        os.close(slave)
        self._master: int | None = master
        self.modes_at_exit: int | None = None  # lflag (ECHO, ICANON...) when the process closed the terminal

    def _pump(self, wait_s: float) -> str:
        """Read what the process wrote within ``wait_s``: "data", "silent" (nothing came) or "closed"."""
        if self._master is None:
            return "closed"
        ready, _, _ = select.select([self._master], [], [], wait_s)
        if not ready:
            return "silent"
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: the child closed the terminal
            chunk = b""
        if not chunk:
            with contextlib.suppress(OSError):  # the terminal's modes as the process left them
                self.modes_at_exit = termios.tcgetattr(self._master)[3]
            os.close(self._master)
            self._master = None
            return "closed"
        self.raw += chunk
        self._stream.feed(chunk)
        return "data"

    def expect(self, seen: str | Callable[[str], bool], what: str = "") -> str:
        """Read until ``seen`` (a string on the screen, or a predicate on :meth:`text`) holds; the text then.

        The predicate may look elsewhere too (a file the process writes): it is checked every 0.1 s even while the
        screen stays still. Raises AssertionError (with the screen) if the process ends first, or if ``seen`` does
        not hold within ``timeout_s`` (a hang guard, not a timing assertion)."""
        check = (lambda text: seen in text) if isinstance(seen, str) else seen
        deadline = time.monotonic() + self.timeout_s  # the live region redraws forever: silence is no hang sign
        while not check(text := self.text()):
            state = self._pump(0.1)
            if state == "closed" or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"never saw {what or seen!r} ({state}); the screen:\n{text}")
        return text

    def send(self, data: bytes) -> None:
        assert self._master is not None, "the process closed its terminal"
        os.write(self._master, data)

    def close(self) -> None:
        """Stop the process if it still runs, and let go of the terminal (safe to call twice)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=self.timeout_s)
        if self._master is not None:
            os.close(self._master)
            self._master = None

    def finish(self) -> int:
        """Read to the end; the exit status. AssertionError (with the screen) if it runs on past ``timeout_s``."""
        deadline = time.monotonic() + self.timeout_s
        while self._pump(0.1) != "closed":
            if time.monotonic() > deadline:
                text = self.text()
                self.close()
                raise AssertionError(f"still running after {self.timeout_s} s; the screen:\n{text}")
        return self.proc.wait(timeout=self.timeout_s)

    def display(self) -> str:
        """Only what is on the screen now (the live region is at its bottom), right-stripped."""
        return "\n".join(line.rstrip() for line in self.screen.display).rstrip("\n")

    def text(self) -> str:
        """Every line that scrolled off the top, then the screen, right-stripped, without trailing blank lines."""
        width = self.columns
        lines = ["".join(line[x].data for x in range(width)).rstrip() for line in self.screen.history.top]
        lines += [line.rstrip() for line in self.screen.display]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)
