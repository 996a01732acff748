"""The interactive run on a real terminal (a pty rendered by pyte) shows one start-up header and one end summary
(issue 14), at 80 and 160 columns: the session id, the models, the sandbox mode and approval policy, the checks and
the working directory before the work; the files changed with their line counts, the steps, the usage and what to
do next (the undo command) after it."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.support import make_repo
from tests.terminal.pty_screen import PtyScreen

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("columns", [80, 160])
def test_the_run_starts_with_a_header_and_ends_with_a_summary(tmp_path: Path, orchestrate_home: Path,
                                                              columns: int) -> None:
    project = make_repo(tmp_path / "project", {"README.md": "demo\n"})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(orchestrate_home)}
    screen = PtyScreen([sys.executable, "-m", "orchestrator", "run", "-C", str(project), "--full-auto",
                        "-m", "function:tests.terminal.screen_models:parallel", "-c", "review.user_approves_diff=false",
                        "-c", 'validate.commands=["python3 -c pass"]', "write the files"],
                       cwd=project, env=env, columns=columns)
    try:
        screen.expect("Run this plan?", "the plan question")
        screen.send(b"a\r")
        status = screen.finish()
    finally:
        screen.proc.kill()  # never left running when the run does not end as it should
        screen.proc.wait()
    text = screen.text()
    assert status == 0, text
    assert all(len(line) <= columns for line in text.splitlines())
    header = text[:text.index("Plan:")]  # what came before the plan
    session = re.search(r"session\s+(\d{8}-\d{6}-\w+)", header)
    assert session is not None, header
    for fact in ("function:tests.terminal.screen_models:parallel", "workspace-write", "on-request",
                 "python3 -c pass", "workdir"):
        assert fact in header, fact
    assert text.count("╭─ orchestrate") == 1  # one header
    summary = text[text.rindex(f"session {session.group(1)}: succeeded"):]
    assert re.search(r"slow\.txt\s+\+1 -0", summary), summary
    assert "✓ slow" in summary and "tokens" in summary
    assert f"orchestrate undo {session.group(1)}" in summary and "git diff" in summary
