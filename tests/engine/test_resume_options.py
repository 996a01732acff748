"""Resume talks to the same models: the model and config options a session started with are kept with it and
replayed by ``resume`` / ``exec resume`` unless the resuming command gives its own."""

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
MODELS = [a for role in ("planner", "coder", "reviewer", "validator")
          for a in ("--role-model", f"{role}=function:tests.engine.test_crash_models:"
                                    f"{'reviewer' if role == 'validator' else role}")]


def _exec(repo: Path, home: Path, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home),
           "CRASH_TEST_CALLS": str(repo.parent / "calls.log")}
    env.pop("ORCHESTRATE_CRASH_AT", None)
    if crash_at:
        env["ORCHESTRATE_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "orchestrator", "exec", "--json", "-c", NO_MERGE, *args], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_exec_resume_replays_the_sessions_model_options(tmp_path: Path) -> None:
    repo, home = _repo(tmp_path), tmp_path / "home"
    started = _exec(repo, home, *MODELS, "-c", 'validate.commands=["python3 check.py"]', "make three files",
                    crash_at="step.started")
    assert started.returncode == -signal.SIGKILL, started.stderr
    store = Store(Home(home))
    try:
        (meta,) = store.list_sessions()
    finally:
        store.close()
    assert meta.options["overrides"] == [NO_MERGE, 'validate.commands=["python3 check.py"]']
    assert len(meta.options["role_model"]) == 4 and "model" not in meta.options  # only what was given
    # No model options now: without the replay every role would fall back to the embedded model (forbidden in tests).
    resumed = _exec(repo, home, "resume", "--last")
    assert resumed.returncode == 0, resumed.stderr
    assert _tree(repo)["gamma.txt"] == "GAMMA\n"


def test_options_given_to_resume_win_over_the_stored_ones(tmp_path: Path) -> None:
    repo, home = _repo(tmp_path), tmp_path / "home"
    started = _exec(repo, home, *MODELS, "make three files", crash_at="step.started")
    assert started.returncode == -signal.SIGKILL, started.stderr
    resumed = _exec(repo, home, "resume", "--last", "-m", "scripted:" + str(tmp_path / "nothing.json"))
    assert resumed.returncode != 0
    assert "nothing.json" in resumed.stderr  # the model given now was used, not the stored ones
