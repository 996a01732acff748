"""The patch between two snapshots, on real git: binary files, deletions, odd file names, and what is left out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrator.core.errors import GitError
from orchestrator.engine.batch import gitops
from tests.support import make_repo


def test_the_patch_recreates_the_final_tree_and_names_its_files(tmp_path: Path) -> None:
    source = make_repo(tmp_path / "src", {"keep.py": "K = 1\n", "gone.txt": "bye\n", ".gitignore": "ignored/\n"})
    clone = tmp_path / "clone"
    gitops.clone(str(source), clone, None)
    start = gitops.snapshot(clone)
    (clone / "gone.txt").unlink()
    (clone / "keep.py").write_text("K = 2\n")
    (clone / "x y.txt").write_text("space\n")
    (clone / 'q"uote.txt').write_text("quote\n")
    (clone / "blob.bin").write_bytes(bytes(range(256)))
    (clone / "ignored").mkdir()
    (clone / "ignored" / "out.log").write_text("not part of it\n")
    (clone / "__pycache__").mkdir()
    (clone / "__pycache__" / "keep.cpython-311.pyc").write_bytes(b"\x00")
    patch, names = gitops.diff(clone, start, gitops.snapshot(clone))
    assert sorted(names) == sorted(["gone.txt", "keep.py", "x y.txt", 'q"uote.txt', "blob.bin"])
    assert subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                          check=True).stdout != ""  # the clone's own index was not touched: all still unstaged
    fresh = tmp_path / "fresh"
    gitops.clone(str(source), fresh, None)
    subprocess.run(["git", "apply", "-"], cwd=fresh, input=patch, check=True)
    for name in ("keep.py", "x y.txt", 'q"uote.txt', "blob.bin"):
        assert (fresh / name).read_bytes() == (clone / name).read_bytes()
    assert not (fresh / "gone.txt").exists() and not (fresh / "ignored").exists()
    assert not (fresh / "__pycache__").exists()


def test_names_without_a_quoted_header_come_from_the_patch_itself() -> None:
    assert gitops._names(b"diff --git a/a b/a b/a b/a\n--- a/a b/a\n") == ("a b/a",)
    assert gitops._names(b'diff --git "a/q\\"x" "b/q\\"x"\n') is None


def test_a_snapshot_runs_nothing_the_session_wrote_into_the_clone(tmp_path: Path) -> None:
    """The session runs in the clone and may rewrite its ``.git/config``: a filter driver (and an fsmonitor hook) it
    names must not run when the worker snapshots the tree afterwards (git runs hardened, through gitrun.Git)."""
    source = make_repo(tmp_path / "src", {"a.txt": "a\n"})
    clone = tmp_path / "clone"
    gitops.clone(str(source), clone, None)
    start = gitops.snapshot(clone)
    marker = tmp_path / "pwned"
    with (clone / ".git" / "config").open("a") as config:
        config.write(f'[filter "evil"]\n\tclean = "touch {marker}; cat"\n\trequired = true\n'
                     f'[core]\n\tfsmonitor = "touch {marker}; true"\n')
    (clone / ".gitattributes").write_text("*.txt filter=evil\n")
    (clone / "a.txt").write_text("changed\n")
    patch, names = gitops.diff(clone, start, gitops.snapshot(clone))
    assert not marker.exists()
    assert sorted(names) == [".gitattributes", "a.txt"] and b"+changed" in patch


def test_a_failed_clone_is_one_git_error_naming_git_s_reason(tmp_path: Path) -> None:
    with pytest.raises(GitError, match=r"^git clone failed: .*"):
        gitops.clone(str(tmp_path / "missing"), tmp_path / "dest", None)
