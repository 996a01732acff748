"""``orchestrate undo`` after a SIGKILL (the ``ORCHESTRATE_CRASH_AT`` hook of the session store): between a step's
apply and its ``done``/event, and in the middle of an undo. Real git, real runs, scripted models."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrator.core.events import EditApplied, StepCompleted, StepStarted
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store
from tests.engine.undo_support import events, fingerprint, new_repo, orchestrate, run_exec, undo_events


def _journal_diff(home: Path, step_id: str) -> tuple[str, str]:
    store = Store(Home(home))
    try:
        (meta,) = store.list_sessions()
        with store.open(meta.id) as session:
            entry = session.journal_entry(step_id)
            assert entry is not None
            return entry.state, entry.diff
    finally:
        store.close()


@pytest.mark.parametrize("landed", [False, True], ids=["before-git-apply", "after-git-apply"])
def test_undo_after_a_kill_between_apply_and_done(tmp_path: Path, landed: bool) -> None:
    repo, home = new_repo(tmp_path), tmp_path / "home"
    start = fingerprint(repo)
    killed = run_exec(repo, home, ORCHESTRATE_CRASH_AT="edit.intent")
    assert killed.returncode == -9
    state, diff = _journal_diff(home, "s1")
    assert state == "intent" and not any(isinstance(e, EditApplied) for e in events(killed.stdout))
    if landed:  # the kill came after `git apply` wrote the files, before the journal's done
        subprocess.run(["git", "apply", "--binary", "-"], cwd=repo, input=diff.encode(), check=True)
        assert fingerprint(repo) != start

    proc = orchestrate(repo, home, "undo", "--last", "--json")

    assert proc.returncode == 0, proc.stderr
    assert [e["step_id"] for e in undo_events(proc.stdout)] == ["s1"]
    assert fingerprint(repo) == start
    resumed = run_exec(repo, home, "resume", "--last")  # the undone edit is not recovered (re-applied) by resume
    assert not [e for e in events(resumed.stdout) if isinstance(e, EditApplied)]
    assert fingerprint(repo) == start


def test_undo_after_a_kill_after_done_then_resume(tmp_path: Path) -> None:
    repo, home = new_repo(tmp_path), tmp_path / "home"
    start = fingerprint(repo)
    killed = run_exec(repo, home, ORCHESTRATE_CRASH_AT="edit.done")
    assert killed.returncode == -9 and not any(isinstance(e, EditApplied) for e in events(killed.stdout))
    assert fingerprint(repo) != start

    proc = orchestrate(repo, home, "undo", "--last")
    assert proc.returncode == 0, proc.stderr
    assert fingerprint(repo) == start
    assert not list((repo / ".git" / "worktrees").glob("*"))  # the killed step's staging went with it

    resumed = run_exec(repo, home, "resume", "--last")
    seen = events(resumed.stdout)
    assert not [e for e in seen if isinstance(e, StepStarted | EditApplied)]  # s1 is undone: never run again
    assert {e.step_id: e.status for e in seen if isinstance(e, StepCompleted)} == {"s2": "skipped"}
    assert resumed.returncode == 1 and fingerprint(repo) == start


@pytest.mark.parametrize("kill_at", ["edit.undoing:1", "edit.undoing:2", "edit.undone:1"])
def test_an_undo_killed_halfway_is_finished_by_running_it_again(tmp_path: Path, kill_at: str) -> None:
    repo, home = new_repo(tmp_path), tmp_path / "home"
    start = fingerprint(repo)
    assert run_exec(repo, home).returncode == 0

    killed = orchestrate(repo, home, "undo", "--last", ORCHESTRATE_CRASH_AT=kill_at)
    assert killed.returncode == -9

    proc = orchestrate(repo, home, "undo", "--last")
    assert proc.returncode == 0, proc.stderr
    assert fingerprint(repo) == start
