"""``orchestrate review``: real git in temporary repositories, scripted reviewer models (orchestrator.testing).

Covers the three targets (what each diff holds, the user's index left alone), the text and ``--json`` outputs, the
exit codes (0 approve, 1 request changes, 2 bad input or no readable review), and the lenient reading of small
models' replies.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli
from tests.support import make_repo

APPROVE = '{"findings": [], "verdict": "approve"}'
BUG = ('Here is my review:\n```json\n{"findings": [{"file": "b/calc.py", "line": "2-3", "severity": "High", '
       '"comment": "subtracts instead of adding"}], "verdict": "approve"}\n```')


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: calc.py; branch feature: one commit that breaks add and adds mul; plus an untracked file."""
    root = make_repo(tmp_path / "repo", {"calc.py": "def add(a, b):\n    return a + b\n"})
    git(root, "checkout", "-q", "-b", "feature")
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n")
    git(root, "commit", "-qam", "mul")
    (root / "notes.txt").write_text("untracked\n")
    return root


def review(repo: Path, tmp_path: Path, *args: str, replies: list[str] | None = None) -> tuple[int, str, str]:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps(replies if replies is not None else [APPROVE] * 4))
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(out=Console(file=out, width=300), err=Console(file=err, width=300), environ=dict(os.environ))
    code = cli(["review", "-C", str(repo), "-m", f"scripted:{script}", *args], ctx)
    return code, out.getvalue(), err.getvalue()


