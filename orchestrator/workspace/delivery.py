"""Delivering applied steps in git: one commit per step (``apply.mode`` "commit" and "branch"), a session's branch and
worktree, and a failed step's work kept on a branch. All git runs through :mod:`orchestrator.workspace.gitrun`.

- :func:`preflight` refuses, before anything exists, what delivery cannot do: not a repository, no commit yet, a merge,
  rebase, cherry-pick, revert or bisect in progress, ``commit`` on a detached HEAD, ``branch`` onto a name that exists
  or is not a valid branch name. It only reads.
- :class:`Committer` commits a step's *own* change on the branch checked out in a tree: the tree of the commit is
  ``HEAD`` plus the step's diff, built in a private index, so the user's uncommitted changes (even in a file the step
  edits) are never committed. Each commit carries ``Orchestrate-Session`` and ``Orchestrate-Step`` trailers, which is
  how a resumed session finds a step's commit instead of making it twice.
- :func:`keep_work` turns a failed step's change into a commit on a branch; :func:`remove_session_branches` deletes a
  session's branches.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from orchestrator.core.errors import GitError, InputError
from orchestrator.workspace.gitrun import Git, discover
from orchestrator.workspace.staging_area import APPLY_EXCLUDES

__all__ = ["SESSION_TRAILER", "STEP_TRAILER", "Committer", "preflight", "repository_git", "create_worktree",
           "keep_work", "failed_branch_name", "remove_session_branches", "prune_worktrees"]

SESSION_TRAILER = "Orchestrate-Session"
STEP_TRAILER = "Orchestrate-Step"
_IN_PROGRESS = (("MERGE_HEAD", "a merge"), ("rebase-merge", "a rebase"), ("rebase-apply", "a rebase (or git am)"),
                ("CHERRY_PICK_HEAD", "a cherry-pick"), ("REVERT_HEAD", "a revert"), ("BISECT_LOG", "a bisect"))


def repository_git(cwd: Path) -> Git | None:
    """git on the repository whose work tree holds ``cwd`` (None outside one)."""
    repo = discover(cwd)
    return Git(repo.git_dir, repo.top) if repo is not None else None


def preflight(cwd: Path, mode: str, branch: str = "") -> None:
    """Raise :class:`InputError` (one line, with the fix) when ``mode`` ("commit" or "branch", with the branch name
    given, if any) cannot deliver in ``cwd``'s repository. Reads only: the repository is untouched."""
    flag = "--commit" if mode == "commit" else "--branch"
    repo = discover(cwd)
    if repo is None:
        raise InputError(f"{flag}: {cwd} is not in a git repository", hint="run it in a repository, or without it")
    for name, what in _IN_PROGRESS:
        if (repo.git_dir / name).exists():
            raise InputError(f"{flag}: {repo.top} is in the middle of {what}",
                             hint="finish or abort it first (`git status` says how)")
    git = Git(repo.git_dir, repo.top)
    if not git.out(["rev-parse", "-q", "--verify", "HEAD^{commit}"], check=False):
        raise InputError(f"{flag}: {repo.top} has no commit yet", hint="make a first commit")
    if mode == "commit" and not git.out(["symbolic-ref", "-q", "HEAD"], check=False):
        raise InputError(f"--commit: HEAD is detached in {repo.top}, there is no branch to commit on",
                         hint="`git switch BRANCH` first, or use --branch")
    if mode == "branch" and branch:
        check_new_branch(git, branch)


def check_new_branch(git: Git, name: str) -> None:
    """:class:`InputError` unless ``name`` is a valid branch name that can be created (no branch has it, none is in
    its way: ``a/b`` cannot exist beside ``a`` or ``a/b/c``)."""
    if git.run(["check-ref-format", "--branch", name], check=False).returncode != 0 or name.startswith("-"):
        raise InputError(f"--branch {name!r} is not a valid branch name",
                         hint="name it as git allows, e.g. --branch=feature/x")
    ref = f"refs/heads/{name}"
    parts = ref.split("/")
    clashes = [prefix for n in range(3, len(parts)) if _exists(git, prefix := "/".join(parts[:n]))]
    below = git.out(["for-each-ref", "--count=1", "--format=%(refname)", f"{ref}/"])
    if _exists(git, ref) or clashes or below:
        other = (clashes or [below])[0].removeprefix("refs/heads/")
        taken = "already exists" if _exists(git, ref) else f"clashes with branch {other}"
        raise InputError(f"--branch: branch {name} {taken}", hint="name a new branch: --branch=NEW")


