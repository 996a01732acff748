"""``exec --commit`` / ``--branch`` as a subprocess: a SIGKILL between a step's apply and its commit does not lose or
double the commit on resume, and bad input is one line, exit 2, the repository untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.engine import crash_consumer as crash
from tests.engine.conftest import git
from tests.support import converse


def _run(repo: Path, home: Path, *args: str, crash_at: str = "") -> subprocess.CompletedProcess[str]:
    env = crash.environ(home, repo.parent / "calls.log")
    if crash_at:
        env["ORCHESTRATE_CRASH_AT"] = crash_at
    return subprocess.run(crash.command(*args), cwd=repo, env=env, capture_output=True, text=True, timeout=180,
                          check=False)


def _session_commits(repo: Path) -> list[str]:
    """Each commit above the first, as ``subject | Orchestrate-Step trailer``."""
    log = git(repo, "log", "--format=%s|%(trailers:key=Orchestrate-Step,valueonly,separator=)", "main~0",
              "--not", git(repo, "rev-list", "--max-parents=0", "HEAD"))
    return log.splitlines()


def test_a_kill_between_apply_and_commit_neither_loses_nor_doubles_the_commit(tmp_path: Path) -> None:
    repo, home = crash.new_repo(tmp_path), tmp_path / "home"
    # SIGKILL right after the first step's edit is journaled as applied: before its commit.
    killed = _run(repo, home, "--commit", "rename two files", crash_at="edit.done:1")
    assert killed.returncode == -9
    assert (repo / "alpha.txt").is_file() and _session_commits(repo) == []  # applied, not committed yet
    resumed = _run(repo, home, "resume", "--last")
    assert resumed.returncode == 0, resumed.stderr
    assert _session_commits(repo) == ["create beta.txt with the line BETA|s2",
                                      "create alpha.txt with the line ALPHA|s1"]
    again = _run(repo, home, "resume", "--last")  # a finished session: nothing more is committed
    assert again.returncode == 0 and len(_session_commits(repo)) == 2
    assert _state(repo)[2] == ""


def test_branch_mode_resumes_in_its_worktree_after_a_kill(tmp_path: Path) -> None:
    repo, home = crash.new_repo(tmp_path), tmp_path / "home"
    before = _state(repo)
    killed = _run(repo, home, "rename two files", "--branch=work", crash_at="edit.done:2")
    assert killed.returncode == -9
    resumed = _run(repo, home, "resume", "--last")
    assert resumed.returncode == 0, resumed.stderr
    log = git(repo, "log", "--format=%(trailers:key=Orchestrate-Step,valueonly,separator=)", "main..work")
    assert log.splitlines() == ["s2", "s1"]
    assert _state(repo)[1:] == before[1:] and not (repo / "alpha.txt").exists()  # the user's checkout untouched


def test_a_kill_after_a_commit_resumes_without_doubling_it(tmp_path: Path) -> None:
    repo, home = crash.new_repo(tmp_path), tmp_path / "home"
    # The first step.completed is committed after its git commit: HEAD moved, by the session itself (not drift).
    killed = _run(repo, home, "--commit", "rename two files", crash_at="step.completed:1")
    assert killed.returncode == -9 and len(_session_commits(repo)) == 1
    resumed = _run(repo, home, "resume", "--last")
    assert resumed.returncode == 0, resumed.stderr
    assert [c.split("|")[1] for c in _session_commits(repo)] == ["s2", "s1"]


def _state(repo: Path) -> tuple[str, str, str]:
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True,
                            check=True).stdout
    return git(repo, "for-each-ref"), git(repo, "rev-parse", "HEAD"), status


def test_bad_input_is_one_line_exit_2_and_the_repository_untouched(tmp_path: Path) -> None:
    repo, home = crash.new_repo(tmp_path), tmp_path / "home"
    git(repo, "branch", "taken")
    before = _state(repo)
    cases = {("--branch=taken",): "branch taken already exists",
             ("--branch", "add a flag"): "is not a branch name (it reads like the task)",
             ("--branch=bad..name",): "not a valid branch name"}
    for args, said in cases.items():
        proc = _run(repo, home, *args, "rename two files")
        lines = crash.said(proc.stderr)
        assert proc.returncode == 2 and len(lines) <= 2 and said in lines[0], proc.stderr  # the line, and its fix
        assert "Traceback" not in proc.stderr and _state(repo) == before
    git(repo, "checkout", "-q", "--detach")
    before = _state(repo)
    proc = _run(repo, home, "--commit", "rename two files")
    assert proc.returncode == 2 and "HEAD is detached" in proc.stderr and _state(repo) == before
    assert not (home / "sessions").exists() or not any(p.name[0].isdigit() for p in (home / "sessions").iterdir())
    resume = _run(repo, home, "resume", "--last", "--commit")
    assert resume.returncode == 2 and "a resumed session keeps its own" in resume.stderr


def test_exec_branch_reports_the_branch(tmp_path: Path) -> None:
    repo, home = crash.new_repo(tmp_path), tmp_path / "home"
    before = _state(repo)
    proc = _run(repo, home, "--branch", "rename two files")  # --branch after the options, before the task: no name
    assert proc.returncode == 2  # argparse took the task as NAME: the task is missing (the help says --branch=NAME)
    proc = _run(repo, home, "rename two files", "--branch")
    assert proc.returncode == 0, proc.stderr
    assert _state(repo)[1:] == before[1:] and not os.path.exists(repo / "alpha.txt")
    ended = crash.events_of(proc.stdout)[-1]
    branch = getattr(ended, "branch", None)
    assert branch and branch.startswith("orchestrate/") and f"its commits are on branch {branch}" in proc.stderr
    assert git(repo, "show", f"{branch}:alpha.txt") == "ALPHA"


def test_the_interactive_run_delivers_on_a_branch_and_says_so(tmp_path: Path) -> None:
    repo, home = crash.new_repo(tmp_path), tmp_path / "home"
    before = _state(repo)
    models = [a for role, fn in crash.ROLES.items() for a in ("--role-model", f"{role}=function:{crash.MODELS}:{fn}")]
    argv = [sys.executable, "-m", "orchestrator", "run", "--full-auto", *models, "-c", crash.NO_MERGE,
            "-c", 'validate.commands=["python3 check.py"]', "--branch=work", "rename two files"]
    env = {**crash.environ(home, tmp_path / "calls.log"), "TERM": "dumb", "COLUMNS": "200"}
    answers = [(b"Run this plan?", b"a\r"), (b"Apply this change", b"y\r"), (b"Apply this change", b"y\r")]
    status, shown = converse(argv, repo, env, answers)
    assert status == 0, shown
    assert "its commits are on branch work" in shown
    assert git(repo, "log", "--format=%s", "main..work").splitlines() == [
        "create beta.txt with the line BETA", "create alpha.txt with the line ALPHA"]
    assert _state(repo)[1:] == before[1:]
