"""Ctrl-C (a real SIGINT to an ``orchestrate exec`` subprocess) while a step waits on its model: exit 130, one line
on stderr saying how to resume, and the session is stored as interrupted, then resumes to completion."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store
from tests.engine.crash_consumer import new_repo as _repo
from tests.engine.crash_consumer import tree as _tree
from tests.engine.test_crash_models import NO_MERGE

ROOT = Path(__file__).resolve().parents[2]
MODELS = "tests.engine.test_crash_models"


def _command(coder: str, *args: str) -> list[str]:
    roles = {"planner": "planner", "coder": coder, "reviewer": "reviewer", "validator": "reviewer"}
    models = [a for role, fn in roles.items() for a in ("--role-model", f"{role}=function:{MODELS}:{fn}")]
    return [sys.executable, "-m", "orchestrator", "exec", *args, "--json", *models, "-c",
            'validate.commands=["python3 check.py"]', "-c", NO_MERGE]


def test_sigint_exits_130_with_the_resume_command_and_the_session_resumes(tmp_path: Path) -> None:
    repo, home = _repo(tmp_path), tmp_path / "home"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home), "COLUMNS": "300"}
    proc = subprocess.Popen(_command("slow_coder", "make three files"), cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # wait until a step is in flight (its coder is now waiting on the model)
            if '"type":"memory.loaded"' in line:
                break
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    store = Store(Home(home))
    (meta,) = store.list_sessions()
    store.close()
    hints = [line for line in stderr.splitlines() if "resume" in line]
    assert len(hints) == 1 and f"orchestrate resume {meta.id}" in hints[0], stderr
    assert meta.status == "interrupted" and meta.effective_status == "interrupted"
    assert not (repo / "alpha.txt").exists()  # nothing half-done reached the tree

    resumed = subprocess.run(_command("coder", "resume", meta.id), cwd=repo, env=env, capture_output=True,
                             text=True, timeout=120, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert {k: v for k, v in _tree(repo).items() if k.endswith(".txt")} == {
        "alpha.txt": "ALPHA\n", "beta.txt": "BETA\n", "gamma.txt": "GAMMA\n"}
