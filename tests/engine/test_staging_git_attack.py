"""The real attack on host-side git: programs planted for git in a staging (or in the repository) never run.

Orchestrate runs git outside the sandbox on trees an agent wrote. Under the Landlock backend the staging's ``.git``
file is writable, so an agent can replace it with a repository of its own whose config names programs (fsmonitor,
filters, hooks, an external diff, a pager, gpg); a ``.gitattributes`` in the tree picks the filter and diff drivers.
Each planted program appends a line to ``ran``: after orchestrate's own git work (snapshot, worktree add, add, diff,
apply, commit, review base, candidate revert, worktree removal) the file must not exist.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from agents import candidates
from orchestrator.store.sessions import JournalEntry
from orchestrator.workspace.staging import Staging, Workspace
from tests.support import make_repo

HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-checkout", "post-index-change",
         "reference-transaction", "pre-auto-gc", "post-rewrite")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def evil_script(path: Path, ran: Path) -> Path:
    """A program that records that it ran, then behaves like a pass-through filter."""
    path.write_text(f"#!/bin/sh\necho \"$0 $*\" >> '{ran}'\ncat\n")
    path.chmod(0o755)
    return path


def plant(config: Path, hooks: Path, script: Path) -> None:
    """Every config key and hook that makes git run a program, pointing at ``script``."""
    config.parent.mkdir(parents=True, exist_ok=True)
    for key, value in (("core.fsmonitor", script), ("core.hooksPath", hooks), ("core.pager", script),
                       ("core.editor", script), ("diff.external", script), ("diff.evil.command", script),
                       ("diff.evil.textconv", script), ("filter.evil.clean", script), ("filter.evil.smudge", script),
                       ("filter.evil.required", "true"), ("filter.proc.process", script), ("merge.evil.driver", script),
                       ("commit.gpgSign", "true"), ("gpg.program", script), ("core.sshCommand", script),
                       ("credential.helper", script), ("core.askPass", script), ("sequence.editor", script)):
        subprocess.run(["git", "config", "--file", str(config), key, str(value)], check=True)
    hooks.mkdir(parents=True, exist_ok=True)
    for hook in HOOKS:
        shutil.copy(script, hooks / hook)


ATTRIBUTES = "* filter=evil diff=evil merge=evil\n*.bin filter=proc\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"bank.py": "def deposit(x):\n    return x\n", "logo.bin": bytes(range(256))})


def exercise(ws: Workspace, staging: Staging, repo: Path, ran: Path) -> None:
    """Orchestrate's git work on a staging after the coder's turns, up to applying the change and removing it."""
    assert sorted(staging.changed_files()) == [".gitattributes", "bank.py", "x.sh"]
    assert not ran.exists(), f"`git add -A` ran: {ran.read_text()}"
    diff = staging.diff()
    assert "+changed" in diff and "+++ b/x.sh" in diff
    candidates._apply(staging, diff, reverse=True)  # the candidate sampler's revert, then its restore
    assert (staging.tree / "bank.py").read_text() == "def deposit(x):\n    return x\n"
    candidates._apply(staging, diff, reverse=False)
    staging.review_base([diff])
    ws.apply("a", diff, staging.changed_files(), lambda _entry: None)
    assert (repo / "bank.py").read_text() == "changed\n"
    staging.remove()
    ws.git_info()
    ws.list_files()
    again = ws.create_staging(staging.tree.parent.parent, "b")  # the landed .gitattributes names the drivers now
    (again.tree / "bank.py").write_text("again\n")
    later = again.diff()
    ws.apply("b", later, again.changed_files(), lambda _entry: None)
    again.remove()


def test_a_replaced_dot_git_with_planted_programs_is_never_followed(repo: Path, tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    ws = Workspace(repo)
    staging = ws.create_staging(tmp_path / "stagings", "a")
    tree = staging.tree
    registered = Path(git(tree, "rev-parse", "--absolute-git-dir"))
    # What the agent does in its writable staging: its change, a script, attributes, and a .git of its own that
    # borrows the real objects (so every git command on it would "work") and names the script everywhere.
    (tree / "bank.py").write_text("changed\n")
    script = evil_script(tree / "x.sh", ran)
    (tree / ".gitattributes").write_text(ATTRIBUTES)
    (tree / ".git").unlink()
    git(tmp_path, "init", "-q", str(tmp_path / "planted"))
    (tmp_path / "planted" / ".git").rename(tree / ".git")
    (tree / ".git" / "objects" / "info" / "alternates").write_text(f"{repo / '.git' / 'objects'}\n")
    (tree / ".git" / "HEAD").write_text(staging.base + "\n")
    plant(tree / ".git" / "config", tree / ".git" / "hooks", script)

    exercise(ws, staging, repo, ran)

    assert not ran.exists(), ran.read_text()
    assert not registered.exists()  # the registered worktree was removed, not the planted one's
    assert "stagings/a" not in git(repo, "worktree", "list")


def test_programs_the_repository_config_names_never_run(repo: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``sandbox.protect_git = false`` an agent can write the repository's own config and hooks; and the user's
    shell may export GIT_* variables. Orchestrate's git ignores both."""
    ran = tmp_path / "ran"
    script = evil_script(tmp_path / "evil.sh", ran)
    plant(repo / ".git" / "config", repo / ".git" / "hooks", script)
    plant(repo / ".git" / "config", tmp_path / "hooks", script)  # core.hooksPath → a directory of hooks
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", str(script))
    monkeypatch.setenv("GIT_PAGER", str(script))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.fsmonitor'='{script}'")
    (repo / "bank.py").write_text("def deposit(x):\n    return x  # dirty\n")  # the snapshot runs `add -A`
    ws = Workspace(repo)
    staging = ws.create_staging(tmp_path / "stagings", "a")
    (staging.tree / "bank.py").write_text("changed\n")
    evil_script(staging.tree / "x.sh", ran)
    (staging.tree / ".gitattributes").write_text(ATTRIBUTES)
    (staging.tree / "logo.bin").write_bytes(bytes(reversed(range(256))))

    assert sorted(staging.changed_files()) == [".gitattributes", "bank.py", "logo.bin", "x.sh"]
    assert not ran.exists(), f"snapshot, worktree add or `git add -A` ran: {ran.read_text()}"
    diff = staging.diff()
    assert "GIT binary patch" in diff and "+changed" in diff
    candidates._apply(staging, diff, reverse=True)
    candidates._apply(staging, diff, reverse=False)
    staging.review_base([diff])
    entry = JournalEntry(step_id="a", state="intent", diff=diff, files=(), root=str(repo), preimages={})
    ws.apply("a", diff, staging.changed_files(), lambda _entry: None)
    ws.recover(entry, lambda _entry: None)
    staging.remove()
    again = ws.create_staging(tmp_path / "stagings", "b")
    (again.tree / "bank.py").write_text("again\n")
    ws.apply("b", again.diff(), again.changed_files(), lambda _entry: None)
    again.remove()

    assert not ran.exists(), ran.read_text()
    assert (repo / "bank.py").read_text() == "again\n"
    assert (repo / "logo.bin").read_bytes() == bytes(reversed(range(256)))  # stored as is: no filter in between


