"""The interactive run on a real terminal (a pty): a check that cannot start is asked about once; the command the user
enters checks the change, and no coder round is spent on it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from orchestrator.testing import scripted_role_args
from tests.integrations.conftest import REPO_ROOT
from tests.support import converse, make_repo

BANK = "def deposit(balance, amount):\n    return balance + amount\n"
VALIDATED = ("def deposit(balance, amount):\n    if amount <= 0:\n        raise ValueError('amount must be positive')\n"
             "    return balance + amount\n")
CHECK = "from bank import deposit\ntry:\n    deposit(1, -1)\nexcept ValueError:\n    print('checked')\n"
APPROVE = {"checklist": [{"requirement": "reject non-positive deposits", "done": True}], "comments": [],
           "verdict": "approve"}


def _scripts(tmp: Path) -> list[str]:
    replies = {
        "planner": [json.dumps({"summary": "validate", "steps": [
            {"id": "s1", "role": "coder", "goal": "reject non-positive deposits", "files": ["bank.py"]}]})],
        "coder": [f"bank.py\n```python\n{VALIDATED}```"],  # one round only
        "reviewer": [json.dumps(APPROVE)] * 3,
    }
    return scripted_role_args(tmp, replies)


def test_the_user_replaces_a_check_that_cannot_start(tmp_path: Path, orchestrate_home: Path) -> None:
    # run-checks exists (so it is no config error) but is not executable: exit 126 when the checks run
    project = make_repo(tmp_path / "project", {"bank.py": BANK, "check.py": CHECK, "run-checks": "#!/bin/sh\n"})
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ORCHESTRATE_HOME": str(orchestrate_home), "TERM": "dumb",
           "COLUMNS": "200"}
    argv = [sys.executable, "-m", "orchestrator", "run", "-c", 'validate.commands=["./run-checks"]',
            *_scripts(tmp_path), "reject non-positive deposits"]
    answers = [(b"Run this plan?", b"a\r"), (b"leave empty to skip checks", b"python3 check.py\r"),
               (b"Apply this change", b"y\r")]
    status, shown = converse(argv, project, env, answers)
    assert status == 0, shown
    assert "check `./run-checks` cannot start" in shown and "exit 126" in shown
    assert shown.count("leave empty to skip checks") == 1
    assert (project / "bank.py").read_text() == VALIDATED
