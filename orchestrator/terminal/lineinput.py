"""One line typed at the terminal while the live region keeps drawing: the keys are read here and echoed by the
screen (inside the live region), not by the terminal, so a redraw can never overwrite what is being typed.

Editing: printable characters (UTF-8), Backspace, Ctrl-U (clear), Ctrl-W (delete a word); Enter ends the line;
Ctrl-D on an empty line is closed input (EOFError, like ``input()``); escape sequences (arrows...) are ignored.
Ctrl-C stays a signal (ISIG is left on): the run's handler cancels it, and :meth:`LineInput.restore` puts the
terminal back from whichever thread handles that.
"""

from __future__ import annotations

import codecs
import os
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LineInput"]

_ENTER = ("\r", "\n")
_ERASE = ("\x7f", "\x08")


class LineInput:
    """Reads one line from the terminal ``fd``; :attr:`text` is what has been typed so far."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.text = ""
        self._saved: list[Any] | None = None
        self._lock = threading.Lock()
        self._escape = ""  # inside an escape sequence: what came of it so far

    def start(self) -> None:
        """Take the keys one at a time, without the terminal's echo (Ctrl-C still signals). Call before showing the
        question: what is typed from then on is ours to draw. Keys typed ahead are kept (TCSANOW, not FLUSH)."""
        import termios
        import tty

        with self._lock:
            if self._saved is None:
                self._saved = termios.tcgetattr(self.fd)
                tty.setcbreak(self.fd, termios.TCSANOW)

    def read(self, on_change: Callable[[], None]) -> str:
        """The line typed (without its newline); ``on_change()`` after each key that changed :attr:`text`."""
        self.start()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while True:
                data = os.read(self.fd, 256)
                if not data:
                    raise EOFError
                for char in decoder.decode(data):
                    if self._key(char):
                        return self.text
                on_change()
        finally:
            self.restore()

    def restore(self) -> None:
        """Put the terminal back as it was (idempotent; safe from another thread)."""
        import termios

        with self._lock:
            if self._saved is not None:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
                self._saved = None

    def _key(self, char: str) -> bool:
        """Apply one typed character; True when the line is complete."""
        if self._escape:
            self._escape += char
            # CSI sequences end with a letter or ~; a two-character sequence (ESC x) ends at once.
            if (len(self._escape) == 2 and char != "[") or (len(self._escape) > 2 and (char.isalpha() or char == "~")):
                self._escape = ""
            return False
        if char in _ENTER:
            return True
        if char == "\x1b":
            self._escape = char
        elif char in _ERASE:
            self.text = self.text[:-1]
        elif char == "\x15":
            self.text = ""
        elif char == "\x17":
            self.text = self.text.rstrip().rpartition(" ")[0] + (" " if " " in self.text.rstrip() else "")
        elif char == "\x04":
            if not self.text:
                raise EOFError
        elif char >= " ":
            self.text += char
        return False
