"""End to end (``orchestrate exec --json`` as a subprocess, scripted models): the checks found are announced, a check
that cannot start fails its step at once (no second coder round) with the command and the fix, and a configured check
whose program does not exist is a config error before anything runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.core.events import parse_event
from orchestrator.testing import scripted_role_args
from tests.support import make_repo

ROOT = Path(__file__).resolve().parents[2]
BANK = "def deposit(balance, amount):\n    return balance + amount\n"
VALIDATED = ("def deposit(balance, amount):\n    if amount <= 0:\n        raise ValueError('amount must be positive')\n"
             "    return balance + amount\n")
TEST = ("import pytest\n\nfrom bank import deposit\n\n\ndef test_deposit():\n    assert deposit(1, 2) == 3\n"
        "    with pytest.raises(ValueError):\n        deposit(1, -1)\n")
PLAN = {"summary": "validate deposits", "steps": [
    {"id": "s1", "role": "coder", "goal": "reject non-positive deposits", "files": ["bank.py"]}]}
APPROVE = {"checklist": [{"requirement": "reject non-positive deposits", "done": True}], "comments": [],
           "verdict": "approve"}


def scripts(tmp: Path) -> list[str]:
    # ONE coder reply: a second coder round would find no reply and fail differently.
    replies = {"planner": [json.dumps(PLAN)], "coder": [f"bank.py\n```python\n{VALIDATED}```"],
               "reviewer": [json.dumps(APPROVE)] * 3, "validator": []}
    return scripted_role_args(tmp, replies)


def run(repo: Path, home: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home), "COLUMNS": "1000"}
    return subprocess.run([sys.executable, "-m", "orchestrator", "exec", "--json", *scripts(tmp), *extra,
                           "add input validation to bank.py"], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=240, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project's venv (recorded by pdm, outside the tree) has no pytest, and its tests use pytest."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return make_repo(tmp_path / "project", {"bank.py": BANK, "tests/test_bank.py": TEST,
                                            ".pdm-python": f"{venv}/bin/python\n"})


def test_a_check_that_cannot_start_fails_the_step_at_once(project: Path, orchestrate_home: Path,
                                                          tmp_path: Path) -> None:
    proc = run(project, orchestrate_home, tmp_path, "-s", "danger-full-access")
    python = f"{project.parent.resolve()}/venv/bin/python"
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"checks: `{python} -m pytest -q` (tests/; .pdm-python (pdm); the project uses pytest" in proc.stderr
    events = [parse_event(line) for line in proc.stdout.splitlines()]
    (plan,) = [e for e in events if e.type == "plan.created"]
    assert [c.command for c in plan.checks] == [f"{python} -m pytest -q"]
    validations = [e for e in events if e.type == "validation.completed"]
    assert len(validations) == 1 and not validations[0].passed
    assert f"pytest is not installed for {python}" in validations[0].output_tail
    assert [(e.step_id, e.status) for e in events if e.type == "step.completed"] == [
        ("s1", "failed")]
    assert events[-1].type == "session.completed" and events[-1].status == "failed"
    failed = [line for line in proc.stderr.splitlines() if "✗ s1:" in line]
    assert len(failed) == 1 and "cannot start" in failed[0] and f"{python} -m pip install pytest" in failed[0]
    assert (project / "bank.py").read_text() == BANK


def test_a_configured_check_that_does_not_exist_is_a_config_error(project: Path, orchestrate_home: Path,
                                                                   tmp_path: Path) -> None:
    proc = run(project, orchestrate_home, tmp_path, "-c", 'validate.commands=["pytets -q"]')
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "validate.commands: `pytets -q` cannot run: `pytets` is not installed" in errors[0]
    assert proc.stdout == ""  # no session was started


def test_an_interpreter_the_sandbox_does_not_show_is_named_as_such(project: Path, orchestrate_home: Path,
                                                                  tmp_path: Path) -> None:
    # The venv sits in a hidden path (a venv under /tmp that the command names is bound back read-only, so hiding
    # is what still keeps an existing interpreter out of the sandbox).
    venv = (tmp_path / "venv").resolve()
    proc = run(project, orchestrate_home, tmp_path, "-c", f'sandbox.hide_paths=["{venv}"]')
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    failed = [line for line in proc.stderr.splitlines() if "✗ s1:" in line]
    assert len(failed) == 1 and "exists, but not inside the sandbox" in failed[0]
