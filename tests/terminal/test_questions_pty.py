"""Questions on a real terminal (issue 14), rendered by pyte into what a person sees, at 80 and 160 columns.

The line being typed is drawn by the screen in the live region, which keeps drawing (it used to redraw over the
prompt: the approval's ``Choice`` line and the typed answer never showed, Enter silently denied); the question and the
answer stay in the scrollback; the other steps keep running meanwhile, their timers moving on the screen (the event
loop used to wait on the prompt: a parallel step froze), their lines printed once the question is answered; Ctrl-C
at a question exits 130 with the resume line.
"""

from __future__ import annotations

import os
import re
import sys
import termios
from pathlib import Path

import pytest

from tests.integrations.test_wiring_interactive import _scripts
from tests.support import make_repo
from tests.terminal.pty_screen import PtyScreen

ROOT = Path(__file__).resolve().parents[2]
PARALLEL = ["-m", "function:tests.terminal.screen_models:parallel", "-c", "validate.commands=[]",
            "-c", "planner.merge_chars=0"]
DIFF_PROMPT = "Apply this change to your working tree? [y/n/c] (y):"
COLUMNS = pytest.mark.parametrize("columns", [80, 160])


def _screen(tmp_path: Path, home: Path, args: list[str], columns: int, **env: str) -> tuple[PtyScreen, Path]:
    project = make_repo(tmp_path / "project", {"README.md": "demo\n"})
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home), **env}
    return PtyScreen([sys.executable, "-m", "orchestrator", "run", *args], cwd=project, env=environ,
                     columns=columns), project


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _elapsed(display: str, step: str) -> float | None:
    """The elapsed seconds on ``step``'s row of the live table on the screen now (None: no such row)."""
    for line in _lines(display):
        found = re.match(rf"{step}\s.*?\b(\d+\.\d)s\b", line)
        if found:
            return float(found.group(1))
    return None


@COLUMNS
def test_the_other_step_runs_on_while_a_question_is_open(tmp_path: Path, orchestrate_home: Path,
                                                          columns: int) -> None:
    gate = tmp_path / "gate"
    log = Path(f"{gate}.log")
    screen, project = _screen(tmp_path, orchestrate_home, [*PARALLEL, "write two files"], columns,
                              SCREEN_GATE=str(gate))
    screen.expect("Run this plan?")
    screen.send(b"a\r")
    screen.expect(DIFF_PROMPT, "quick's diff question")
    # While the question is open, the live table goes on under it: successive screens show slow's timer advance.
    first = screen.expect(lambda _: _elapsed(screen.display(), "slow") is not None and DIFF_PROMPT in screen.display())
    started = _elapsed(screen.display(), "slow")
    assert started is not None, first
    screen.expect(lambda _: (_elapsed(screen.display(), "slow") or 0) > started and DIFF_PROMPT in screen.display(),
                  "slow's elapsed time advancing under the open question")
    screen.send(b"y")  # typed, not yet entered: drawn by the screen, and a redraw keeps it
    screen.expect(lambda _: f"{DIFF_PROMPT} y" in screen.display(), "the typed answer on the question's line")
    gate.touch()  # the slow step may finish now, while quick's question is open
    screen.expect(lambda _: log.is_file() and "review" in log.read_text(), "the slow step reviewed meanwhile")
    screen.send(b"\r")
    screen.expect(lambda text: text.count(DIFF_PROMPT) == 2, "slow's diff question, queued behind quick's")
    screen.send(b"y\r")
    status = screen.finish()
    text = screen.text()
    assert status == 0, text
    lines = _lines(text)
    answered = [i for i, line in enumerate(lines) if line == f"{DIFF_PROMPT} y"]
    assert len(answered) == 2, text  # both questions and their echoed answers stay on the screen
    between = lines[answered[0] + 1:answered[1]]
    # What the slow step did while quick's question was open is printed once it is answered, before slow's question.
    assert "review slow: approve" in between and any("step slow: write slow.txt" in line for line in between), text
    assert text.count("Run this plan? accept / edit the task / quit [a/e/q] (a): a") == 1, text
    assert text.count("Plan: two files, in parallel") == 1, text  # nothing drawn twice
    assert all(len(line) <= columns for line in lines)
    assert (project / "slow.txt").read_text() == "slow\n" and (project / "quick.txt").read_text() == "quick\n"


