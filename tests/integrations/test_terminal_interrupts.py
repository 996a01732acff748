"""The interactive commands and the terminal (issue 14): without one they stop with one line (exit 2); on one,
Ctrl-C or closed input (Ctrl-D) at a question stops the run at once, saved, with the command that resumes it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integrations.conftest import REPO_ROOT
from tests.integrations.test_wiring_interactive import _scripts
from tests.support import converse, make_repo


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ORCHESTRATE_HOME": str(home), "TERM": "dumb",
            "COLUMNS": "200"}


@pytest.mark.parametrize(("args", "suggested"), [(("do it",), "orchestrate exec TASK"),
                                                  (("resume",), "orchestrate exec resume --last")])
def test_without_a_terminal_the_interactive_commands_stop_with_one_line(
        tmp_path: Path, orchestrate_home: Path, args: tuple[str, ...], suggested: str) -> None:
    project = make_repo(tmp_path / "project", {"README.md": "demo\n"})
    proc = subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=project, env=_env(orchestrate_home),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "needs a terminal" in lines[0] and suggested in lines[0], lines


@pytest.mark.parametrize("key", [b"\x03", b"\x04"], ids=["ctrl-c", "ctrl-d"])
def test_ctrl_c_or_closed_input_at_the_approval_question_stops_the_run_saved(
        tmp_path: Path, orchestrate_home: Path, key: bytes) -> None:
    project = make_repo(tmp_path / "project", {"README.md": "demo\n"})
    argv = [sys.executable, "-m", "orchestrator", "run", "-a", "untrusted", "-c", "validate.commands=[]",
            *_scripts(tmp_path), "make made.txt"]
    status, shown = converse(argv, project, _env(orchestrate_home), [(b"Run this plan?", b"a\r"), (b"Choice", key)],
                             timeout_s=60, controlling=True)
    assert status == 130, shown
    assert "Traceback" not in shown
    assert re.search(r"orchestrate resume \S+", shown), shown
    assert not (project / "made.txt").exists()


def test_closed_input_at_a_question_before_the_run_is_no_answer(tmp_path: Path, orchestrate_home: Path) -> None:
    project = make_repo(tmp_path / "project", {"README.md": "demo\n"})
    argv = [sys.executable, "-m", "orchestrator", "run", *_scripts(tmp_path)]
    status, shown = converse(argv, project, _env(orchestrate_home), [(b"What should I do?", b"\x04")], timeout_s=60)
    assert status == 2, shown
    assert "Traceback" not in shown and "no answer (input closed)" in shown, shown
