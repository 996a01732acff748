"""``exec resume`` with answers, through the CLI in a subprocess with a fresh HOME, real git and function models
(:mod:`tests.engine.followup_models`): ``--retry-failed "guidance"`` reaches the coder's prompt and the session
succeeds; ``exec resume --last "follow-up"`` after a session that succeeded plans and runs new steps ``f1.*``; a
finished session resumed with nothing to do says so in one line, with how to follow up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestrator.core.events import Event, PlanCreated, SessionCompleted, parse_event
from tests.support import make_repo

ROOT = Path(__file__).resolve().parents[2]
MODELS = "tests.engine.followup_models"
# check.py passes unless a file holds an upper-case line: what the user's "lowercase" guidance fixes.
CHECK = "import pathlib, sys\nsys.exit(any(p.read_text().strip().isupper() for p in pathlib.Path('.').glob('*.txt')))\n"


def _run(repo: Path, home: Path, *args: str, check: str = "python3 check.py") -> subprocess.CompletedProcess[str]:
    roles = {"planner": "planner", "coder": "coder", "reviewer": "reviewer", "validator": "reviewer"}
    models = [a for role, fn in roles.items() for a in ("--role-model", f"{role}=function:{MODELS}:{fn}")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home), "HOME": str(home.parent),
           "FOLLOWUP_LOG": str(home.parent / "calls.jsonl")}
    cmd = [sys.executable, "-m", "orchestrator", "exec", "--json", "--full-auto", *models, "-c",
           f'validate.commands=["{check}"]', "-c", "validate.max_rounds=1", "-c", "planner.merge_chars=0", *args]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=180, check=False)


def _events(proc: subprocess.CompletedProcess[str]) -> list[Event]:
    return [parse_event(line) for line in proc.stdout.splitlines() if line.strip()]


def _calls(base: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (base / "calls.jsonl").read_text().splitlines()]


def test_retry_failed_with_guidance_reaches_the_coder_and_the_session_succeeds(tmp_path: Path) -> None:
    repo, home = make_repo(tmp_path / "repo", {"check.py": CHECK}), tmp_path / "home"
    first = _run(repo, home, "write alpha and beta")
    assert first.returncode == 1, first.stderr
    assert [getattr(e, "status", "") for e in _events(first) if e.type == "step.completed"] == ["failed", "skipped"]
    resumed = _run(repo, home, "resume", "--last", "--retry-failed", "write it in lowercase")
    assert resumed.returncode == 0, resumed.stderr
    events = _events(resumed)
    assert events[0].type == "session.resumed"
    assert '"retry_failed":true' in events[0].to_json() and "lowercase" in events[0].to_json()
    assert (repo / "alpha.txt").read_text() == "alpha\n" and (repo / "beta.txt").read_text() == "beta\n"
    guided = [c for c in _calls(tmp_path) if c["role"] == "coder" and "Guidance from the user" in str(c["user"])]
    assert guided and "write it in lowercase" in str(guided[0]["user"])
    end = events[-1]
    assert isinstance(end, SessionCompleted) and end.status == "succeeded"


def test_exec_resume_last_with_a_follow_up_plans_new_steps_in_the_same_session(tmp_path: Path) -> None:
    repo, home = make_repo(tmp_path / "repo", {"check.py": CHECK}), tmp_path / "home"
    first = _run(repo, home, "write alpha and beta", check="true")
    assert first.returncode == 0, first.stderr
    session_id = first.stderr.split("session ")[-1].split(":")[0]
    again = _run(repo, home, "resume", "--last", check="true")
    assert again.returncode == 0
    (line,) = [x for x in again.stderr.splitlines() if not x.startswith("checks:")]
    assert "already finished: succeeded" in line and f'orchestrate resume {session_id} "' in line
    follow = _run(repo, home, "resume", "--last", "now write gamma and delta", check="true")
    assert follow.returncode == 0, follow.stderr
    events = _events(follow)
    (plan,) = [e for e in events if isinstance(e, PlanCreated)]
    assert plan.followup == 1 and [s.id for s in plan.steps] == ["f1.s1", "f1.s2"]
    assert {getattr(e, "step_id", "") for e in events if e.type == "step.started"} == {"f1.s1", "f1.s2"}
    assert (repo / "gamma.txt").read_text() == "GAMMA\n" and (repo / "delta.txt").read_text() == "DELTA\n"
    planned = [c for c in _calls(tmp_path) if c["role"] == "planner"][-1]
    told = str(planned["user"])
    assert "Original task: write alpha and beta" in told and "changed: alpha.txt" in told
    assert f"session {session_id}: " in follow.stderr  # the same session
