"""End to end: ``orchestrate exec --json`` as a subprocess on a real temporary git repository, with scripted models
selected through the command line, checking the files it leaves and the event stream it prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.core.events import parse_event
from tests.support import make_repo

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (ROOT / "policies" / "gate.py").exists() or not (ROOT / "policies" / "approval.py").exists(),
    reason="the policy gate has not landed yet",
)

BANK = "def deposit(balance, amount):\n    return balance + amount\n"
VALIDATED = ("def deposit(balance, amount):\n    if amount <= 0:\n        raise ValueError('amount must be positive')\n"
             "    return balance + amount\n")
CHECK = ("from bank import deposit\nassert deposit(1, 2) == 3\n"
         "try:\n    deposit(1, -1)\nexcept ValueError:\n    pass\n"
         "else:\n    raise SystemExit('negative deposit accepted')\n")


def act(action: str, **fields: Any) -> dict[str, Any]:
    return {"action": action, **fields}


APPROVE = {"checklist": [{"requirement": "reject non-positive deposits", "done": True}], "comments": [],
           "verdict": "approve"}


def _scripts(tmp: Path, *, plan: Any) -> dict[str, Path]:
    scripts = {
        "planner": [plan],
        # The first draft rewrites bank.py whole (the default for a structured-output coder); the review and the
        # checks pass it, so the coder's action loop never runs.
        "coder": [f"bank.py\n```python\n{VALIDATED}```"],
        # one verdict per reviewed change: the coder's edit (review-gated), then the review step's own look at it
        "reviewer": [json.dumps(APPROVE)] * 3,
        "validator": [],
    }
    paths = {}
    for role, replies in scripts.items():
        path = tmp / f"{role}.json"
        path.write_text(json.dumps([r if isinstance(r, str) else json.dumps(r) for r in replies]))
        paths[role] = path
    return paths


def _run(repo: Path, home: Path, scripts: dict[str, Path], *extra: str) -> subprocess.CompletedProcess[str]:
    role_models = [a for role, p in scripts.items() for a in ("--role-model", f"{role}=scripted:{p}")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "exec", "--json", *role_models,
         "-c", 'validate.commands=["python3 check.py"]', *extra, "add input validation to bank.py"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=240, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project", {"bank.py": BANK, "check.py": CHECK})


PLAN = {"summary": "validate deposits", "steps": [
    {"id": "validate", "role": "coder", "goal": "reject non-positive deposits", "files": ["bank.py"]},
    {"id": "review", "role": "reviewer", "goal": "review the validation", "depends_on": ["validate"]},
]}


def test_exec_json_edits_the_repo_and_streams_the_events(project: Path, orchestrate_home: Path,
                                                         tmp_path: Path) -> None:
    scripts = _scripts(tmp_path, plan=PLAN)
    # The review step runs as planned (a plan this small is otherwise merged into its one coder step).
    proc = _run(project, orchestrate_home, scripts, "-c", "planner.merge_chars=0")
    assert proc.returncode == 0, proc.stderr
    assert (project / "bank.py").read_text() == VALIDATED
    events = [parse_event(line) for line in proc.stdout.splitlines()]  # every stdout line is an event
    types = [e.type for e in events if e.type != "usage"]  # usage follows every model call, the planner's included
    assert types[0] == "session.started" and types[1] == "plan.created" and types[-1] == "session.completed"
    assert events[-1].status == "succeeded"  # type: ignore[union-attr]
    assert [(e.step_id, e.status) for e in events if e.type == "step.completed"] == [  # type: ignore[union-attr]
        ("validate", "succeeded"), ("review", "succeeded")]
    applied = [e for e in events if e.type == "edit.applied"]
    assert [(e.step_id, e.files) for e in applied] == [("validate", ("bank.py",))]  # type: ignore[union-attr]
    assert any(e.type == "validation.completed" and e.passed for e in events)  # type: ignore[union-attr]
    assert any(e.type == "review.completed" and e.step_id == "review" for e in events)  # type: ignore[union-attr]
    assert any(e.type == "usage" for e in events)
    assert all(e.ts.endswith("Z") for e in events)
    # the store has the same stream; `sessions --json` lists the session as succeeded
    listed = subprocess.run([sys.executable, "-m", "orchestrator", "sessions", "--json"], cwd=project,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(orchestrate_home)},
                            capture_output=True, text=True, check=True)
    assert [s["status"] for s in json.loads(listed.stdout)] == ["succeeded"]
    assert "Traceback" not in proc.stderr


def test_a_model_returning_garbage_fails_cleanly_without_touching_the_tree(project: Path, orchestrate_home: Path,
                                                                           tmp_path: Path) -> None:
    scripts = _scripts(tmp_path, plan="this is not a plan")
    (tmp_path / "planner.json").write_text(json.dumps(["not a plan"] * 20))
    # The task names bank.py, a short file: without skip_small = false it would run without asking the planner.
    proc = _run(project, orchestrate_home, scripts, "-c", "planner.skip_small=false")
    assert proc.returncode in (1, 2), proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "plan" in errors[0]
    assert (project / "bank.py").read_text() == BANK
    assert subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True,
                          check=True).stdout == ""
    last = parse_event(proc.stdout.splitlines()[-1])
    assert last.type == "session.completed" and last.status == "failed"  # type: ignore[union-attr]