def _exists(git: Git, ref: str) -> bool:
    return bool(git.out(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], check=False))


def create_worktree(cwd: Path, path: Path, branch: str, start: str = "HEAD") -> None:
    """A worktree at ``path`` on ``branch``: created at ``start`` when the branch does not exist yet, else checked out
    (a resumed session whose worktree was deleted). The user's checkout is never switched."""
    git = repository_git(cwd)
    if git is None:
        raise GitError(f"{cwd} is not in a git repository")
    path.parent.mkdir(parents=True, exist_ok=True)
    git.run(["worktree", "prune"])  # a worktree directory deleted by hand still holds its branch until pruned
    if _exists(git, f"refs/heads/{branch}"):
        git.run(["worktree", "add", "--quiet", str(path), branch])
    else:
        git.run(["worktree", "add", "--quiet", "-b", branch, str(path), start])


class Committer:
    """Commits applied steps on the branch checked out in the work tree of ``git`` (see the module docstring)."""

    def __init__(self, git: Git, *, session_id: str, base: str) -> None:
        self._git = git
        self._session_id = session_id
        self._base = base  # HEAD when the session started: its commits are searched for above it

    def head(self) -> str:
        return self._git.out(["rev-parse", "--verify", "HEAD^{commit}"])

    def branch(self) -> str:
        return self._git.out(["symbolic-ref", "--short", "-q", "HEAD"], check=False)

    def find(self, step_id: str) -> str | None:
        """The commit of step ``step_id`` of this session on the current branch, if there is one."""
        found = self._ours(f"^{STEP_TRAILER}: {_bre(step_id)}$")
        return found[0] if found else None

    def ours_since(self, commit: str) -> bool:
        """Whether every commit from ``commit`` (excluded) to HEAD is one of this session's (HEAD moved only by it)."""
        since = self._git.out(["rev-list", f"{commit}..HEAD"], check=False).split()
        return set(since) <= set(self._ours())

    def _ours(self, *patterns: str) -> list[str]:
        greps = [f"--grep=^{SESSION_TRAILER}: {_bre(self._session_id)}$", *(f"--grep={p}" for p in patterns)]
        return self._git.out(["rev-list", "--all-match", *greps, f"{self._base}..HEAD"], check=False).split()

    def check(self, step_id: str, diff: str, files: Sequence[str]) -> None:
        """:class:`GitError` when the change cannot be committed apart from the user's own uncommitted changes."""
        self._tree(step_id, diff, files, self.head())

    def commit(self, step_id: str, goal: str, diff: str, files: Sequence[str]) -> str | None:
        """Commit the step's change on the current branch (once: an existing commit of the step is returned); None
        when the change holds nothing to commit. The user's index gets the change too, when it applies there."""
        found = self.find(step_id)
        if found is not None:
            return found
        head = self.head()
        tree = self._tree(step_id, diff, files, head)
        if tree == self._git.out(["rev-parse", f"{head}^{{tree}}"]):
            return None
        message = _message(goal, self._session_id, step_id)
        commit = self._git.out(["commit-tree", tree, "-p", head, "-F", "-"], stdin=message.encode())
        ref = self._git.out(["symbolic-ref", "-q", "HEAD"])
        self._git.run(["update-ref", "-m", f"orchestrate: step {step_id}", ref, commit, head])
        # The user's index still holds the old HEAD's version of these files: give it the change (best effort: if the
        # user staged something of their own there, it keeps it and `git status` shows the difference).
        self._git.run(["apply", "--cached", "--binary", "--whitespace=nowarn", *APPLY_EXCLUDES, "-"], check=False,
                      stdin=diff.encode("utf-8", errors="surrogateescape"))
        return commit

    def _tree(self, step_id: str, diff: str, files: Sequence[str], head: str) -> str:
        """HEAD's tree plus the step's diff, written through a private index (the user's is untouched)."""
        with tempfile.TemporaryDirectory(prefix="orchestrate-commit-") as tmp:
            git = self._git.with_index(Path(tmp, "index"))
            git.run(["read-tree", head])
            proc = git.run(["apply", "--cached", "--binary", "--whitespace=nowarn", *APPLY_EXCLUDES, "-"],
                           stdin=diff.encode("utf-8", errors="surrogateescape"), check=False)
            if proc.returncode != 0:
                raise GitError(f"step {step_id}'s change cannot be committed apart from your uncommitted changes in "
                               f"{', '.join(files) or 'its files'}",
                               hint="commit or stash your own changes to those files, then retry the step")
            return git.out(["write-tree"])


