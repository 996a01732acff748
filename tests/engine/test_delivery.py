"""Delivery modes (``apply.mode`` commit / branch) and failed steps' branches, on real temporary git repositories.

The engine is real (Orchestrator, StepExecutor, Workspace, git); the role pipeline is a small step function that edits
its staging, as in test_orchestrator_flow, so these tests pin what lands in git.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memory import build_memory
from orchestrator.api import Orchestrator, SessionEvents
from orchestrator.cli.main import cli
from orchestrator.core.contracts import StepOutcome
from orchestrator.core.errors import InputError
from orchestrator.core.events import GitInfo, ListSink, SessionCompleted
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.delivery import SessionDelivery
from orchestrator.settings.home import Home
from orchestrator.settings.schema import ApplyConfig, Settings
from orchestrator.store.sessions import Store
from orchestrator.testing import ScriptedModel, gateway_for
from orchestrator.workspace.gitrun import remove_session_tree
from orchestrator.workspace.staging import Staging
from tests.engine.conftest import git

pytestmark = pytest.mark.anyio

Edit = Callable[[Path], None]


class EditingSteps:
    """A step function: applies ``edits[step_id]`` to the staging root; the steps in ``failing`` then fail."""

    def __init__(self, edits: dict[str, Edit], failing: frozenset[str] = frozenset()) -> None:
        self.edits, self.failing = edits, failing

    async def __call__(self, step: Step, *, task: str, plan: Plan, staging: Staging, deps: Any,
                       checkpoint: Any = None) -> StepOutcome:
        if step.id in self.edits:
            self.edits[step.id](staging.root)
        if step.id in self.failing:
            return StepOutcome(status="failed", reason="checks still fail")
        return StepOutcome(status="succeeded", summary=f"{step.id} done", diff=staging.diff())


def replace(old: str, new: str, name: str = "bank.py") -> Edit:
    def edit(root: Path) -> None:
        path = root / name
        path.write_text(path.read_text().replace(old, new))

    return edit


def create(name: str, text: str) -> Edit:
    def edit(root: Path) -> None:
        (root / name).write_text(text)

    return edit


PLAN = Plan(summary="p", steps=(
    Step(id="abs", role="coder", goal="Deposits take the absolute value of the amount"),
    Step(id="fees", role="coder", goal="Add a fees module", depends_on=("abs",)),
))
EDITS: dict[str, Edit] = {"abs": replace("return x\n", "return abs(x)\n"), "fees": create("fees.py", "FEE = 1\n")}


def _orchestrator(repo: Path, home: Path, steps: EditingSteps, sink: ListSink, *, mode: str = "worktree",
                  branch: str = "") -> Orchestrator:
    settings = Settings(apply=ApplyConfig.model_validate({"mode": mode, "branch": branch}))

    async def planner(task: str, **_: Any) -> Plan:
        return PLAN

    return Orchestrator(settings=settings, cwd=repo, home=Home(home), gateway=gateway_for(settings, ScriptedModel([])),
                        memory=build_memory(settings, Home(home)), planner=planner,
                        run_step=steps,
                        events=SessionEvents(sink))


async def _run(repo: Path, home: Path, steps: EditingSteps, mode: str = "worktree", branch: str = "") -> Any:
    sink = ListSink()
    orch = _orchestrator(repo, home, steps, sink, mode=mode, branch=branch)
    try:
        return await orch.run("do it"), sink
    finally:
        await orch.aclose()


def _dirty(repo: Path) -> None:
    """The user's own work: an unrelated modified file, an untracked file, and a change in a file a step edits."""
    (repo / "notes.txt").write_text("my notes, edited\n")
    (repo / "scratch.txt").write_text("untracked\n")
    with (repo / "bank.py").open("a") as f:
        f.write("# my own comment\n")


def _status(repo: Path) -> list[str]:
    return subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.splitlines()


