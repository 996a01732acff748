"""LineInput reads one typed line key by key on a real pty: editing keys apply, escape sequences are ignored, keys
typed ahead are kept, Ctrl-D on an empty line is closed input, and the terminal's modes come back afterwards."""

from __future__ import annotations

import os
import termios

import pytest

from orchestrator.terminal.lineinput import LineInput


def _typed(keys: bytes, *, ahead: bool = True) -> tuple[str, bool]:
    """The line read from ``keys``, typed before the line is read (``ahead``) or once it is; restored or not."""
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        editor = LineInput(slave)
        if not ahead:
            editor.start()
        os.write(master, keys)
        line = editor.read(lambda: None)
        return line, termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_the_keys_edit_the_line_and_the_terminal_is_restored() -> None:
    assert _typed(b"ab\x7fc\x1b[D d\xc3\xa9\r") == ("ac dé", True)  # typed ahead: nothing lost
    assert _typed(b"ab\x7fc\x1b[D d\xc3\xa9\r", ahead=False) == ("ac dé", True)


def test_ctrl_u_and_ctrl_w_clear() -> None:
    assert _typed(b"junk\x15one two\x17three\r")[0] == "one three"


def test_ctrl_d_on_an_empty_line_is_closed_input() -> None:
    with pytest.raises(EOFError):
        _typed(b"\x04", ahead=False)
