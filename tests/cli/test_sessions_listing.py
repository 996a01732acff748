"""``orchestrate sessions`` at 80 columns (issue 14: a 4-character task column, one session over 10 lines; ids cut
when piped). On a terminal no session takes more than 2 lines and no line wraps; piped, nothing is cut."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli
from orchestrator.core.events import GitInfo
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store

REPO_ROOT = Path(__file__).resolve().parents[2]
TASK = "Add a --verbose flag to the command line interface, document it in the README with two examples, " * 2
ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]+\b")


@pytest.fixture
def sessions(orchestrate_home: Path, tmp_path: Path) -> Iterator[list[tuple[str, str, str]]]:
    """Three sessions with long tasks, long directories and a long branch: (id, task, cwd), newest first."""
    store = Store(Home(orchestrate_home))
    made = []
    for n, status in enumerate(("succeeded", "failed", "running")):
        cwd = tmp_path / "some" / "rather" / "deeply" / "nested" / f"project-number-{n}"
        with store.create(cwd=cwd, task=f"{n} {TASK}", git=GitInfo(branch="feature/a-long-branch-name-" + str(n))) as s:
            s.update_meta(status=status)
            made.append((s.id, " ".join(f"{n} {TASK}".split()), str(cwd)))
    store.close()
    yield made[::-1]


def _blocks(text: str) -> list[list[str]]:
    """The listing's sessions: each a list of its lines (a session starts at a line that starts with an id)."""
    blocks: list[list[str]] = []
    for line in text.splitlines()[1:]:  # the header
        if ID.match(line):
            blocks.append([line])
        elif blocks and line.strip():
            blocks[-1].append(line)
    return blocks


def _listing(width: int, *, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, color_system=None)
    assert cli(["sessions", "--all"], CliContext(out=console, err=console)) == 0
    return out.getvalue()


def test_at_80_columns_a_session_takes_at_most_two_lines(sessions: list[tuple[str, str, str]]) -> None:
    text = _listing(80, terminal=True)
    blocks = _blocks(text)
    assert [b[0].split()[0] for b in blocks] == [s[0] for s in sessions]  # whole ids, newest first
    assert all(len(b) <= 2 for b in blocks), text
    assert all(len(line) <= 80 for line in text.splitlines()), text
    for block, (_, task, _) in zip(blocks, sessions, strict=True):
        shown = " ".join(block)
        assert task[:40] in shown and shown.rstrip().endswith("…"), text  # the task: readable, cut visibly


def test_one_directory_at_80_columns_is_one_line_a_session(sessions: list[tuple[str, str, str]]) -> None:
    _, task, cwd = sessions[0]
    Path(cwd).mkdir(parents=True)
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    assert cli(["sessions", "-C", cwd], CliContext(out=console, err=console)) == 0
    (line,) = _blocks(out.getvalue())[0]
    assert len(line) <= 80 and task[:20] in line and line.endswith("…"), out.getvalue()


def test_a_wide_terminal_gives_each_session_one_line(sessions: list[tuple[str, str, str]]) -> None:
    text = _listing(160, terminal=True)
    blocks = _blocks(text)
    assert len(blocks) == 3 and all(len(b) == 1 for b in blocks), text
    assert all(len(line) <= 160 for line in text.splitlines())


def test_piped_nothing_is_cut(sessions: list[tuple[str, str, str]]) -> None:
    text = _listing(80, terminal=False)
    blocks = _blocks(text)
    assert len(blocks) == 3 and all(len(b) == 1 for b in blocks), text
    for (session_id, task, cwd), (line,) in zip(sessions, blocks, strict=True):
        assert line.startswith(session_id + " ") and task in line and line.rstrip().endswith(cwd)
        assert "…" not in line


def test_on_a_real_80_column_terminal(sessions: list[tuple[str, str, str]], orchestrate_home: Path,
                                      tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
    env = {**os.environ, "ORCHESTRATE_HOME": str(orchestrate_home), "HOME": str(tmp_path), "PYTHONPATH": str(REPO_ROOT),
           "TERM": "xterm-256color"}
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", "sessions", "--all"], stdin=slave, stdout=slave,
                            stderr=slave, env=env, cwd=tmp_path, close_fds=True)
    os.close(slave)
    raw = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        raw += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode()).replace("\r\n", "\n")
    blocks = _blocks(text)
    assert [b[0].split()[0] for b in blocks] == [s[0] for s in sessions], text
    assert all(len(b) <= 2 for b in blocks) and all(len(line) <= 80 for line in text.splitlines()), text
    assert "~/some/rather" in text or "…" in text  # the directory is shown for a person, shortened


def test_control_characters_in_a_task_are_shown_not_obeyed(orchestrate_home: Path, tmp_path: Path) -> None:
    store = Store(Home(orchestrate_home))
    with store.create(cwd=tmp_path, task="clear\x1b[2J the screen\x07") as s:
        session_id = s.id
    store.close()
    for terminal in (True, False):
        text = _listing(120, terminal=terminal)
        assert "\x1b[2J" not in text and "\x07" not in text
        assert f"{session_id} " in text and "clear\\x1b[2J the screen\\x07" in text
