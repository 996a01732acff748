"""The diff ``orchestrate review`` reads: from git, through :class:`~orchestrator.workspace.gitrun.Git` only.

Three targets (:class:`DiffTarget`):

- ``base=REF``: from the merge base of ``REF`` and ``HEAD`` to the working tree, untracked files included: what the
  branch would deliver if it were pushed now (``codex review --base`` compares the same way);
- ``uncommitted``: from ``HEAD`` to the working tree: staged, unstaged and untracked (not ignored) changes;
- ``commit=SHA``: that one commit against its first parent (a root commit against the empty tree).

The working tree is read through a private copy of the index (``GIT_INDEX_FILE``): the user's index and files are
never written; ``git add`` only stores blobs in the object database, as ``git stash`` would. Bad input (not a
repository, an unknown ref, no change) raises :class:`~orchestrator.core.errors.InputError` naming what and the fix.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.core.errors import GitError, InputError
from orchestrator.workspace.gitrun import Git, discover

__all__ = ["DiffTarget", "ReviewDiff", "collect_diff"]

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's well-known id of the empty tree
_DIFF_OPTIONS = ("--no-color", "--find-renames", "--unified=3", "--src-prefix=a/", "--dst-prefix=b/")


@dataclass(frozen=True)
class DiffTarget:
    """What to review: exactly one of ``base`` (a ref), ``commit`` (a commit), or neither (the uncommitted changes)."""

    base: str | None = None
    commit: str | None = None


@dataclass(frozen=True)
class ReviewDiff:
    """A unified diff (``a/``/``b/`` prefixes) and one line saying what it compares, relative to ``root``."""

    text: str
    description: str
    root: Path


def collect_diff(cwd: Path, target: DiffTarget) -> ReviewDiff:
    """The diff of ``target`` in the repository holding ``cwd``; :class:`InputError` when there is none to review."""
    repo = discover(cwd)
    if repo is None:
        raise InputError(f"{cwd} is not inside a git repository", hint="run it in a repository, or pass -C DIR")
    git = Git(repo.git_dir, repo.top)
    if target.commit is not None:
        text, description = _one_commit(git, target.commit)
    else:
        text, description = _working_tree(git, repo.git_dir, target.base)
    if not text.strip():
        raise InputError(f"nothing to review: no changes in {description}",
                         hint="pick another target with --base REF, --uncommitted or --commit SHA")
    return ReviewDiff(text=text, description=description, root=repo.top)


def _resolve(git: Git, ref: str, option: str) -> str:
    """The commit id ``ref`` names; InputError naming the option otherwise (refs starting with ``-`` included)."""
    if not ref or ref.startswith("-"):
        raise InputError(f"{option} {ref!r}: not a ref", hint="give a branch, tag or commit")
    sha = git.out(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], check=False)
    if not sha:
        raise InputError(f"{option} {ref}: unknown revision in this repository",
                         hint="fetch it first (git fetch origin REF) or check the spelling")
    return sha


def _one_commit(git: Git, ref: str) -> tuple[str, str]:
    sha = _resolve(git, ref, "--commit")
    parent = git.out(["rev-parse", "--verify", "--quiet", f"{sha}^1"], check=False) or EMPTY_TREE
    return _diff(git, [parent, sha]), f"commit {sha[:12]}"


def _working_tree(git: Git, git_dir: Path, base: str | None) -> tuple[str, str]:
    head = git.out(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], check=False)
    if base is not None:
        if not head:
            raise InputError("--base needs a commit on the current branch (HEAD is unborn)", hint="use --uncommitted")
        against = ["--merge-base", _resolve(git, base, "--base")]  # git finds the merge base with HEAD itself
        description = f"the working tree against the merge base of {base} and HEAD"
    else:
        against = [head or EMPTY_TREE]
        description = "the uncommitted changes (staged, unstaged and untracked)"
    with tempfile.TemporaryDirectory(prefix="orchestrate-review-") as scratch:
        index = Path(scratch) / "index"
        if (git_dir / "index").is_file():
            shutil.copyfile(git_dir / "index", index)  # keeps git's stat cache: only changed files are hashed
        private = git.with_index(index)
        if head and not index.exists():
            private.run(["read-tree", head])
        private.run(["add", "--all", "--", "."])
        try:
            return _diff(private, ["--cached", *against]), description
        except GitError as exc:
            if base is None:
                raise
            raise InputError(f"--base {base}: no common history with HEAD ({exc.message})",
                             hint="fetch the base branch with its history (actions/checkout fetch-depth: 0)") from exc


def _diff(git: Git, args: list[str]) -> str:
    return git.run(["diff", *_DIFF_OPTIONS, *args]).stdout.decode("utf-8", errors="replace")
