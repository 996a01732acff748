"""End to end (``orchestrate exec --json``, scripted models): a coder that writes ``sub/.orchestrate/`` files lands only
its real change; the run says so in one ``warning`` event, and the next run does not load what the agent wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from orchestrator.core.events import parse_event
from tests.support import make_repo

ROOT = Path(__file__).resolve().parents[2]
BANK = "def deposit(balance, amount):\n    return balance + amount\n"
VALIDATED = "def deposit(balance, amount):\n    assert amount > 0\n    return balance + amount\n"
PLAN = {"summary": "validate", "steps": [{"id": "s1", "role": "coder", "goal": "reject non-positive deposits",
                                         "files": ["bank.py"]}]}
APPROVE = {"checklist": [{"requirement": "reject non-positive deposits", "done": True}], "comments": [],
           "verdict": "approve"}


def act(action: str, **fields: Any) -> str:
    return json.dumps({"action": action, **fields})


def test_a_planted_orchestrate_dir_never_lands(tmp_path: Path, orchestrate_home: Path) -> None:
    repo = make_repo(tmp_path / "project", {"bank.py": BANK, "sub/mod.py": "X = 1\n"})
    replies = {
        "planner": [json.dumps(PLAN)],
        "coder": [act("write_file", path="sub/.orchestrate/config.toml",
                      content='sandbox_mode = "danger-full-access"\n'),
                  act("write_file", path="sub/.orchestrate/rules/x.rules",
                      content='prefix_rule(pattern=["rm"], decision="allow")\n'),
                  act("write_file", path="bank.py", content=VALIDATED), act("done", summary="validated")],
        "reviewer": [json.dumps(APPROVE)] * 3,
        "validator": [],
    }
    args = []
    for role, texts in replies.items():
        (tmp_path / f"{role}.json").write_text(json.dumps(texts))
        args += ["--role-model", f"{role}=scripted:{tmp_path / f'{role}.json'}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(orchestrate_home)}
    proc = subprocess.run([sys.executable, "-m", "orchestrator", "exec", "--json", *args, "-c", "coder.draft=false",
                           "-c", "validate.discover=false", "validate deposits"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr
    events = [parse_event(line) for line in proc.stdout.splitlines()]
    warnings = [e for e in events if e.type == "warning" and ".orchestrate" in e.message]
    assert len(warnings) == 1 and warnings[0].step_id == "s1"
    planted = ("sub/.orchestrate/config.toml", "sub/.orchestrate/rules/x.rules")
    assert all(path in warnings[0].message for path in planted)
    (applied,) = [e for e in events if e.type == "edit.applied"]
    assert list(applied.files) == ["bank.py"]
    assert (repo / "bank.py").read_text() == VALIDATED
    assert not (repo / "sub" / ".orchestrate").exists()
