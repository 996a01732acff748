"""Per-step staging areas, and applying their approved diffs to the user's working tree.

A :class:`Workspace` is the user's tree (the git top level when the cwd is in a repository, else the cwd). Each step
gets a :class:`Staging`: a detached ``git worktree`` of a *snapshot* of the user's current working tree (uncommitted
and untracked changes included, written as a commit object through a temporary index, so the user's index and HEAD
are never touched), or outside git a temporary copy with its own private git dir. The user's ignored dependency
folders named by ``staging.include`` are linked into it read-only (:mod:`orchestrator.workspace.staging_include`).
Coders edit only the staging; the engine applies an approved diff to the user's tree with :meth:`Workspace.apply`, which
checks it first (``git apply --check``: a conflict with edits applied since the step's base raises
:class:`ApplyConflict`) and journals it (intent → apply → done) so a crash never leaves an edit applied twice or half.

A step's change never holds a path with a ``.orchestrate`` or ``.git`` component (any depth, any case), nor a nested
repository: such paths are left out of the diff (the user is told once, through ``notify``), and
:meth:`Workspace.apply` refuses to write them whatever diff it is given. Every git command goes through
:mod:`orchestrator.workspace.gitrun`, on the git dir orchestrate registered.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from orchestrator.core.errors import ApplyConflict, OrchestrateError
from orchestrator.core.events import GitInfo
from orchestrator.core.records import JournalEntry, StagingRecord
from orchestrator.workspace import checkpoints, staging_include
from orchestrator.workspace.gitrun import Git, GitError, Repository, discover, worktree_git_dir
from orchestrator.workspace.staging_area import APPLY_EXCLUDES, Notify, Staging, ignore_notes, protected

__all__ = ["ApplyConflict", "Staging", "Workspace", "COPY_IGNORE"]

COPY_IGNORE = frozenset({".git", ".venv", "node_modules"})
_LINKS_FILE = "links.json"  # beside the tree, out of the sandbox's reach: the paths staging.include linked in


class Workspace:
    """The user's working tree: snapshots it, creates stagings from it, applies approved diffs to it.

    ``include``: the ``staging.include`` patterns; ``notify`` receives one-line notices for the user (a pattern of
    one's own that matches nothing, paths left out of a step's change).
    """

    def __init__(self, cwd: Path, *, exclude: Sequence[Path] = (), include: Sequence[str] = (),
                 notify: Notify = ignore_notes) -> None:
        self.cwd = cwd.resolve()
        self._exclude = frozenset(p.resolve() for p in exclude)  # never copied (e.g. $ORCHESTRATE_HOME inside cwd)
        self._repo: Repository | None = discover(self.cwd)
        self.is_git = self._repo is not None
        self.top = self._repo.top if self._repo is not None else self.cwd
        self._include = tuple(include)
        self._notify = notify
        self._noted = False
        self._lock = threading.Lock()  # git operations on the user's repository, one at a time
        self._snapshot: str | None = None

    @property
    def _git(self) -> Git:
        if self._repo is None:
            raise OrchestrateError(f"{self.cwd} is not in a git repository")
        return Git(self._repo.git_dir, self._repo.top)

    def git_info(self) -> GitInfo:
        if not self.is_git:
            return GitInfo()
        branch = self._git.out(["symbolic-ref", "--short", "-q", "HEAD"], check=False)
        commit = self._git.out(["rev-parse", "-q", "--verify", "HEAD"], check=False)
        return GitInfo(branch=branch or None, commit=commit or None)

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
        git = self._git
        head = git.out(["rev-parse", "-q", "--verify", "HEAD"], check=False)
        user_index = Path(self.top, git.out(["rev-parse", "--git-path", "index"]))
        with tempfile.TemporaryDirectory(prefix="orchestrate-index-") as tmp:
            index = Path(tmp, "index")
            if user_index.is_file():
                shutil.copyfile(user_index, index)  # keeps the stat cache: `add -A` rehashes only changed files
            private = git.with_index(index)
            private.run(["add", "-A", "."])
            tree = private.out(["write-tree"])
        if head and tree == git.out(["rev-parse", f"{head}^{{tree}}"]):
            return head
        parent = ["-p", head] if head else []
        return git.out(["commit-tree", tree, *parent, "-m", "orchestrate: working tree snapshot"])

    # ---------------------------------------------------------------------------------------------- stagings
    def create_staging(self, parent: Path, name: str, *, notify: Notify | None = None) -> Staging:
        """A fresh staging of the current working tree in ``parent/<name>``; its notices go to ``notify`` (default:
        the workspace's), so the engine can say which step they are about."""
        notify = notify or self._notify
        holder = parent / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        shutil.rmtree(holder, ignore_errors=True)
        holder.mkdir(parents=True)
        tree = holder / "tree"
        matches = self._include_matches(parent, notify)
        if self._repo is not None:
            base = self.snapshot()
            with self._lock:
                self._git.run(["worktree", "add", "--detach", "--quiet", str(tree), base])
            git = self._worktree_git(tree)
        else:
            skip = self._exclude | {parent.resolve()} | {self.top / path for path in matches}
            shutil.copytree(self.cwd, tree, symlinks=True, ignore=_ignore(COPY_IGNORE, skip))
            git = Git(holder / "git", tree)
            git.run(["init", "-q"])
            git.run(["add", "-A", "."])
            git.run(["commit", "-q", "--allow-empty", "--no-verify", "-m", "base"])
            base = git.out(["rev-parse", "HEAD"])
        links = staging_include.link(self.top, tree, matches)
        (holder / _LINKS_FILE).write_text(json.dumps(links), encoding="utf-8")
        return self._staging("worktree" if self._repo is not None else "copy", holder, base, git, links, notify=notify)

    def _include_matches(self, parent: Path, notify: Notify) -> list[str]:
        found = staging_include.find(self.top, self._include, skip=self._exclude | {parent.resolve()})
        unmatched = [p for p, hits in found.items() if not hits and p not in staging_include.DEFAULT_INCLUDE]
        if unmatched and not self._noted:
            self._noted = True
            notify(f"staging.include: nothing in {self.top} matches {', '.join(map(repr, unmatched))}")
        return list(dict.fromkeys(path for hits in found.values() for path in hits))

    def _worktree_git(self, tree: Path) -> Git:
        admin = worktree_git_dir(self._repo.common_dir, tree) if self._repo is not None else None
        if admin is None:
            raise GitError(f"git did not register the staging worktree {tree}")
        return Git(admin, tree)

    def _staging(self, kind: Literal["worktree", "copy"], holder: Path, base: str, git: Git,
                 links: Sequence[str], *, notify: Notify) -> Staging:
        tree = holder / "tree"
        rel = self.cwd.relative_to(self.top) if kind == "worktree" else Path()
        return Staging(kind=kind, tree=tree, root=tree / rel, base=base, git=git, holder=holder, links=links,
                       notify=notify)

    def attach(self, record: StagingRecord, *, notify: Notify | None = None) -> Staging | None:
        """The staging a killed run left on disk, if it is still intact; else None (``notify``: as
        :meth:`create_staging`)."""
        holder = Path(record.path)
        tree = holder / "tree"
        if not tree.is_dir():
            return None
        if record.kind == "worktree":
            admin = worktree_git_dir(self._repo.common_dir, tree) if self._repo is not None else None
            if admin is None:
                return None
            git = Git(admin, tree)
        else:
            git = Git(holder / "git", tree)
        try:
            links = tuple(json.loads((holder / _LINKS_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            links = ()
        staging = self._staging(record.kind, holder, record.base, git, links, notify=notify or self._notify)
        head = git.out(["rev-parse", "-q", "--verify", "HEAD"], check=False)
        return staging if head == record.base else None

    def list_files(self, limit: int = 300) -> list[str]:
        """Up to ``limit`` file paths of the tree (tracked and untracked-not-ignored; for the planner's summary)."""
        if self.is_git:
            proc = self._git.run(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=self.cwd,
                                 check=False)
            return sorted(set(proc.stdout.decode(errors="replace").split("\0")) - {""})[:limit]
        found: list[str] = []
        for directory, dirs, files in os.walk(self.cwd):
            dirs[:] = sorted(d for d in dirs if d not in COPY_IGNORE and not d.startswith("."))
            found += [str(Path(directory, f).relative_to(self.cwd)) for f in sorted(files)]
            if len(found) >= limit:
                break
        return found[:limit]

    # ---------------------------------------------------------------------------------------------- applying
    def _apply_git(self) -> Git:
        # Outside git, `git apply` patches plain files; /dev/null is never a repository, so none is looked for.
        return self._git if self._repo is not None else Git(Path(os.devnull), self.top)

    def check(self, diff: str, *, reverse: bool = False) -> str | None:
        """None if ``diff`` applies cleanly to the user's tree (or, with ``reverse``, is already applied); else why."""
        args = ["apply", "--check", "--binary", "--whitespace=nowarn", *APPLY_EXCLUDES,
                *(["--reverse"] if reverse else []), "-"]
        proc = self._apply_git().run(args, stdin=diff.encode("utf-8", errors="surrogateescape"), check=False)
        if proc.returncode == 0:
            return None
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return lines[0].removeprefix("error: ") if lines else "does not apply"

    def apply(self, step_id: str, diff: str, files: Sequence[str], journal: Callable[[JournalEntry], None]) -> None:
        """Apply an approved diff to the user's tree: check, journal the intent (with pre-images), apply, journal done.

        Raises :class:`ApplyConflict` (tree untouched) when the diff does not apply to the current tree. Protected
        paths (module docstring) in ``diff`` are never written.
        """
        with self._lock:
            problem = self.check(diff)
            if problem is not None:
                self._snapshot = None  # the tree changed under us (another session, the user): re-runs start from it
                raise ApplyConflict(step_id, problem)
            files = [f for f in files if not protected(f)]
            entry = JournalEntry(step_id=step_id, state="intent", diff=diff, files=tuple(files), root=str(self.top),
                                 preimages={f: checkpoints.preimage(self.top, f) for f in files},
                                 premodes=checkpoints.premodes(self.top, files),
                                 new_dirs=checkpoints.new_dirs(self.top, files))
            journal(entry)
            self._apply(entry)
            journal(self._done(entry))

    def recover(self, entry: JournalEntry, journal: Callable[[JournalEntry], None]) -> None:
        """Finish an edit whose intent was journaled but not its completion: never applied twice, never half."""
        with self._lock:
            if self.check(entry.diff, reverse=True) is not None:  # not (fully) applied: restore, then apply
                checkpoints.restore(self.top, entry)
                self._apply(entry)
            journal(self._done(entry))

    def _done(self, entry: JournalEntry) -> JournalEntry:
        """``entry`` applied: its ``done``, with the state it left each path in (what undo expects to find)."""
        return entry.model_copy(update={"state": "done", "post": checkpoints.images(self.top, entry.files)})

    def _apply(self, entry: JournalEntry) -> None:
        self._snapshot = None
        proc = self._apply_git().run(["apply", "--binary", "--whitespace=nowarn", *APPLY_EXCLUDES, "-"],
                                     check=False, stdin=entry.diff.encode("utf-8", errors="surrogateescape"))
        if proc.returncode != 0:
            checkpoints.restore(self.top, entry)
            raise ApplyConflict(entry.step_id, proc.stderr.decode(errors="replace").strip() or "git apply failed")


def _ignore(names: frozenset[str], excluded: frozenset[Path]) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, entries: list[str]) -> set[str]:
        here = Path(directory).resolve()
        return {e for e in entries if e in names or here / e in excluded}

    return ignore