def test_base_reviews_the_branch_and_the_working_tree_and_leaves_the_index_alone(repo: Path, tmp_path: Path) -> None:
    before = (git(repo, "status", "--porcelain"), (repo / ".git" / "index").read_bytes())
    code, out, err = review(repo, tmp_path, "--base", "main", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["verdict"] == "approve" and report["files"] == ["calc.py", "notes.txt"]
    assert report["target"] == "the working tree against the merge base of main and HEAD"
    assert report["requests"] == 1 and report["usage"]["prompt_tokens"] > 0
    assert (git(repo, "status", "--porcelain"), (repo / ".git" / "index").read_bytes()) == before


def test_a_finding_is_one_line_and_an_error_requests_changes(repo: Path, tmp_path: Path) -> None:
    code, out, _ = review(repo, tmp_path, "--base", "main", replies=[BUG])
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "calc.py:2: error: subtracts instead of adding"
    assert lines[-1].startswith("verdict: request changes (1 finding in 2 files;")


def test_commit_reviews_that_commit_only_and_uncommitted_the_rest(repo: Path, tmp_path: Path) -> None:
    code, out, _ = review(repo, tmp_path, "--commit", "HEAD", "--json")
    assert code == 0 and json.loads(out)["files"] == ["calc.py"]
    assert json.loads(out)["target"].startswith("commit ")
    (repo / "calc.py").write_text("changed\n")
    git(repo, "add", "calc.py")
    (repo / "other.txt").write_text("x\n")
    code, out, _ = review(repo, tmp_path, "--json")  # the default: --uncommitted
    assert code == 0 and json.loads(out)["files"] == ["calc.py", "notes.txt", "other.txt"]
    code, out, _ = review(repo, tmp_path, "--commit", "main", "--json")  # a root commit: against the empty tree
    assert code == 0 and json.loads(out)["files"] == ["calc.py"]


def test_the_model_sees_new_file_line_numbers(repo: Path, tmp_path: Path) -> None:
    from agents.diff_chunks import pack, split_files

    diff = git(repo, "diff", "main", "HEAD")
    [chunk] = pack(split_files(diff), 10_000, 8).chunks
    assert "File: calc.py" in chunk.text
    assert "    2 +     return a - b" in chunk.text and "      -     return a + b" in chunk.text
    assert "    5 + def mul(a, b):" in chunk.text


@pytest.mark.parametrize(("args", "says"), [
    (["--base", "nope"], "--base nope: unknown revision"),
    (["--base", "--uncommitted"], "expected one argument"),
    (["--commit", "-x"], "expected one argument"),
    (["--base", "main", "--commit", "HEAD"], "not allowed with argument"),
])
def test_bad_targets_exit_2_with_one_line(repo: Path, tmp_path: Path, args: list[str], says: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = review(repo, tmp_path, *args)
    assert code == 2
    assert says in err + capsys.readouterr().err
    assert "Traceback" not in err


def test_not_a_repository_and_an_empty_diff_exit_2(repo: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, err = review(plain, tmp_path)
    assert code == 2 and "is not inside a git repository" in err and len(err.strip().splitlines()) == 1
    (repo / "notes.txt").unlink()
    code, _, err = review(repo, tmp_path, "--base", "feature")
    assert code == 2 and "nothing to review: no changes in the working tree against" in err


def test_replies_that_never_parse_are_no_review_exit_2_never_approval(repo: Path, tmp_path: Path) -> None:
    code, out, err = review(repo, tmp_path, "--base", "main", replies=["LGTM!"] * 4)
    assert code == 2 and out == ""
    assert "no review: the reviewer model" in err and "gave no valid DiffReviewReply in 4 attempts" in err


def test_a_request_for_changes_without_findings_still_says_so(repo: Path, tmp_path: Path) -> None:
    code, out, _ = review(repo, tmp_path, "--commit", "HEAD",
                          replies=['{"findings": [], "verdict": "request_changes"}'])
    assert code == 1
    assert out.splitlines()[0] == "calc.py: warning: the reviewer requested changes without naming a problem"


def test_large_diffs_are_chunked_and_what_does_not_fit_is_named(repo: Path, tmp_path: Path) -> None:
    for n in range(3):
        (repo / f"big{n}.py").write_text("".join(f"value_{i} = {i}\n" for i in range(60)))
    code, out, _ = review(repo, tmp_path, "--json", "-c", "review.diff_chunk_chars=1200",
                          "-c", "review.max_requests=3")
    report = json.loads(out)
    assert code == 0 and report["requests"] == 3
    left = {(item["file"], item["reason"]) for item in report["left_out"]}
    assert ("big0.py", "a hunk too large for one request was cut") in left
    assert ("notes.txt", "over review.max_requests") in left
    code, out, _ = review(repo, tmp_path, "-c", "review.diff_chunk_chars=1200", "-c", "review.max_requests=3")
    assert "not reviewed in full: notes.txt (over review.max_requests)" in out


def test_a_quoted_line_is_located_in_the_diff_whatever_number_the_model_wrote(repo: Path, tmp_path: Path) -> None:
    reply = ('{"findings": [{"file": "calc.py", "line": 1, "code": "return a - b", "severity": "error", '
             '"comment": "subtracts"}, {"file": "calc.py", "line": 40, "code": "not in the diff", '
             '"severity": "info", "comment": "kept as written"}], "verdict": "request_changes"}')
    code, out, _ = review(repo, tmp_path, "--commit", "HEAD", replies=[reply])
    assert code == 1
    assert out.splitlines()[:2] == ["calc.py:2: error: subtracts", "calc.py:40: info: kept as written"]


def test_a_base_with_no_common_history_exits_2(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "--orphan", "island")
    git(repo, "commit", "-qm", "unrelated")
    git(repo, "checkout", "-q", "feature")
    code, out, err = review(repo, tmp_path, "--base", "island")
    assert code == 2 and out == ""
    assert "--base island: no common history with HEAD" in err and "fetch-depth: 0" in err


def test_replies_are_bounded_in_findings_and_tokens(repo: Path) -> None:
    import anyio

    from agents.diff_chunks import pack, split_files
    from agents.diff_review import MAX_FINDINGS, REPLY_TOKENS, review_chunks
    from orchestrator.cli.review import _bounded_replies
    from orchestrator.settings.schema import Settings
    from orchestrator.testing import ScriptedModel, gateway_for

    many = {"findings": [{"file": "calc.py", "line": 2, "comment": f"c{i}"} for i in range(15)], "verdict": "approve"}
    model = ScriptedModel([json.dumps(many)])
    gateway = gateway_for(_bounded_replies(Settings()), {"reviewer": model})
    packed = pack(split_files(git(repo, "diff", "main", "HEAD")), 10_000, 8)
    report = anyio.run(lambda: review_chunks(gateway, packed, target="t", instructions=None))
    assert len(report.findings) == MAX_FINDINGS and report.verdict == "approve"
    assert model.requests[0].max_tokens == REPLY_TOKENS
    assert model.requests[0].response_schema["$defs"]["FindingReply"]["required"] == ["comment"]


def test_a_finding_without_its_file_gets_the_file_holding_the_quoted_line(repo: Path, tmp_path: Path) -> None:
    reply = ('{"findings": [{"file": "", "comment": "subtracts", "code": "return a - b", "line": 9, '
             '"severity": "error"}], "verdict": "request_changes"}')  # what the embedded model wrote once
    code, out, _ = review(repo, tmp_path, "--base", "main", replies=[reply])
    assert code == 1 and out.splitlines()[0] == "calc.py:2: error: subtracts"


def test_json_stays_plain_when_colour_is_forced(repo: Path, tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps([BUG]))
    env = {**os.environ, "FORCE_COLOR": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-m", "orchestrator", "review", "--base", "main", "--json", "-m",
                           f"scripted:{script}"], cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and json.loads(proc.stdout)["findings"][0]["line"] == 2
