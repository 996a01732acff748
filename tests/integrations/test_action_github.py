"""The Action's ``pr`` and ``review`` modes, run for real: the steps' scripts as a runner runs them, real git pushing to
a local bare remote, the real ``gh`` CLI, and GitHub replaced only at the HTTP boundary (tests/integrations/
github_fake.py). Also: ``actionlint`` on the example workflows, which use the Action with each mode.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import REPO_ROOT
from tests.integrations.github_fake import TOKEN, FakeGitHub, fake_github
from tests.integrations.test_action_yml import MODEL, _exec_step, _github_env, _run_step, action
from tests.support import make_repo

__all__ = ["action"]  # the fixture, shared with test_action_yml

needs_gh = pytest.mark.skipif(shutil.which("gh") is None or shutil.which("openssl") is None,
                              reason="needs gh and openssl (.ci/run installs both)")
REPOSITORY = "octo/demo"
PULL = {"number": 12, "html_url": "https://github.example/octo/demo/pull/12", "state": "open"}
REVIEW = {"id": 80, "html_url": "https://github.example/octo/demo/pull/7#pullrequestreview-80", "state": "COMMENTED"}
INVALID = {"message": "Unprocessable Entity", "errors": ["Line could not be resolved"],
           "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def github(tmp_path: Path) -> Any:
    with fake_github(tmp_path) as fake:
        yield fake


def _env(tmp_path: Path, fake: FakeGitHub, **extra: str) -> dict[str, str]:
    return _github_env(tmp_path, GITHUB_REPOSITORY=REPOSITORY, **fake.env(tmp_path / "gh-config"), **extra)


@needs_gh
@pytest.mark.parametrize("delivered", [True, False], ids=["run-on-branch", "applied-to-checkout"])
def test_pr_mode_pushes_the_session_branch_and_opens_a_pull_request(action: dict[str, Any], tmp_path: Path,
                                                                    github: FakeGitHub, delivered: bool) -> None:
    """With ``exec --branch`` the session's commits are on ``orchestrate/<session>`` already; an orchestrate that
    applied the change to the checkout instead (``MODE`` other than pr: no ``--branch``) gets it committed there."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = make_repo(tmp_path / "workspace", {"README.md": "demo\n"})
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    github.reply("POST", f"repos/{REPOSITORY}/pulls", (201, PULL))
    env = _env(tmp_path, github, MODE="pr", TASK="write hello.txt", MODEL=MODEL, BASE="", DEFAULT_BRANCH="main",
               EXTRA_ARGS="-c validate.discover=false")
    outputs = _run_step(action, "run", env if delivered else {**env, "MODE": "run"}, repo)
    assert outputs["exit-code"] == "0"
    session = _run_step(action, "result", {**env, "EVENTS": outputs["events"]}, repo)["session-id"]
    result = json.loads((tmp_path / "runner-temp" / "orchestrate-result.json").read_text())
    assert result["branch"] == (f"orchestrate/{session}" if delivered else "")
    assert git(repo, "status", "--porcelain") == ("" if delivered else "?? hello.txt")
    outputs = _run_step(action, "pr", env, repo)

    branch = f"orchestrate/{session}"
    assert outputs["pr-url"] == PULL["html_url"] and outputs["branch"] == branch
    assert git(remote, "show", f"{branch}:hello.txt") == "hello"  # pushed, with the run's change
    assert git(remote, "rev-parse", f"{branch}~1") == git(remote, "rev-parse", "main")
    [request] = github.requests
    assert (request.method, request.path) == ("POST", f"/api/v3/repos/{REPOSITORY}/pulls")
    assert request.headers["Authorization"] == f"token {TOKEN}"
    assert request.body["head"] == branch and request.body["base"] == "main"
    assert request.body["title"] == "orchestrate: write hello.txt"
    assert request.body["body"].startswith("## orchestrate") and f"session `{session}`" in request.body["body"]
    assert f"**Pull request:** {PULL['html_url']}" in (tmp_path / "summary.md").read_text()


@needs_gh
def test_pr_mode_with_nothing_changed_opens_nothing(action: dict[str, Any], tmp_path: Path,
                                                    github: FakeGitHub) -> None:
    repo = make_repo(tmp_path / "workspace", {"README.md": "demo\n"})
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    (temp / "orchestrate-result.json").write_text(json.dumps({"status": "succeeded", "session_id": "s1",
                                                              "files": [], "branch": ""}))
    (temp / "orchestrate-summary.md").write_text("## orchestrate\n")
    outputs = _run_step(action, "pr", _env(tmp_path, github, TASK="t", BASE="main"), repo)
    assert outputs["pr-url"] == "" and github.requests == []


@pytest.fixture
def pull_request(tmp_path: Path) -> tuple[Path, str, str]:
    """A checkout of a pull request's head: main, then one commit that breaks add; (repo, base sha, head sha)."""
    repo = make_repo(tmp_path / "workspace", {"calc.py": "def add(a, b):\n    return a + b\n"})
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    git(repo, "commit", "-qam", "oops")
    return repo, base, git(repo, "rev-parse", "HEAD")


def _review_env(tmp_path: Path, fake: FakeGitHub, base: str, head: str, replies: list[str]) -> dict[str, str]:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps(replies))
    return _env(tmp_path, fake, BASE=base, HEAD_SHA=head, PR_NUMBER="7", MODEL=f"scripted:{script}")


FINDINGS = ('{"findings": [{"file": "calc.py", "line": 2, "code": "return a - b", "severity": "error", '
            '"comment": "subtracts instead of adding"}, {"file": "", "severity": "info", "comment": "add a test"}], '
            '"verdict": "request_changes"}')


