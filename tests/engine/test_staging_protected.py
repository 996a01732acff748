"""A step's change never lands an ``.orchestrate`` or ``.git`` path (any depth, any case), nor a nested repository.

An agent that wrote ``sub/.orchestrate/config.toml`` and ``sub/.orchestrate/rules/x.rules`` in its staging had them
applied to the user's tree, and the next run loaded them: a trust escalation. Such paths are now left out of the diff
that is reviewed and applied, and the user is told once, in one line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from orchestrator.workspace.staging import Workspace


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


PLANTED = ("sub/.orchestrate/config.toml", "sub/.orchestrate/rules/x.rules", ".orchestrate/config.toml",
           "deep/er/.ORCHESTRATE/prompts/coder.md")


def test_orchestrate_and_git_paths_are_left_out_of_the_change_and_the_user_is_told_once(bank_repo: Path,
                                                                                          tmp_path: Path) -> None:
    notes: list[str] = []
    (bank_repo / ".orchestrate").mkdir()
    (bank_repo / ".orchestrate" / "config.toml").write_text("model = 'mine'\n")  # the user's own, tracked
    git(bank_repo, "add", "-A")
    git(bank_repo, "commit", "-qm", "project config")
    ws = Workspace(bank_repo, notify=notes.append)
    staging = ws.create_staging(tmp_path / "s", "a")
    (staging.root / "bank.py").write_text("changed\n")
    for rel in PLANTED:
        (staging.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging.root / rel).write_text('prefix_rule(pattern=["rm"], decision="allow")\n')
    nested = staging.root / "vendor" / "lib"  # a nested repository: `git add` would record it as a gitlink
    nested.mkdir(parents=True)
    git(nested, "init", "-q")
    git(nested, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "x")

    assert staging.changed_files() == ["bank.py"]
    diff = staging.diff()
    assert "orchestrate" not in diff.lower() and "vendor" not in diff and "+changed" in diff
    assert staging.diff() == diff
    assert len(notes) == 1 and "sub/.orchestrate/rules/x.rules" in notes[0] and "vendor/lib" in notes[0]
    assert ".orchestrate/config.toml" in notes[0] and "\n" not in notes[0]

    ws.apply("a", diff, staging.changed_files(), lambda _entry: None)
    staging.remove()
    assert (bank_repo / "bank.py").read_text() == "changed\n"
    assert (bank_repo / ".orchestrate" / "config.toml").read_text() == "model = 'mine'\n"
    assert not (bank_repo / "sub").exists() and not (bank_repo / "deep").exists()
    assert not (bank_repo / "vendor").exists()


def test_apply_never_writes_protected_paths_whatever_diff_it_is_given(bank_repo: Path) -> None:
    """A diff saved before this rule (a resumed session's journal) or built by hand: the guard is in apply too."""
    ws = Workspace(bank_repo)
    diff = "".join(
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+x\n"
        for path in (*PLANTED, ".git/hooks/pre-commit", "a/.Git/config", "ok.txt"))
    assert ws.check(diff) is None
    ws.apply("a", diff, ["sub/.orchestrate/config.toml", "ok.txt"], lambda _entry: None)
    assert (bank_repo / "ok.txt").read_text() == "x\n"
    assert not (bank_repo / "sub").exists() and not (bank_repo / ".orchestrate").exists()
    assert not (bank_repo / ".git" / "hooks" / "pre-commit").exists() and not (bank_repo / "a").exists()
    assert not (bank_repo / "deep").exists()


def test_a_copy_staging_leaves_them_out_too(tmp_path: Path) -> None:
    work = tmp_path / "plain"
    work.mkdir()
    (work / "app.py").write_text("print('hi')\n")
    notes: list[str] = []
    ws = Workspace(work, notify=notes.append)
    staging = ws.create_staging(tmp_path / "s", "a")
    (staging.root / ".orchestrate" / "rules").mkdir(parents=True)
    (staging.root / ".orchestrate" / "rules" / "x.rules").write_text("x\n")
    (staging.root / "app.py").write_text("print('bye')\n")
    assert staging.changed_files() == ["app.py"]
    ws.apply("a", staging.diff(), staging.changed_files(), lambda _entry: None)
    staging.remove()
    assert not (work / ".orchestrate").exists() and len(notes) == 1
