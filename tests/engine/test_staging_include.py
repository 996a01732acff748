"""``staging.include``: the user's ignored dependency folders are linked into each staging, read-only, and never part
of a step's change (issue 11.3: `npm test` or the venv's pytest could not run in a fresh worktree)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.settings.schema import Settings
from orchestrator.workspace.staging import Workspace
from orchestrator.workspace.staging_include import DEFAULT_INCLUDE
from policies.sandbox import SandboxRunner
from policies.sandbox.factory import policy_for
from tests.sandbox.sandbox_support import require_backend

INCLUDE = (*DEFAULT_INCLUDE, "packages/*/node_modules", "missing/**/dir")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def node_project(path: Path) -> Path:
    """A repository whose dependencies (node_modules/, .venv/, a workspace package's node_modules/) are ignored."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / ".gitignore").write_text("node_modules/\n.venv/\n")
    (path / "index.js").write_text("require('pkg')\n")
    (path / "env").mkdir()
    (path / "env" / "settings.js").write_text("tracked\n")  # a tracked folder a default pattern names
    (path / "packages" / "a").mkdir(parents=True)
    (path / "packages" / "a" / "index.js").write_text("a\n")
    git(path, "add", "-A")
    git(path, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init")
    for rel, text in (("node_modules/pkg/index.js", "module.exports = 1\n"), (".venv/pyvenv.cfg", "home = /usr\n"),
                      ("packages/a/node_modules/dep/x.js", "dep\n")):
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    (path / "node_modules" / ".bin").mkdir()
    (path / "node_modules" / ".bin" / "tool").symlink_to("../pkg/index.js")
    return path


def test_ignored_dependencies_are_linked_clean_in_git_status_and_out_of_the_change(tmp_path: Path) -> None:
    repo = node_project(tmp_path / "repo")
    notes: list[str] = []
    ws = Workspace(repo, include=INCLUDE, notify=notes.append)
    staging = ws.create_staging(tmp_path / "s", "a")
    root = staging.root
    assert (root / "node_modules" / "pkg" / "index.js").read_text() == "module.exports = 1\n"
    assert (root / "node_modules" / ".bin" / "tool").read_text() == "module.exports = 1\n"
    assert (root / "node_modules").is_dir() and not (root / "node_modules").is_symlink()
    assert (root / "node_modules" / "pkg").resolve() == (repo / "node_modules" / "pkg").resolve()
    assert (root / ".venv" / "pyvenv.cfg").is_symlink()
    assert (root / "packages" / "a" / "node_modules" / "dep" / "x.js").read_text() == "dep\n"
    assert not (root / "env").is_symlink() and (root / "env" / "settings.js").read_text() == "tracked\n"
    assert git(root, "status", "--porcelain") == ""  # what the agent (or a check) sees in the staging
    assert staging.diff() == "" and staging.changed_files() == []
    assert notes == [f"staging.include: nothing in {repo} matches 'missing/**/dir'"]

    (root / "node_modules" / "newpkg").mkdir()  # an install inside the staging: its own directory, not the user's
    (root / "node_modules" / "newpkg" / "x.js").write_text("new\n")
    (root / ".gitignore").write_text("")  # even unignored, the linked folders are not part of the change
    (root / "index.js").write_text("require('newpkg')\n")
    assert staging.changed_files() == [".gitignore", "index.js"]
    diff = staging.diff()
    assert "node_modules" not in diff.replace("-node_modules/", "") and ".venv/pyvenv" not in diff
    ws.apply("a", diff, staging.changed_files(), lambda _entry: None)
    staging.remove()
    assert not (repo / "node_modules" / "newpkg").exists()
    assert (repo / "node_modules" / "pkg" / "index.js").read_text() == "module.exports = 1\n"  # removal kept it
    assert (repo / ".venv" / "pyvenv.cfg").is_file()
    ws.create_staging(tmp_path / "s", "b").remove()
    assert len(notes) == 1  # said once per run


def test_a_copy_staging_links_them_instead_of_copying(tmp_path: Path) -> None:
    work = tmp_path / "plain"
    (work / "node_modules" / "pkg").mkdir(parents=True)
    (work / "node_modules" / "pkg" / "index.js").write_text("lib\n")
    (work / "venv" / "bin").mkdir(parents=True)
    (work / "venv" / "bin" / "activate").write_text("# venv\n")
    (work / "app.js").write_text("x\n")
    ws = Workspace(work, include=DEFAULT_INCLUDE)
    staging = ws.create_staging(tmp_path / "s", "a")
    assert staging.kind == "copy"
    assert (staging.root / "node_modules" / "pkg").is_symlink() and (staging.root / "venv" / "bin").is_symlink()
    assert (staging.root / "venv" / "bin" / "activate").read_text() == "# venv\n"
    (staging.root / "app.js").write_text("y\n")
    assert staging.changed_files() == ["app.js"]
    staging.remove()
    assert (work / "venv" / "bin" / "activate").is_file() and (work / "node_modules" / "pkg" / "index.js").is_file()


def test_a_reattached_staging_still_leaves_the_links_out(tmp_path: Path) -> None:
    repo = node_project(tmp_path / "repo")
    ws = Workspace(repo, include=DEFAULT_INCLUDE)
    staging = ws.create_staging(tmp_path / "s", "a")
    (staging.root / ".gitignore").write_text("")
    again = Workspace(repo, include=DEFAULT_INCLUDE).attach(staging.record())
    assert again is not None and again.changed_files() == [".gitignore"]
    again.remove()


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A directory outside /tmp: bubblewrap gives commands a private /tmp, which would hide the user's tree."""
    base = Path(tempfile.mkdtemp(prefix="orchestrate-include-", dir="/var/tmp")).resolve()
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("backend", ["bwrap", "landlock"])
def test_linked_dependencies_are_read_only_to_sandboxed_commands(outside_tmp: Path, backend: str) -> None:
    require_backend(backend)
    repo = node_project(outside_tmp / "repo")
    staging = Workspace(repo, include=DEFAULT_INCLUDE).create_staging(outside_tmp / "s", "a")
    script = ("cat node_modules/pkg/index.js; echo hacked > node_modules/pkg/index.js; touch node_modules/pkg/new;"
              " mkdir node_modules/own && echo ok > node_modules/own/x.js; true")
    policy = policy_for(Settings(), staging.root)
    result = asyncio.run(SandboxRunner(backends=[backend]).run(["sh", "-c", script], policy=policy, cwd=staging.root,
                                                               timeout_s=60))
    assert "module.exports = 1" in result.output  # readable
    assert (repo / "node_modules" / "pkg" / "index.js").read_text() == "module.exports = 1\n"  # not writable
    assert not (repo / "node_modules" / "pkg" / "new").exists()
    assert (staging.root / "node_modules" / "own" / "x.js").read_text() == "ok\n"  # the staging's own dir is
    staging.remove()