@COLUMNS
def test_the_approval_question_and_the_typed_answers_are_visible(tmp_path: Path, orchestrate_home: Path,
                                                                 columns: int) -> None:
    screen, project = _screen(tmp_path, orchestrate_home, ["-a", "untrusted", "-c", "validate.commands=[]",
                                                           *_scripts(tmp_path), "make made.txt"], columns)
    screen.expect("Run this plan?")
    screen.send(b"a\r")
    shown = screen.expect("Choice [y/s/a/n] (n):", "the approval's input line")
    assert "$ touch made.txt" in shown, shown
    screen.send(b"a\r")
    screen.expect("Save the rule in [u/p] (u):", "where to save the rule")
    screen.send(b"p\r")
    screen.expect(DIFF_PROMPT)
    screen.send(b"y\r")
    status = screen.finish()
    lines = _lines(screen.text())
    assert status == 0, screen.text()
    for answered in ("Choice [y/s/a/n] (n): a", "Save the rule in [u/p] (u): p", f"{DIFF_PROMPT} y"):
        assert answered in lines, screen.text()
    assert (project / "made.txt").exists()
    assert '"touch"' in (project / ".orchestrate" / "rules" / "default.rules").read_text()


@COLUMNS
def test_ctrl_c_at_the_diff_question_exits_130_with_the_resume_line(tmp_path: Path, orchestrate_home: Path,
                                                                     columns: int) -> None:
    screen, project = _screen(tmp_path, orchestrate_home, [*PARALLEL, "write two files"], columns)
    screen.expect("Run this plan?")
    screen.send(b"a\r")
    screen.expect(DIFF_PROMPT)
    screen.send(b"n")  # half typed: the terminal is in key-by-key mode now
    screen.expect(lambda _: f"{DIFF_PROMPT} n" in screen.display())
    screen.send(b"\x03")
    status = screen.finish()
    modes = screen.modes_at_exit
    assert modes is not None and modes & termios.ECHO and modes & termios.ICANON  # the terminal is given back
    text = screen.text()
    assert status == 130, text
    assert "Traceback" not in text
    assert re.search(r"orchestrate resume \d{8}-\d{6}-\w+", "".join(_lines(text))), text  # however wrapped
    assert not any(line.startswith(DIFF_PROMPT) and len(line) > len(DIFF_PROMPT) + 3 for line in _lines(text)), text
    assert not (project / "quick.txt").exists()


CHANGEABLE = ["-m", "function:tests.terminal.screen_models:changeable"]


def test_change_it_at_the_diff_sends_guidance_to_the_coder_and_asks_again(tmp_path: Path,
                                                                           orchestrate_home: Path) -> None:
    screen, project = _screen(tmp_path, orchestrate_home, [*CHANGEABLE, "-c", "validate.commands=[]", "a note"], 80)
    screen.expect("Run this plan?")
    screen.send(b"a\r")
    screen.expect(DIFF_PROMPT)
    screen.send(b"c\r")
    screen.expect("Tell the coder what to change:")
    screen.send(b"louder please\r")
    screen.expect(lambda text: text.count(DIFF_PROMPT) == 2 and "+HELLO" in text, "the changed diff, asked again")
    screen.send(b"y\r")
    status = screen.finish()
    lines = _lines(screen.text())
    assert status == 0, screen.text()
    assert f"{DIFF_PROMPT} c" in lines and "Tell the coder what to change: louder please" in lines
    assert (project / "note.txt").read_text() == "HELLO\n"


def test_a_failed_step_is_asked_about_and_retried_with_guidance(tmp_path: Path, orchestrate_home: Path) -> None:
    args = [*CHANGEABLE, "-c", 'validate.commands=["test -f ok.txt"]', "-c", "validate.max_rounds=1", "a note"]
    screen, project = _screen(tmp_path, orchestrate_home, args, 80)
    screen.expect("Run this plan?")
    screen.send(b"a\r")
    shown = screen.expect("What now? [r/g/s/q] (s):", "the failed step's question")
    assert "step note failed" in shown, shown
    screen.send(b"g\r")
    screen.expect("Tell the coder what to do differently:")
    screen.send(b"also write ok.txt\r")
    screen.expect(DIFF_PROMPT)
    screen.send(b"y\r")
    status = screen.finish()
    lines = _lines(screen.text())
    assert status == 0, screen.text()
    assert "What now? [r/g/s/q] (s): g" in lines, screen.text()
    assert (project / "ok.txt").read_text() == "ok\n" and (project / "note.txt").read_text() == "hello\n"
