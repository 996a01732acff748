"""Stagings on real temporary git repositories (and plain directories), and applying their diffs."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from orchestrator.store.sessions import JournalEntry
from orchestrator.workspace.staging import ApplyConflict, Workspace
from tests.support import make_repo


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    bank = "def deposit(x):\n    return x\n\n\n\n\n\n\ndef withdraw(x):\n    return -x\n"
    return make_repo(tmp_path / "repo", {"bank.py": bank, "logo.bin": bytes(range(256))})


class Journal:
    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []

    def __call__(self, entry: JournalEntry) -> None:
        self.entries.append(entry)


def _status(repo: Path) -> str:
    return git(repo, "status", "--porcelain")


def test_a_staging_sees_uncommitted_changes_without_touching_index_or_head(repo: Path, tmp_path: Path) -> None:
    (repo / "bank.py").write_text("def deposit(x):\n    return x  # dirty\n")
    (repo / "notes.txt").write_text("untracked\n")
    git(repo, "add", "bank.py")  # something staged in the user's index
    before = (git(repo, "rev-parse", "HEAD"), git(repo, "diff", "--cached"), _status(repo))
    ws = Workspace(repo)
    staging = ws.create_staging(tmp_path / "stagings", "step a")
    try:
        assert staging.kind == "worktree" and staging.base != before[0]
        assert (staging.root / "bank.py").read_text() == "def deposit(x):\n    return x  # dirty\n"
        assert (staging.root / "notes.txt").read_text() == "untracked\n"
        assert staging.diff() == "" and staging.changed_files() == []
        assert (git(repo, "rev-parse", "HEAD"), git(repo, "diff", "--cached"), _status(repo)) == before
    finally:
        staging.remove()
    assert not (tmp_path / "stagings" / "step_a").exists()
    assert "step_a" not in git(repo, "worktree", "list")


def test_clean_tree_stages_at_head_and_diff_includes_new_deleted_and_binary(repo: Path, tmp_path: Path) -> None:
    ws = Workspace(repo)
    staging = ws.create_staging(tmp_path / "s", "a")
    assert staging.base == git(repo, "rev-parse", "HEAD")
    (staging.root / "new.py").write_text("x = 1\n")
    (staging.root / "logo.bin").write_bytes(bytes(reversed(range(256))))
    (staging.root / "bank.py").unlink()
    assert sorted(staging.changed_files()) == ["bank.py", "logo.bin", "new.py"]
    diff = staging.diff()
    assert "GIT binary patch" in diff and "new file mode" in diff and "deleted file mode" in diff
    assert (repo / "bank.py").exists() and not (repo / "new.py").exists()  # nothing touched before apply
    journal = Journal()
    ws.apply("a", diff, staging.changed_files(), journal)
    staging.remove()
    assert not (repo / "bank.py").exists()
    assert (repo / "new.py").read_text() == "x = 1\n"
    assert (repo / "logo.bin").read_bytes() == bytes(reversed(range(256)))
    assert [e.state for e in journal.entries] == ["intent", "done"]
    assert journal.entries[0].preimages["new.py"] is None and journal.entries[0].preimages["bank.py"]
    assert git(repo, "diff", "--cached") == ""  # applied to the working tree only, index untouched


def test_parallel_edits_to_different_places_merge_and_to_the_same_lines_conflict(repo: Path, tmp_path: Path) -> None:
    ws = Workspace(repo)
    a, b, c = (ws.create_staging(tmp_path / "s", n) for n in "abc")
    assert a.base == b.base == c.base
    text = (repo / "bank.py").read_text()
    (a.root / "bank.py").write_text(text.replace("return x\n", "return abs(x)\n"))
    (b.root / "bank.py").write_text(text.replace("return -x\n", "return -abs(x)\n"))
    (c.root / "bank.py").write_text(text.replace("return x\n", "return max(x, 0)\n"))
    journal = Journal()
    ws.apply("a", a.diff(), a.changed_files(), journal)
    ws.apply("b", b.diff(), b.changed_files(), journal)  # other hunk: applies on top of a
    after_ab = (repo / "bank.py").read_text()
    assert "abs(x)" in after_ab and "-abs(x)" in after_ab
    with pytest.raises(ApplyConflict, match="step c"):
        ws.apply("c", c.diff(), c.changed_files(), journal)
    assert (repo / "bank.py").read_text() == after_ab  # never silently overwritten
    assert [e.step_id for e in journal.entries] == ["a", "a", "b", "b"]
    # the re-run of c on the updated tree starts from a and b's edits
    c2 = ws.create_staging(tmp_path / "s", "c-2")
    assert (c2.root / "bank.py").read_text() == after_ab
    for s in (a, b, c, c2):
        s.remove()


def test_recover_finishes_a_half_applied_edit_exactly_once(repo: Path, tmp_path: Path) -> None:
    ws = Workspace(repo)
    staging = ws.create_staging(tmp_path / "s", "a")
    (staging.root / "bank.py").write_text("changed\n")
    (staging.root / "added.py").write_text("new\n")
    diff, files = staging.diff(), staging.changed_files()
    staging.remove()
    journal = Journal()
    original = (repo / "bank.py").read_bytes()
    entry = JournalEntry(step_id="a", state="intent", diff=diff, files=tuple(files), root=str(repo),
                         preimages={"bank.py": base64.b64encode(original).decode(), "added.py": None})
    (repo / "added.py").write_text("new\n")  # the crash happened half-way: one file written
    ws.recover(entry, journal)
    assert (repo / "bank.py").read_text() == "changed\n" and (repo / "added.py").read_text() == "new\n"
    ws.recover(entry, journal)  # already applied: recorded done, not applied twice
    assert (repo / "bank.py").read_text() == "changed\n"
    assert [e.state for e in journal.entries] == ["done", "done"]


def test_a_plain_directory_is_staged_as_a_copy(tmp_path: Path) -> None:
    work = tmp_path / "plain"
    (work / "node_modules").mkdir(parents=True)
    (work / "node_modules" / "big.js").write_text("x")
    (work / "app.py").write_text("print('hi')\n")
    home = work / ".home"
    (home / "sessions").mkdir(parents=True)
    ws = Workspace(work, exclude=[home])
    assert not ws.is_git and ws.git_info().commit is None
    staging = ws.create_staging(home / "sessions" / "x" / "stagings", "a")
    assert staging.kind == "copy"
    assert not (staging.root / "node_modules").exists() and not (staging.root / ".home").exists()
    (staging.root / "app.py").write_text("print('bye')\n")
    assert staging.changed_files() == ["app.py"]
    ws.apply("a", staging.diff(), staging.changed_files(), Journal())
    assert (work / "app.py").read_text() == "print('bye')\n"
    assert not (work / ".git").exists()
    staging.remove()


def test_attach_finds_a_staging_left_by_a_killed_run(repo: Path, tmp_path: Path) -> None:
    ws = Workspace(repo)
    staging = ws.create_staging(tmp_path / "s", "a")
    (staging.root / "wip.py").write_text("half done\n")
    again = Workspace(repo).attach(staging.record())
    assert again is not None and again.changed_files() == ["wip.py"]
    saved = again.diff()
    again.remove()
    assert Workspace(repo).attach(staging.record()) is None
    fresh = ws.create_staging(tmp_path / "s", "a")
    fresh.apply_own(saved)
    assert (fresh.root / "wip.py").read_text() == "half done\n"
    fresh.remove()


def test_a_review_staging_shows_the_changes_of_the_steps_it_reviews(repo: Path, tmp_path: Path) -> None:
    ws = Workspace(repo)
    coder = ws.create_staging(tmp_path / "s", "code")
    (coder.root / "bank.py").write_text("reviewed change\n")
    (coder.root / "extra.py").write_text("new\n")
    applied = coder.diff()
    ws.apply("code", applied, coder.changed_files(), Journal())
    coder.remove()
    (repo / "later.txt").write_text("not under review\n")
    review = ws.create_staging(tmp_path / "s", "review")
    assert review.diff() == ""
    review.review_base([applied])
    assert sorted(review.changed_files()) == ["bank.py", "extra.py"]
    assert "reviewed change" in review.diff()
    assert (review.root / "bank.py").read_text() == "reviewed change\n"  # the tree itself is the current one
    review.remove()
    assert set(ws.list_files()) == {"bank.py", "extra.py", "later.txt", "logo.bin"}


def test_check_artifacts_stay_out_of_the_diff(repo: Path, tmp_path: Path) -> None:
    """Running pytest in a staging leaves bytecode and caches; without a .gitignore they must not become the step's
    change (they would be reviewed, and applied to the user's tree)."""
    staging = Workspace(repo).create_staging(tmp_path / "s", "a")
    (staging.root / "tests").mkdir()
    (staging.root / "tests" / "test_bank.py").write_text("from bank import deposit\n")
    for junk in ("__pycache__/bank.cpython-311.pyc", "tests/__pycache__/test_bank.cpython-311-pytest-8.pyc",
                 ".pytest_cache/v/cache/lastfailed", ".mypy_cache/3.11/bank.meta.json", "stray.pyc"):
        (staging.root / junk).parent.mkdir(parents=True, exist_ok=True)
        (staging.root / junk).write_bytes(b"\x00junk")
    assert staging.changed_files() == ["tests/test_bank.py"]
    assert "__pycache__" not in staging.diff() and ".pytest_cache" not in staging.diff()
