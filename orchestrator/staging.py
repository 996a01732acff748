"""Per-step staging areas, and applying their approved diffs to the user's working tree.

A :class:`Workspace` is the user's tree (the git top level when the cwd is in a repository, else the cwd). Each step
gets a :class:`Staging`: a detached ``git worktree`` of a *snapshot* of the user's current working tree (uncommitted
and untracked changes included, written as a commit object through a temporary index, so the user's index and HEAD
are never touched), or outside git a temporary copy with its own private git dir. Coders edit only the staging; the
engine applies an approved diff to the user's tree with :meth:`Workspace.apply`, which checks it first
(``git apply --check``: a conflict with edits applied since the step's base raises :class:`ApplyConflict`) and
journals it (intent → apply → done) so a crash never leaves an edit applied twice or half.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from orchestrator.errors import OrchestrateError
from orchestrator.events import GitInfo
from orchestrator.store import JournalEntry, StagingRecord

__all__ = ["ApplyConflict", "Staging", "Workspace", "COPY_IGNORE"]

COPY_IGNORE = frozenset({".git", ".venv", "node_modules"})
# What running the checks leaves behind (bytecode, tool caches). A repository without a .gitignore for them would
# otherwise see them in every step's diff, reviewed and applied to the user's tree. Untracked ones are left out; a
# repository that tracks such files keeps them as they are.
_ARTIFACT_PATHSPECS = tuple(f":(exclude,glob){pattern}" for pattern in (
    "**/__pycache__/**", "**/*.py[co]", "**/.pytest_cache/**", "**/.mypy_cache/**", "**/.ruff_cache/**",
    "**/.hypothesis/**"))
_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
    "GIT_AUTHOR_NAME": "orchestrate",
    "GIT_AUTHOR_EMAIL": "orchestrate@localhost",
    "GIT_COMMITTER_NAME": "orchestrate",
    "GIT_COMMITTER_EMAIL": "orchestrate@localhost",
}


class ApplyConflict(Exception):
    """The diff no longer applies to the user's tree: another step (or the user) changed the same lines."""

    def __init__(self, step_id: str, detail: str) -> None:
        self.step_id = step_id
        self.detail = detail
        super().__init__(f"step {step_id}: its change conflicts with the working tree: {detail}")


def _git(args: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None, stdin: bytes | None = None,
         check: bool = True) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, **_GIT_ENV, **(env or {})}
    argv = ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.quotepath=false", *args]
    proc = subprocess.run(argv, cwd=cwd, env=full_env, input=stdin, capture_output=True, check=False)
    if check and proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise OrchestrateError(f"git {args[0]} failed in {cwd}: {detail[-1] if detail else proc.returncode}")
    return proc


def _out(proc: subprocess.CompletedProcess[bytes]) -> str:
    return proc.stdout.decode().strip()


class Staging:
    """One step's private copy of the tree. The coder edits under :attr:`root`; nothing here touches the user's tree.

    ``diff()`` and ``changed_files()`` report paths relative to the tree top (the git top level, or the copied cwd).
    """

    def __init__(self, *, kind: Literal["worktree", "copy"], tree: Path, root: Path, base: str,
                 git_env: Mapping[str, str], owner: Path, holder: Path) -> None:
        self.kind = kind
        self.tree = tree
        self.root = root
        self.base = base
        self._env = dict(git_env)
        self._owner = owner  # the repository that registered the worktree
        self._holder = holder  # the directory this staging owns and removes

    def _stage_all(self) -> None:
        _git(["add", "-A", "--", ".", *_ARTIFACT_PATHSPECS], cwd=self.tree, env=self._env)

    def diff(self) -> str:
        """The unified git diff (binary-safe, new and deleted files included) of the staging against its base."""
        self._stage_all()
        proc = _git(["diff", "--cached", "--binary", "--no-color", "--no-ext-diff", self.base], cwd=self.tree,
                    env=self._env)
        return proc.stdout.decode("utf-8", errors="surrogateescape")

    def changed_files(self) -> list[str]:
        self._stage_all()
        proc = _git(["diff", "--cached", "--name-only", "-z", "--no-renames", self.base], cwd=self.tree, env=self._env)
        return [p for p in proc.stdout.decode("utf-8", errors="surrogateescape").split("\0") if p]

    def review_base(self, applied: Sequence[str]) -> None:
        """Move :attr:`base` back to before the ``applied`` diffs (oldest first), so ``diff()`` shows those changes:
        what a reviewer or validator step inspects. Diffs that no longer reverse cleanly are left out."""
        with tempfile.TemporaryDirectory(prefix="orchestrate-index-") as tmp:
            env = {**self._env, "GIT_INDEX_FILE": str(Path(tmp, "index"))}
            _git(["read-tree", self.base], cwd=self.tree, env=env)
            for diff in reversed(applied):
                _git(["apply", "--cached", "--reverse", "--binary", "--whitespace=nowarn", "-"], cwd=self.tree,
                     env=env, stdin=diff.encode("utf-8", errors="surrogateescape"), check=False)
            tree = _out(_git(["write-tree"], cwd=self.tree, env=env))
        message = "orchestrate: before the reviewed steps"
        self.base = _out(_git(["commit-tree", tree, "-p", self.base, "-m", message], cwd=self.tree, env=self._env))

    def record(self, *, diff: str | None = None) -> StagingRecord:
        return StagingRecord(kind=self.kind, path=str(self._holder), base=self.base, diff=diff)

    def apply_own(self, diff: str) -> None:
        """Re-apply a saved diff inside this staging (resuming an interrupted step)."""
        _git(["apply", "--binary", "--whitespace=nowarn", "-"], cwd=self.tree, env=self._env,
             stdin=diff.encode("utf-8", errors="surrogateescape"))

    def remove(self) -> None:
        """Delete the staging (and unregister the worktree). Safe to call twice."""
        if self.kind == "worktree":
            _git(["worktree", "remove", "--force", str(self.tree)], cwd=self._owner, check=False)
            _git(["worktree", "prune"], cwd=self._owner, check=False)
        shutil.rmtree(self._holder, ignore_errors=True)