@needs_gh
def test_review_mode_posts_the_findings_as_a_review_with_line_comments(action: dict[str, Any], tmp_path: Path,
                                                                        github: FakeGitHub,
                                                                        pull_request: tuple[Path, str, str]) -> None:
    repo, base, head = pull_request
    github.reply("POST", f"repos/{REPOSITORY}/pulls/7/reviews", (200, REVIEW))
    outputs = _run_step(action, "review", _review_env(tmp_path, github, base, head, [FINDINGS]), repo)
    assert (outputs["verdict"], outputs["exit-code"]) == ("request_changes", "1")
    [request] = github.requests
    assert request.path == f"/api/v3/repos/{REPOSITORY}/pulls/7/reviews"
    assert request.body["event"] == "REQUEST_CHANGES" and request.body["commit_id"] == head
    assert request.body["comments"] == [{"path": "calc.py", "line": 2, "side": "RIGHT",
                                         "body": "**error** `calc.py:2`: subtracts instead of adding"}]
    assert "- info the change: add a test" in request.body["body"]
    assert REVIEW["html_url"] in (tmp_path / "summary.md").read_text()
    fail = next(s for s in action["runs"]["steps"] if s["name"] == "Fail when the review requests changes")
    assert fail["if"] == "steps.review.outputs.exit-code != '0' && inputs.mode == 'review'"


@needs_gh
def test_a_refused_review_is_posted_again_as_one_comment(action: dict[str, Any], tmp_path: Path, github: FakeGitHub,
                                                         pull_request: tuple[Path, str, str]) -> None:
    repo, base, head = pull_request
    github.reply("POST", f"repos/{REPOSITORY}/pulls/7/reviews", (422, INVALID), (200, REVIEW))
    outputs = _run_step(action, "review", _review_env(tmp_path, github, base, head, [FINDINGS]), repo)
    assert outputs["verdict"] == "request_changes"
    first, second = github.requests
    assert first.body["event"] == "REQUEST_CHANGES" and len(first.body["comments"]) == 1
    assert second.body["event"] == "COMMENT" and second.body["comments"] == []
    assert "`calc.py:2`: subtracts instead of adding" in second.body["body"]


@needs_gh
def test_an_approval_is_posted_as_a_comment_and_no_review_posts_nothing(action: dict[str, Any], tmp_path: Path,
                                                                        github: FakeGitHub,
                                                                        pull_request: tuple[Path, str, str]) -> None:
    repo, base, head = pull_request
    github.reply("POST", f"repos/{REPOSITORY}/pulls/7/reviews", (200, REVIEW))
    approve = '{"findings": [], "verdict": "approve"}'
    outputs = _run_step(action, "review", _review_env(tmp_path, github, base, head, [approve]), repo)
    assert (outputs["verdict"], outputs["exit-code"]) == ("approve", "0")
    assert github.requests[0].body["event"] == "COMMENT"  # a model's approval is not a maintainer's
    (tmp_path / "output").unlink()
    outputs = _run_step(action, "review", _review_env(tmp_path, github, base, head, ["no JSON here"] * 4), repo)
    assert (outputs["verdict"], outputs["exit-code"]) == ("error", "2")
    assert len(github.requests) == 1  # nothing more was posted
    assert "No review: error: no review: the reviewer model" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize(("mode", "task", "says"), [
    ("deploy", "t", "unknown mode 'deploy' (run, pr or review)"), ("pr", "", "mode pr needs a task"),
    ("run", "", "mode run needs a task"), ("review", "", None), ("pr", "t", None),
])
def test_the_mode_is_checked_first(action: dict[str, Any], tmp_path: Path, mode: str, task: str,
                                   says: str | None) -> None:
    proc = _exec_step(action, "mode", _github_env(tmp_path, MODE=mode, TASK=task), tmp_path)
    assert (proc.returncode, says is None or f"::error title=orchestrate::{says}" in proc.stdout) == (
        0 if says is None else 2, True)
    assert action["runs"]["steps"][0]["id"] == "mode"


def test_review_mode_needs_a_base(action: dict[str, Any], tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "workspace", {"a.txt": "a\n"})
    proc = _exec_step(action, "review", _github_env(tmp_path, BASE="", GITHUB_REPOSITORY=REPOSITORY), repo)
    assert proc.returncode == 1 and "::error title=orchestrate::no base to review against" in proc.stderr


def _lint(actionlint: str, project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([actionlint, "-no-color"], cwd=project, capture_output=True, text=True, check=False)


def test_actionlint_passes_on_the_example_workflows_using_each_mode(tmp_path: Path) -> None:
    """actionlint checks a workflow's ``uses: ./`` against the action.yml it finds in a project with
    ``.github/workflows``: the examples run there against this action.yml (inputs, outputs, expressions)."""
    actionlint = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if actionlint is None:
        pytest.skip("actionlint is not installed (the dev extra installs it)")
    examples = sorted((REPO_ROOT / "examples" / "github-action").glob("*.yml"))
    assert {p.stem for p in examples} == {"run", "pr", "review"}
    project = make_repo(tmp_path / "project", {"action.yml": (REPO_ROOT / "action.yml").read_text()})
    workflows = project / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for example in examples:
        shutil.copy(example, workflows / example.name)
    proc = _lint(actionlint, project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pr = workflows / "pr.yml"  # the check really reads action.yml: an input it does not declare is an error
    pr.write_text(pr.read_text().replace("\n          mode: pr\n", "\n          mode: pr\n          nope: x\n"))
    proc = _lint(actionlint, project)
    assert proc.returncode == 1 and 'input "nope" is not defined in action' in proc.stdout
