"""Drift through the real CLI: a session killed after its first edit landed, whose file the user then changed.
``exec resume`` refuses (exit 2, one line naming the file) unless ``--force``; interactive ``resume`` asks first."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from orchestrator.core.events import parse_event
from tests.engine.crash_consumer import new_repo as _repo
from tests.engine.test_crash_resume import _orchestrate
from tests.support import converse


def _interactive_resume(repo: Path, home: Path, answer: bytes) -> tuple[int, str]:
    models = [a for role, fn in (("planner", "planner"), ("coder", "coder"), ("reviewer", "reviewer"),
                                 ("validator", "reviewer"))
              for a in ("--role-model", f"{role}=function:tests.engine.test_crash_models:{fn}")]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "ORCHESTRATE_HOME": str(home),
           "COLUMNS": "300", "TERM": "dumb"}
    argv = [sys.executable, "-m", "orchestrator", "resume", "--last", *models, "-c",
            'validate.commands=["python3 check.py"]', "-c", "review.user_approves_diff=false"]
    return converse(argv, repo, env, [(b"Continue on the changed tree?", answer)], timeout_s=120, controlling=True)


def test_exec_resume_refuses_drift_unless_forced_and_resume_asks(tmp_path: Path) -> None:
    repo, home, calls = _repo(tmp_path), tmp_path / "home", tmp_path / "calls.log"
    crashed = _orchestrate(repo, home, calls, "make three files", crash_at="edit.applied")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    (edited,) = [p for p in repo.glob("*.txt")]
    edited.write_text("the user's own line\n")

    refused = _orchestrate(repo, home, calls, "resume", "--last")
    assert refused.returncode == 2
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"file {edited.name} modified" in errors[0] and "--force" in errors[0]
    assert "Traceback" not in refused.stderr
    assert [parse_event(line).type for line in refused.stdout.splitlines()] == ["session.resumed", "error"]
    assert sorted(p.name for p in repo.glob("*.txt")) == [edited.name]  # nothing ran

    status, shown = _interactive_resume(repo, home, b"\x03")  # Ctrl-C at the question: stops at once, resumable
    assert status == 130 and "orchestrate resume" in shown and "Traceback" not in shown, shown
    assert sorted(p.name for p in repo.glob("*.txt")) == [edited.name]

    status, shown = _interactive_resume(repo, home, b"n\r")  # interactive resume needs a terminal: a pty
    assert status == 2 and "Continue on the changed tree?" in shown, shown
    assert f"file {edited.name} modified" in shown

    forced = _orchestrate(repo, home, calls, "resume", "--last", "--force")
    assert forced.returncode == 0, forced.stderr
    assert edited.read_text() == "the user's own line\n"  # the user's change stands; the session went on
    assert sorted(p.name for p in repo.glob("*.txt")) == ["alpha.txt", "beta.txt", "gamma.txt"]