class Workspace:
    """The user's working tree: snapshots it, creates stagings from it, applies approved diffs to it."""

    def __init__(self, cwd: Path, *, exclude: Sequence[Path] = ()) -> None:
        self.cwd = cwd.resolve()
        self._exclude = frozenset(p.resolve() for p in exclude)  # never copied (e.g. $ORCHESTRATE_HOME inside cwd)
        proc = _git(["rev-parse", "--show-toplevel"], cwd=self.cwd, check=False) if shutil.which("git") else None
        self.is_git = proc is not None and proc.returncode == 0
        self.top = Path(_out(proc)).resolve() if self.is_git and proc is not None else self.cwd
        self._lock = threading.Lock()  # git operations on the user's repository, one at a time
        self._snapshot: str | None = None

    def git_info(self) -> GitInfo:
        if not self.is_git:
            return GitInfo()
        branch = _git(["symbolic-ref", "--short", "-q", "HEAD"], cwd=self.top, check=False)
        commit = _git(["rev-parse", "-q", "--verify", "HEAD"], cwd=self.top, check=False)
        return GitInfo(branch=_out(branch) or None, commit=_out(commit) or None)

    # ---------------------------------------------------------------------------------------------- snapshots
    def snapshot(self) -> str:
        """A commit whose tree is the user's current working tree (HEAD itself when the tree is clean).

        Cached until :meth:`apply` changes the tree. Uses a temporary copy of the index: the user's index, HEAD and
        branches are untouched; the commit object is unreferenced (kept alive by the worktrees that use it).
        """
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self._take_snapshot()
            return self._snapshot

    def _take_snapshot(self) -> str:
        head = _out(_git(["rev-parse", "-q", "--verify", "HEAD"], cwd=self.top, check=False))
        user_index = Path(self.top, _out(_git(["rev-parse", "--git-path", "index"], cwd=self.top)))
        with tempfile.TemporaryDirectory(prefix="orchestrate-index-") as tmp:
            index = Path(tmp, "index")
            if user_index.is_file():
                shutil.copyfile(user_index, index)  # keeps the stat cache: `add -A` rehashes only changed files
            env = {"GIT_INDEX_FILE": str(index)}
            _git(["add", "-A", "."], cwd=self.top, env=env)
            tree = _out(_git(["write-tree"], cwd=self.top, env=env))
        if head and tree == _out(_git(["rev-parse", f"{head}^{{tree}}"], cwd=self.top)):
            return head
        parent = ["-p", head] if head else []
        return _out(_git(["commit-tree", tree, *parent, "-m", "orchestrate: working tree snapshot"], cwd=self.top))

    # ---------------------------------------------------------------------------------------------- stagings
    def create_staging(self, parent: Path, name: str) -> Staging:
        """A fresh staging of the current working tree in ``parent/<name>``."""
        holder = parent / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        shutil.rmtree(holder, ignore_errors=True)
        holder.mkdir(parents=True)
        if self.is_git:
            base = self.snapshot()
            tree = holder / "tree"
            with self._lock:
                _git(["worktree", "add", "--detach", "--quiet", str(tree), base], cwd=self.top)
            return self._staging("worktree", holder, base)
        tree = holder / "tree"
        shutil.copytree(self.cwd, tree, symlinks=True, ignore=_ignore(COPY_IGNORE, self._exclude | {parent.resolve()}))
        env = {"GIT_DIR": str(holder / "git"), "GIT_WORK_TREE": str(tree)}
        _git(["init", "-q"], cwd=tree, env=env)
        _git(["add", "-A", "."], cwd=tree, env=env)
        _git(["commit", "-q", "--allow-empty", "--no-verify", "-m", "base"], cwd=tree, env=env)
        base = _out(_git(["rev-parse", "HEAD"], cwd=tree, env=env))
        return self._staging("copy", holder, base)

    def _staging(self, kind: Literal["worktree", "copy"], holder: Path, base: str) -> Staging:
        tree = holder / "tree"
        env = {"GIT_DIR": str(holder / "git"), "GIT_WORK_TREE": str(tree)} if kind == "copy" else {}
        rel = self.cwd.relative_to(self.top) if kind == "worktree" else Path()
        return Staging(kind=kind, tree=tree, root=tree / rel, base=base, git_env=env, owner=self.top, holder=holder)

    def attach(self, record: StagingRecord) -> Staging | None:
        """The staging a killed run left on disk, if it is still intact; else None."""
        holder = Path(record.path)
        if not (holder / "tree").is_dir():
            return None
        staging = self._staging(record.kind, holder, record.base)
        head = _git(["rev-parse", "-q", "--verify", "HEAD"], cwd=staging.tree, env=staging._env, check=False)
        return staging if _out(head) == record.base else None

    def list_files(self, limit: int = 300) -> list[str]:
        """Up to ``limit`` file paths of the tree (tracked and untracked-not-ignored; for the planner's summary)."""
        if self.is_git:
            proc = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=self.cwd, check=False)
            return sorted(set(proc.stdout.decode(errors="replace").split("\0")) - {""})[:limit]
        found: list[str] = []
        for directory, dirs, files in os.walk(self.cwd):
            dirs[:] = sorted(d for d in dirs if d not in COPY_IGNORE and not d.startswith("."))
            found += [str(Path(directory, f).relative_to(self.cwd)) for f in sorted(files)]
            if len(found) >= limit:
                break
        return found[:limit]

    # ---------------------------------------------------------------------------------------------- applying
    def check(self, diff: str, *, reverse: bool = False) -> str | None:
        """None if ``diff`` applies cleanly to the user's tree (or, with ``reverse``, is already applied); else why."""
        args = ["apply", "--check", "--binary", "--whitespace=nowarn", *(["--reverse"] if reverse else []), "-"]
        proc = _git(args, cwd=self.top, stdin=diff.encode("utf-8", errors="surrogateescape"), check=False)
        if proc.returncode == 0:
            return None
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return lines[0].removeprefix("error: ") if lines else "does not apply"

    def apply(self, step_id: str, diff: str, files: Sequence[str], journal: Callable[[JournalEntry], None]) -> None:
        """Apply an approved diff to the user's tree: check, journal the intent (with pre-images), apply, journal done.

        Raises :class:`ApplyConflict` (tree untouched) when the diff does not apply to the current tree.
        """
        with self._lock:
            problem = self.check(diff)
            if problem is not None:
                raise ApplyConflict(step_id, problem)
            entry = JournalEntry(step_id=step_id, state="intent", diff=diff, files=tuple(files), root=str(self.top),
                                 preimages={f: self._read(f) for f in files})
            journal(entry)
            self._apply(entry)
            journal(entry.model_copy(update={"state": "done"}))

    def recover(self, entry: JournalEntry, journal: Callable[[JournalEntry], None]) -> None:
        """Finish an edit whose intent was journaled but not its completion: never applied twice, never half."""
        with self._lock:
            if self.check(entry.diff, reverse=True) is not None:  # not (fully) applied: restore, then apply
                for path, content in entry.preimages.items():
                    self._write(path, content)
                self._apply(entry)
            journal(entry.model_copy(update={"state": "done"}))

    def _apply(self, entry: JournalEntry) -> None:
        self._snapshot = None
        proc = _git(["apply", "--binary", "--whitespace=nowarn", "-"], cwd=self.top, check=False,
                    stdin=entry.diff.encode("utf-8", errors="surrogateescape"))
        if proc.returncode != 0:
            for path, content in entry.preimages.items():
                self._write(path, content)
            raise ApplyConflict(entry.step_id, proc.stderr.decode(errors="replace").strip() or "git apply failed")

    def _read(self, rel: str) -> str | None:
        path = self.top / rel
        return base64.b64encode(path.read_bytes()).decode() if path.is_file() else None

    def _write(self, rel: str, content: str | None) -> None:
        path = self.top / rel
        if content is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64decode(content))


def _ignore(names: frozenset[str], excluded: frozenset[Path]) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, entries: list[str]) -> set[str]:
        here = Path(directory).resolve()
        return {e for e in entries if e in names or here / e in excluded}

    return ignore
