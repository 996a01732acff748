"""One step's staging area (:class:`Staging`), and which paths a step's change may never hold.

A staging is a tree the coder edits (a linked worktree of the user's repository, or a copy with a private git dir),
driven through the git dir orchestrate registered for it (:mod:`orchestrator.workspace.gitrun`), never the tree's
``.git``. Its change (``diff()``, ``changed_files()``) leaves out: what running the checks leaves behind (bytecode, tool
caches), the dependency folders ``staging.include`` linked in, and every path with a ``.orchestrate`` or ``.git``
component (any depth, any case) or a nested repository: an ``.orchestrate/`` that landed would be loaded by the next run
(a trust escalation). What is withheld is told once, in one line, through ``notify``. :data:`APPLY_EXCLUDES` make ``git
apply`` on the user's tree skip such paths in any diff.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from orchestrator.core.records import StagingRecord
from orchestrator.workspace.gitrun import Git, worktree_git_dir

__all__ = ["APPLY_EXCLUDES", "Notify", "Staging", "ignore_notes", "protected"]

# What running the checks leaves behind (bytecode, tool caches). A repository without a .gitignore for them would
# otherwise see them in every step's diff, reviewed and applied to the user's tree. Untracked ones are left out; a
# repository that tracks such files keeps them as they are.
_ARTIFACT_PATHSPECS = tuple(f":(exclude,glob){pattern}" for pattern in (
    "**/__pycache__/**", "**/*.py[co]", "**/.pytest_cache/**", "**/.mypy_cache/**", "**/.ruff_cache/**",
    "**/.hypothesis/**"))
# Never part of a change: the next run would load an .orchestrate/ (config, rules: a trust escalation); .git is git's.
_PROTECTED = (".orchestrate", ".git")
_GITLINK = b"160000"
Notify = Callable[[str], None]


def protected(path: str) -> bool:
    """Whether ``path`` (relative, POSIX) has an ``.orchestrate`` or ``.git`` component, in any case."""
    return any(part.lower() in _PROTECTED for part in path.split("/"))


def _any_case(name: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in name)


# `git apply --exclude` patterns (wildmatch without FNM_PATHNAME: `*` crosses `/`) for every protected component.
APPLY_EXCLUDES = tuple(f"--exclude={pattern}" for name in map(_any_case, _PROTECTED)
                       for pattern in (name, f"{name}/*", f"*/{name}", f"*/{name}/*"))


def _glob_exact(path: str) -> tuple[str, str]:
    """Glob pathspecs for exactly ``path`` and everything under it, whose first character is escaped: a pathspec with
    a literal prefix naming an ignored path makes `git add` fail, even an exclude one (git 2.39)."""
    rest = "".join(f"\\{c}" if c in "*?[]\\" else c for c in path[1:])
    first = f"[{path[0]}]" if path[0].isalnum() or path[0] in "._-" else f"\\{path[0]}"
    return first + rest, f"{first}{rest}/**"


def ignore_notes(_: str) -> None:
    """The default ``notify``: notices go nowhere."""


class Staging:
    """One step's private copy of the tree. The coder edits under :attr:`root`; nothing here touches the user's tree.

    ``diff()`` and ``changed_files()`` report paths relative to the tree top (the git top level, or the copied cwd),
    without the linked dependency folders, artifacts of the checks, and protected paths (see the module docstring).
    """

    def __init__(self, *, kind: Literal["worktree", "copy"], tree: Path, root: Path, base: str, git: Git,
                 holder: Path, links: Sequence[str] = (), notify: Notify = ignore_notes) -> None:
        self.kind = kind
        self.tree = tree
        self.root = root
        self.base = base
        self._git = git  # the registered git dir (a worktree's own, or the copy's private one) and this tree
        self._holder = holder  # the directory this staging owns and removes
        self._links = tuple(links)
        self._notify = notify
        self._told: set[str] = set()

    def _stage_all(self) -> None:
        links = [f":(exclude,glob){pattern}" for path in self._links for pattern in _glob_exact(path)]
        self._git.run(["add", "-A", "--", ".", *_ARTIFACT_PATHSPECS, *links])

    def _changes(self) -> tuple[list[str], list[str]]:
        """The paths changed since the base: (kept, withheld); withheld ones are protected or nested repositories."""
        self._stage_all()
        raw = self._git.run(["diff", "--cached", "--raw", "-z", "--no-renames", self.base]).stdout.split(b"\0")
        kept: list[str] = []
        withheld: list[str] = []
        for meta, name in zip(raw[0::2], raw[1::2], strict=False):
            path = name.decode("utf-8", errors="surrogateescape")
            (withheld if protected(path) or _GITLINK in meta.split(b" ")[:2] else kept).append(path)
        return kept, withheld

    def diff(self) -> str:
        """The unified git diff (binary-safe, new and deleted files included) of the staging against its base."""
        _, withheld = self._changes()
        if not self._told.issuperset(withheld):
            self._told.update(withheld)
            self._notify("left out of the step's change (orchestrate never applies .orchestrate/ or .git paths, "
                         f"nor nested repositories): {', '.join(withheld)}")
        excluded = [f":(exclude,literal){path}" for path in withheld]
        args = ["diff", "--cached", "--binary", "--no-color", self.base, "--", ".", *excluded]
        return self._git.run(args).stdout.decode("utf-8", errors="surrogateescape")

    def changed_files(self) -> list[str]:
        return self._changes()[0]

    def review_base(self, applied: Sequence[str]) -> None:
        """Move :attr:`base` back to before the ``applied`` diffs (oldest first), so ``diff()`` shows those changes:
        what a reviewer or validator step inspects. Diffs that no longer reverse cleanly are left out."""
        with tempfile.TemporaryDirectory(prefix="orchestrate-index-") as tmp:
            git = self._git.with_index(Path(tmp, "index"))
            git.run(["read-tree", self.base])
            for diff in reversed(applied):
                git.run(["apply", "--cached", "--reverse", "--binary", "--whitespace=nowarn", "-"],
                        stdin=diff.encode("utf-8", errors="surrogateescape"), check=False)
            tree = git.out(["write-tree"])
        message = "orchestrate: before the reviewed steps"
        self.base = self._git.out(["commit-tree", tree, "-p", self.base, "-m", message])

    def record(self, *, diff: str | None = None) -> StagingRecord:
        return StagingRecord(kind=self.kind, path=str(self._holder), base=self.base, diff=diff)

    def apply_own(self, diff: str, *, reverse: bool = False) -> None:
        """Apply (``reverse``: revert) a diff of this staging's own inside it (resuming a step, or switching between
        candidate changes). Raises :class:`~orchestrator.workspace.gitrun.GitError` when it does not apply."""
        args = ["apply", "--binary", "--whitespace=nowarn", *(["--reverse"] if reverse else []), "-"]
        self._git.run(args, stdin=diff.encode("utf-8", errors="surrogateescape"))

    def remove(self) -> None:
        """Delete the staging (and what registered the worktree in the user's repository). Safe to call twice.

        Runs no git: the registered git dir of a worktree is removed the way ``git worktree remove`` does."""
        admin = self._git.git_dir
        ours = self.kind == "worktree" and worktree_git_dir(admin.parent.parent, self.tree) == admin
        shutil.rmtree(self._holder, ignore_errors=True)
        if ours:  # still registered for this tree (not reused by a later staging since a first remove())
            shutil.rmtree(admin, ignore_errors=True)
            with contextlib.suppress(OSError):
                admin.parent.rmdir()  # git removes `worktrees/` once it is empty, too