def _state(repo: Path) -> tuple[str, str, str, dict[str, str]]:
    """Refs, HEAD, status and the hash of every file: what "the repository is untouched" compares."""
    files = {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(repo.rglob("*"))
             if p.is_file() and ".git" not in p.relative_to(repo).parts}
    return (git(repo, "for-each-ref"), git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"), files)


@pytest.fixture
def repo(bank_repo: Path) -> Path:
    (bank_repo / "notes.txt").write_text("my notes\n")
    git(bank_repo, "add", "notes.txt")
    git(bank_repo, "commit", "-qm", "notes")
    return bank_repo


async def test_commit_mode_commits_each_step_and_nothing_of_the_users(repo: Path, orchestrate_home: Path) -> None:
    _dirty(repo)
    start = git(repo, "rev-parse", "HEAD")
    result, sink = await _run(repo, orchestrate_home, EditingSteps(EDITS), mode="commit")
    assert result.status == "succeeded"
    assert git(repo, "log", "--format=%s", f"{start}..main").splitlines() == [
        "Add a fees module", "Deposits take the absolute value of the amount"]
    body = git(repo, "log", "-1", "--format=%B", "main~1")
    assert f"Orchestrate-Session: {result.session_id}\nOrchestrate-Step: abs" in body
    assert git(repo, "show", "--format=", "--name-only", "main~1").splitlines() == ["bank.py"]
    assert git(repo, "show", "--format=", "--name-only", "main").splitlines() == ["fees.py"]
    committed = git(repo, "show", "main:bank.py")
    assert "return abs(x)" in committed and "my own comment" not in committed
    # The user's work is still there, still uncommitted; the step's changes are not shown as uncommitted.
    assert (repo / "bank.py").read_text().endswith("# my own comment\n") and "abs(x)" in (repo / "bank.py").read_text()
    assert sorted(_status(repo)) == [" M bank.py", " M notes.txt", "?? scratch.txt"]
    added = [line for line in git(repo, "diff", "--", "bank.py").splitlines() if line.startswith(("+", "-"))]
    assert added == ["--- a/bank.py", "+++ b/bank.py", "+# my own comment"]  # only the user's line differs from HEAD
    assert git(repo, "diff", "--cached") == ""  # the user's index holds the commits too
    assert (repo / "notes.txt").read_text() == "my notes, edited\n"
    ended = sink.of_type("session.completed")[-1]
    assert isinstance(ended, SessionCompleted) and ended.branch is None


async def test_commit_mode_fails_a_step_it_cannot_separate_from_the_users_change(repo: Path,
                                                                                orchestrate_home: Path) -> None:
    (repo / "bank.py").write_text((repo / "bank.py").read_text().replace("return x\n", "return x  # mine\n"))
    before = _state(repo)
    steps = EditingSteps({"abs": replace("return x  # mine\n", "return abs(x)  # mine\n"), "fees": EDITS["fees"]})
    result, _ = await _run(repo, orchestrate_home, steps, mode="commit")
    assert result.steps == {"abs": "failed", "fees": "skipped"}
    assert "cannot be committed apart from your uncommitted changes in bank.py" in result.reasons["abs"]
    assert _state(repo)[1:] == before[1:]  # nothing applied, nothing committed: the work is on its failed branch
    assert git(repo, "branch", "--list", "orchestrate/*").strip() == f"orchestrate/{result.session_id}/abs-failed"


async def test_head_moved_by_the_sessions_own_commits_is_not_drift(repo: Path, orchestrate_home: Path) -> None:
    start = git(repo, "rev-parse", "HEAD")
    result, _ = await _run(repo, orchestrate_home, EditingSteps(EDITS), mode="commit")
    store = Store(Home(orchestrate_home))
    with store.open(result.session_id) as session:
        session.update_meta(git=GitInfo(branch="main", commit=start))  # killed after a commit, before the meta
        SessionDelivery(session)
        assert session.meta.git.commit == git(repo, "rev-parse", "HEAD")
        git(repo, "commit", "-q", "--allow-empty", "-m", "someone else's")
        SessionDelivery(session)
        assert session.meta.git.commit != git(repo, "rev-parse", "HEAD")  # a foreign commit stays drift
    store.close()


async def test_branch_mode_leaves_the_users_checkout_alone(repo: Path, orchestrate_home: Path) -> None:
    _dirty(repo)
    before = _state(repo)
    result, sink = await _run(repo, orchestrate_home, EditingSteps(EDITS), mode="branch")
    branch = f"orchestrate/{result.session_id}"
    assert result.status == "succeeded" and result.branch == branch
    ended = sink.of_type("session.completed")[-1]
    assert isinstance(ended, SessionCompleted) and ended.branch == branch
    _refs, head, status, files = _state(repo)
    assert (head, status, files) == before[1:]  # HEAD, index, working tree: untouched
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(repo, "log", "--format=%s", f"main..{branch}").splitlines() == [
        "Add a fees module", "Deposits take the absolute value of the amount"]
    assert git(repo, "show", f"{branch}:fees.py") == "FEE = 1"
    assert "my own comment" not in git(repo, "show", f"{branch}:bank.py")  # the branch starts from HEAD
    # sessions rm keeps the delivered branch unless --branches, and forgets the session's worktree.
    assert cli(["sessions", "rm", result.session_id]) == 0
    assert git(repo, "rev-parse", "--verify", branch) and "worktree" not in git(repo, "worktree", "list")
    assert cli(["sessions", "rm", "--branches", result.session_id]) == 2  # the session is gone already
    git(repo, "branch", "-D", branch)


async def test_branch_mode_with_a_name_and_rm_branches(repo: Path, orchestrate_home: Path) -> None:
    result, _ = await _run(repo, orchestrate_home, EditingSteps(EDITS), mode="branch", branch="feature/fees")
    assert result.branch == "feature/fees"
    assert git(repo, "log", "--format=%s", "-1", "feature/fees") == "Add a fees module"
    assert cli(["sessions", "rm", "--branches", result.session_id]) == 0
    assert "feature/fees" not in git(repo, "branch", "--list")


async def test_pruning_a_branch_session_forgets_its_worktree(repo: Path, orchestrate_home: Path) -> None:
    result, _ = await _run(repo, orchestrate_home, EditingSteps(EDITS), mode="branch")
    assert "worktree" in git(repo, "worktree", "list")
    remove_session_tree(orchestrate_home / "sessions" / result.session_id)  # what pruning old sessions runs
    assert "worktree" not in git(repo, "worktree", "list")
    assert git(repo, "rev-parse", "--verify", f"orchestrate/{result.session_id}")  # the work stays


async def test_a_failed_step_leaves_its_work_on_a_branch_that_sessions_rm_deletes(repo: Path,
                                                                                   orchestrate_home: Path) -> None:
    before = _state(repo)
    steps = EditingSteps({"abs": replace("return x\n", "return abs(x)  # half done\n")}, failing=frozenset({"abs"}))
    result, sink = await _run(repo, orchestrate_home, steps)
    branch = f"orchestrate/{result.session_id}/abs-failed"
    assert result.status == "failed"
    assert f"its work is on branch {branch}" in result.reasons["abs"].splitlines()[0]
    assert any(branch in getattr(e, "message", "") for e in sink.of_type("warning"))
    assert "abs(x)  # half done" in git(repo, "show", f"{branch}:bank.py")
    assert _state(repo)[1:] == before[1:]  # the user's checkout untouched
    assert cli(["sessions", "rm", result.session_id]) == 0
    assert git(repo, "branch", "--list", "orchestrate/*") == ""


async def test_a_failed_step_in_branch_mode_gets_a_branch_beside_the_sessions(repo: Path,
                                                                              orchestrate_home: Path) -> None:
    steps = EditingSteps({"abs": replace("return x\n", "return 0\n")}, failing=frozenset({"abs"}))
    result, _ = await _run(repo, orchestrate_home, steps, mode="branch")
    assert "return 0" in git(repo, "show", f"orchestrate/{result.session_id}-failed/abs:bank.py")


# ------------------------------------------------------------------------------------------------ bad input
def _refuses(repo: Path, home: Path, mode: str, branch: str = "") -> str:
    before = _state(repo)
    with pytest.raises(InputError) as refused:
        import anyio

        anyio.run(_run, repo, home, EditingSteps(EDITS), mode, branch)
    assert _state(repo) == before  # refs, HEAD, index, files
    store = Store(Home(home))
    assert store.list_sessions(cwd=None) == []  # refused before a session existed
    store.close()
    return refused.value.render()


def test_commit_on_a_detached_head_is_refused(repo: Path, orchestrate_home: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    assert "HEAD is detached" in _refuses(repo, orchestrate_home, "commit")


def test_commit_mid_rebase_is_refused(repo: Path, orchestrate_home: Path) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "notes.txt").write_text("theirs\n")
    git(repo, "commit", "-qam", "theirs")
    git(repo, "checkout", "-q", "main")
    (repo / "notes.txt").write_text("ours\n")
    git(repo, "commit", "-qam", "ours")
    assert subprocess.run(["git", "rebase", "other"], cwd=repo, capture_output=True, check=False).returncode != 0
    assert "in the middle of a rebase" in _refuses(repo, orchestrate_home, "commit")


def test_branch_onto_an_existing_branch_is_refused(repo: Path, orchestrate_home: Path) -> None:
    git(repo, "branch", "taken")
    assert "branch taken already exists" in _refuses(repo, orchestrate_home, "branch", "taken")
    assert "clashes with" in _refuses(repo, orchestrate_home, "branch", "taken/more")
    assert "not a valid branch name" in _refuses(repo, orchestrate_home, "branch", "add a flag")