def _message(goal: str, session_id: str, step_id: str) -> str:
    """The step's goal as the message (a short first line, the whole goal below when it is longer), then trailers."""
    text = " ".join(goal.split()) or f"step {step_id}"
    subject = text if len(text) <= 72 else text[:69].rsplit(" ", 1)[0] + "..."
    body = "" if subject == text else f"{text}\n\n"
    return f"{subject}\n\n{body}{SESSION_TRAILER}: {session_id}\n{STEP_TRAILER}: {step_id}\n"


def _bre(text: str) -> str:
    """``text`` as a POSIX basic regular expression matching itself."""
    return re.sub(r"([.\[\]*^$\\])", r"\\\1", text)


def _ref_part(text: str) -> str:
    """``text`` made safe as one component of a branch name."""
    part = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    return part or "step"


def failed_branch_name(git: Git, session_id: str, step_id: str) -> str:
    """``orchestrate/<session>/<step>-failed``; when the session's own branch ``orchestrate/<session>`` exists (branch
    mode), which git cannot hold beside it, ``orchestrate/<session>-failed/<step>``."""
    if _exists(git, f"refs/heads/orchestrate/{session_id}"):
        return f"orchestrate/{session_id}-failed/{_ref_part(step_id)}"
    return f"orchestrate/{session_id}/{_ref_part(step_id)}-failed"


def keep_work(git: Git, name: str, base: str, diff: str, message: str) -> str | None:
    """Branch ``name`` (created or moved) at a commit of ``diff`` on ``base``; None when ``diff`` changes nothing.
    No work tree or index of the user's is touched."""
    with tempfile.TemporaryDirectory(prefix="orchestrate-failed-") as tmp:
        private = git.with_index(Path(tmp, "index"))
        private.run(["read-tree", base])
        private.run(["apply", "--cached", "--binary", "--whitespace=nowarn", *APPLY_EXCLUDES, "-"],
                    stdin=diff.encode("utf-8", errors="surrogateescape"))
        tree = private.out(["write-tree"])
    if tree == git.out(["rev-parse", f"{base}^{{tree}}"]):
        return None
    commit = git.out(["commit-tree", tree, "-p", base, "-F", "-"], stdin=message.encode())
    git.run(["update-ref", "-m", "orchestrate: failed step", f"refs/heads/{name}", commit])
    return name


def remove_session_branches(git: Git, session_id: str, *, also: Sequence[str] = ()) -> list[str]:
    """Delete the failed-step branches of ``session_id`` and the branches named in ``also``; the names deleted."""
    listed = git.out(["for-each-ref", "--format=%(refname)", f"refs/heads/orchestrate/{session_id}/",
                      f"refs/heads/orchestrate/{session_id}-failed/"]).split()
    refs = [r for r in listed if r.endswith("-failed") or "-failed/" in r] + [f"refs/heads/{b}" for b in also]
    deleted = []
    for ref in refs:
        if git.run(["update-ref", "-d", ref], check=False).returncode == 0:
            deleted.append(ref.removeprefix("refs/heads/"))
    return deleted


def prune_worktrees(git: Git) -> None:
    """Forget worktrees whose directories are gone (a removed session's branch worktree)."""
    git.run(["worktree", "prune"], check=False)
