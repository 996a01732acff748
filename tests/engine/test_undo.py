"""``orchestrate undo`` on real sessions (real git, real sandboxed commands, scripted models): a whole session and
one step, with files created, deleted, renamed into a new directory and changed mode by an agent's shell command; the
refusals (a user edit, a later step, bad input) and ``--force``; what ``resume`` does after an undo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from orchestrator.core.events import EditApplied, StepStarted
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store
from tests.engine.undo_support import events, fingerprint, git, new_repo, orchestrate, run_exec, undo_events


def _session(tmp_path: Path) -> tuple[Path, Path, object]:
    repo, home = new_repo(tmp_path), tmp_path / "home"
    start = fingerprint(repo)
    proc = run_exec(repo, home)
    assert proc.returncode == 0, proc.stderr
    assert [e.step_id for e in events(proc.stdout) if isinstance(e, EditApplied)] == ["s1", "s2"]
    return repo, home, start


def test_undo_of_a_whole_session_restores_the_starting_tree(tmp_path: Path) -> None:
    repo, home, start = _session(tmp_path)
    changed = fingerprint(repo)
    assert changed != start
    assert (repo / "sub/new_name.txt").is_file() and not (repo / "gone.txt").exists()
    assert (repo / "tool.sh").stat().st_mode & 0o100 and not (repo / "run.sh").stat().st_mode & 0o100

    proc = orchestrate(repo, home, "undo", "--last", "--json")

    assert proc.returncode == 0, proc.stderr
    assert [(e["step_id"], e["forced"]) for e in undo_events(proc.stdout)] == [("s2", False), ("s1", False)]
    assert fingerprint(repo) == start  # the user's uncommitted edit and untracked file too; sub/ is gone
    again = orchestrate(repo, home, "undo", "--last")
    assert again.returncode == 0 and "already undone" in again.stdout
    quiet = orchestrate(repo, home, "undo", "--last", "--json")  # stdout holds events only
    assert quiet.returncode == 0 and quiet.stdout == "" and "already undone" in quiet.stderr
    assert fingerprint(repo) == start


def test_undo_of_one_step_then_the_other(tmp_path: Path) -> None:
    repo, home, start = _session(tmp_path)
    after_both = fingerprint(repo)

    proc = orchestrate(repo, home, "undo", "--last", "--step", "s2")

    assert proc.returncode == 0, proc.stderr
    assert "undid step s2" in proc.stdout
    assert (repo / "mod.txt").read_text() == "one\nuser edit\ntwo\n"  # as s1 left it
    assert not (repo / "s2.txt").exists()
    assert {k: v for k, v in fingerprint(repo)[1].items() if k not in ("mod.txt",)} == {
        k: v for k, v in after_both[1].items() if k not in ("mod.txt", "s2.txt")}
    assert orchestrate(repo, home, "undo", "--last", "--step", "s2").stdout.strip().endswith("is already undone")

    proc = orchestrate(repo, home, "undo", "--last", "--step", "s1")
    assert proc.returncode == 0, proc.stderr
    assert fingerprint(repo) == start


def test_undo_is_refused_after_a_user_edit_and_forced(tmp_path: Path) -> None:
    repo, home, start = _session(tmp_path)
    (repo / "created.txt").write_text("my change to the agent's file\n")
    (repo / "sub/new_name.txt").chmod(0o755)  # a mode change counts too
    before = fingerprint(repo)

    refused = orchestrate(repo, home, "undo", "--last")

    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert "created.txt" in refused.stderr and "sub/new_name.txt" in refused.stderr and "--force" in refused.stderr
    assert "mod.txt" not in refused.stderr
    assert fingerprint(repo) == before  # checked everything before writing anything

    forced = orchestrate(repo, home, "undo", "--last", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert [e["forced"] for e in undo_events(forced.stdout)] == [True, True]
    assert fingerprint(repo) == start


def test_undo_of_a_step_a_later_step_built_on_is_refused(tmp_path: Path) -> None:
    repo, home, _ = _session(tmp_path)
    before = fingerprint(repo)

    refused = orchestrate(repo, home, "undo", "--last", "--step", "s1")

    assert refused.returncode == 2
    assert "mod.txt (by step s2)" in refused.stderr and "undo the later steps first" in refused.stderr
    assert fingerprint(repo) == before


def test_bad_input_gives_one_line_and_leaves_the_tree(tmp_path: Path) -> None:
    repo, home, _ = _session(tmp_path)
    before = fingerprint(repo)
    for args, named in ((["undo", "nosuchsession"], "nosuchsession"), (["undo", "--last", "--step", "s9"], "s9"),
                        (["undo"], "--last"), (["undo", "-C", str(tmp_path), "--last"], str(tmp_path)),
                        (["undo", "--last", "nosuchsession"], "not both")):
        proc = orchestrate(repo, home, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and named in proc.stderr, (args, proc.stderr)
        assert fingerprint(repo) == before


def test_resume_after_an_undo_runs_and_applies_nothing(tmp_path: Path) -> None:
    repo, home, start = _session(tmp_path)
    assert orchestrate(repo, home, "undo", "--last", "--step", "s2").returncode == 0
    after_undo = fingerprint(repo)

    resumed = run_exec(repo, home, "resume", "--last")

    assert not [e for e in events(resumed.stdout) if isinstance(e, StepStarted | EditApplied)]
    assert fingerprint(repo) == after_undo  # no drift refusal either: the store knows the undone files' state
    assert orchestrate(repo, home, "undo", "--last").returncode == 0
    assert fingerprint(repo) == start


def test_a_session_that_committed_its_steps_is_refused_with_the_git_command(tmp_path: Path) -> None:
    repo, home = new_repo(tmp_path), tmp_path / "home"
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "the user's work")
    proc = run_exec(repo, home, "--commit", "reorganise the files")
    assert proc.returncode == 0, proc.stderr
    before = fingerprint(repo)

    refused = orchestrate(repo, home, "undo", "--last")

    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "git revert" in refused.stderr and "Orchestrate-Session" in refused.stderr
    assert fingerprint(repo) == before


def test_a_session_whose_tree_is_gone_gives_one_line(tmp_path: Path) -> None:
    repo, home, _ = _session(tmp_path)
    session_id = json.loads(orchestrate(repo, home, "sessions", "--json").stdout)[0]["id"]
    shutil.rmtree(repo)

    proc = orchestrate(tmp_path, home, "undo", session_id)

    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(repo) in proc.stderr and "gone" in proc.stderr


def test_a_session_another_process_runs_is_refused(tmp_path: Path) -> None:
    repo, home, _ = _session(tmp_path)
    before = fingerprint(repo)
    store = Store(Home(home))
    try:
        (meta,) = store.list_sessions()
        with store.open(meta.id) as running:
            running.claim()  # what a running `orchestrate` holds
            proc = orchestrate(repo, home, "undo", "--last")
    finally:
        store.close()
    assert proc.returncode == 2 and "already running" in proc.stderr, proc.stderr
    assert fingerprint(repo) == before


def test_retry_failed_runs_an_undone_step_again(tmp_path: Path) -> None:
    repo, home, _ = _session(tmp_path)
    after_both = fingerprint(repo)
    assert orchestrate(repo, home, "undo", "--last", "--step", "s2").returncode == 0
    listed = json.loads(orchestrate(repo, home, "sessions", "--json").stdout)
    assert listed[0]["status"] == "failed"  # not all its steps are applied any more

    retried = run_exec(repo, home, "resume", "--last", "--retry-failed")

    assert retried.returncode == 0, retried.stderr
    assert [e.step_id for e in events(retried.stdout) if isinstance(e, EditApplied)] == ["s2"]
    assert fingerprint(repo) == after_both