def test_a_copy_staging_runs_nothing_from_the_users_global_config(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside git the staging is a copy with a private repository (init, add, commit): drivers and hooks from the
    global config, named by a ``.gitattributes`` the agent writes, stay idle too."""
    ran = tmp_path / "ran"
    home = tmp_path / "home"
    home.mkdir()
    script = evil_script(tmp_path / "evil.sh", ran)
    plant(home / ".gitconfig", tmp_path / "hooks", script)
    subprocess.run(["git", "config", "--file", str(home / ".gitconfig"), "init.templateDir", str(tmp_path / "tpl")],
                   check=True)
    plant(tmp_path / "tpl" / "config", tmp_path / "tpl" / "hooks", script)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    work = tmp_path / "plain"
    work.mkdir()
    (work / ".gitattributes").write_text(ATTRIBUTES)
    (work / "app.py").write_text("print('hi')\n")
    ws = Workspace(work)
    staging = ws.create_staging(tmp_path / "stagings", "a")
    assert staging.kind == "copy"
    (staging.root / "app.py").write_text("print('bye')\n")
    diff = staging.diff()
    candidates._apply(staging, diff, reverse=True)
    candidates._apply(staging, diff, reverse=False)
    ws.apply("a", diff, staging.changed_files(), lambda _entry: None)
    staging.remove()
    assert not ran.exists(), ran.read_text()
    assert (work / "app.py").read_text() == "print('bye')\n"
    assert not (work / ".git").exists() and os.listdir(tmp_path / "stagings") == []
