"""The one place that runs git: every git command orchestrate runs, on the user's repository or on a staging.

A staging is written by a sandboxed agent (under the Landlock backend its ``.git`` file and ``.gitattributes`` too),
and orchestrate runs git on it outside the sandbox, so git must not run anything the repository names. :class:`Git`:

- never discovers the repository: ``--git-dir`` and ``--work-tree`` are always the ones orchestrate registered, so a
  ``.git`` the agent replaced (a file turned into a directory with its own config) is never read;
- rebuilds the environment: nothing ``GIT_*`` (nor a pager, editor or askpass) is inherited from the caller; only
  ``PATH``, ``HOME``, ``XDG_CONFIG_HOME`` and ``TMPDIR`` pass, so the user's own global config still applies;
- overrides config at command scope (above every config file): no hooks, no fsmonitor, no pager or editor, no
  signing, no transport at all (a partial clone's lazy fetch fails instead of running ssh or credential helpers), no
  automatic gc or maintenance, no submodule recursion;
- blanks every filter driver (clean, smudge, process; ``required`` off) that any config git reads defines, so a
  ``filter=`` attribute in the tree runs nothing: content is stored and checked out as it is;
- gives every ``git diff`` ``--no-ext-diff --no-textconv`` (no external diff, no textconv driver);
- runs only the subcommands orchestrate needs, none of which merges (merge drivers never run) or talks to a remote.

The one exception is :func:`clone` (``orchestrate batch``'s fresh checkout of a repository the user named): it must
talk to a remote, so it runs as the user's own ``git clone`` would, before any model output exists.

Attributes other than drivers (``text``, ``eol``, ``binary`` detection) keep their meaning; nothing is written to the
user's repository to achieve this. Needs git >= 2.31 (``GIT_CONFIG_COUNT``), checked once per process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from orchestrator.core.errors import GitError

__all__ = ["Git", "GitError", "Repository", "discover", "linked_common_dir", "worktree_git_dir", "committed_files",
           "remove_session_tree", "clone"]

_MIN_VERSION = (2, 31)
_PASSED_ENV = ("PATH", "HOME", "XDG_CONFIG_HOME", "TMPDIR")
_ENV = {
    "LC_ALL": "C",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",  # empty wins over core.askPass and SSH_ASKPASS: nothing is asked
    "GIT_PAGER": "cat",
    "GIT_EDITOR": ":",
    "GIT_NO_LAZY_FETCH": "1",  # git >= 2.45; older ones are stopped by protocol.allow=never
    "GIT_AUTHOR_NAME": "orchestrate",
    "GIT_AUTHOR_EMAIL": "orchestrate@localhost",
    "GIT_COMMITTER_NAME": "orchestrate",
    "GIT_COMMITTER_EMAIL": "orchestrate@localhost",
}
_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("core.editor", ":"),
    ("core.askPass", ""),
    ("core.quotepath", "false"),
    ("credential.helper", ""),  # an empty value clears the list of helpers
    ("protocol.allow", "never"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("submodule.recurse", "false"),
)
_FILTER_KEYS = r"^filter\..*\.(clean|smudge|process|required)$"
# Why each is needed: see Staging and Workspace (orchestrator.workspace.staging). None merges, fetches or pushes.
# check-ref-format, for-each-ref, rev-list and update-ref: delivery (orchestrator.workspace.delivery).
_SUBCOMMANDS = frozenset({"add", "apply", "check-ref-format", "commit", "commit-tree", "diff", "for-each-ref", "init",
                          "ls-files", "read-tree", "rev-list", "rev-parse", "symbolic-ref", "update-ref", "worktree",
                          "write-tree"})


@dataclass(frozen=True)
class Repository:
    """A work tree found from a directory: its top level, git dir and common dir (absolute, resolved)."""

    top: Path
    git_dir: Path
    common_dir: Path


class Git:
    """git on one repository: ``git_dir`` and ``work_tree`` (None: no work tree) are given, never discovered.

    ``index`` (optional) is a private index file used instead of the git dir's own (``GIT_INDEX_FILE``).
    """

    def __init__(self, git_dir: Path, work_tree: Path | None, *, index: Path | None = None) -> None:
        self.git_dir = git_dir
        self.work_tree = work_tree
        self.index = index

    def with_index(self, index: Path) -> Git:
        return Git(self.git_dir, self.work_tree, index=index)

    def run(self, args: Sequence[str], *, cwd: Path | None = None, stdin: bytes | None = None,
            check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """Run ``git ARGS`` (in ``cwd``, default the work tree); raise :class:`GitError` on failure if ``check``."""
        if not args or args[0] not in _SUBCOMMANDS or "--3way" in args or "-3" in args:
            raise GitError(f"orchestrate does not run `git {' '.join(args[:2])}`")
        if args[0] == "diff":
            args = ["diff", "--no-ext-diff", "--no-textconv", *args[1:]]
        where = cwd or self.work_tree or self.git_dir
        blanks = [] if args[0] == "init" else self._filter_blanks(where)  # a new repository has no drivers of its own
        proc = _spawn([*self._location(), *args], cwd=where, env=_environment(blanks, self.index), stdin=stdin)
        if check and proc.returncode != 0:
            raise GitError(f"git {args[0]} failed in {where}: {_last_line(proc)}")
        return proc

    def out(self, args: Sequence[str], *, cwd: Path | None = None, stdin: bytes | None = None,
            check: bool = True) -> str:
        """The stripped standard output of :meth:`run`."""
        return self.run(args, cwd=cwd, stdin=stdin, check=check).stdout.decode(errors="surrogateescape").strip()

    def _location(self) -> list[str]:
        tree = [f"--work-tree={self.work_tree}"] if self.work_tree is not None else []
        return [f"--git-dir={self.git_dir}", *tree]

    def _filter_blanks(self, where: Path) -> list[tuple[str, str]]:
        """Every filter driver key some config defines, overridden to do nothing. Read afresh on each call: a config
        file may change between two calls. Fails closed: a config git cannot list stops the command."""
        listing = [*self._location(), "config", "--null", "--name-only", "--get-regexp", _FILTER_KEYS]
        proc = _spawn(listing, cwd=where, env=_environment([], None), stdin=None)
        if proc.returncode not in (0, 1):  # 1: no such key
            raise GitError(f"git could not read the configuration of {self.git_dir}: {_last_line(proc)}")
        names = {os.fsdecode(name) for name in proc.stdout.split(b"\0") if name}
        return [(name, "false" if name.endswith(".required") else "") for name in sorted(names)]


def _environment(extra: Sequence[tuple[str, str]], index: Path | None) -> dict[str, str]:
    env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
    env.update(_ENV)
    overrides = [*_CONFIG, *extra]
    env["GIT_CONFIG_COUNT"] = str(len(overrides))
    for number, (key, value) in enumerate(overrides):
        env[f"GIT_CONFIG_KEY_{number}"] = key
        env[f"GIT_CONFIG_VALUE_{number}"] = value
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    return env


def _last_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"exit status {proc.returncode}"


def _spawn(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str],
           stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    _check_version()
    return subprocess.run(["git", "--no-pager", *argv], cwd=cwd, env=env, input=stdin, capture_output=True,
                          check=False)


@cache
def _check_version() -> None:
    if shutil.which("git") is None:
        raise GitError("git is not installed", hint="install git")
    text = subprocess.run(["git", "version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"(\d+)\.(\d+)", text)
    if found is None or (int(found.group(1)), int(found.group(2))) < _MIN_VERSION:
        raise GitError(f"orchestrate needs git 2.31 or newer (found {text.strip() or 'no version'})",
                       hint="upgrade git")


def discover(cwd: Path) -> Repository | None:
    """The repository whose work tree holds ``cwd`` (the user's own tree, so its ``.git`` is the user's), or None."""
    if shutil.which("git") is None:
        return None
    proc = _spawn(["rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"], cwd=cwd,
                  env=_environment([], None), stdin=None)
    lines = proc.stdout.decode(errors="surrogateescape").splitlines()
    if proc.returncode != 0 or len(lines) != 3 or not lines[0]:
        return None
    top, git_dir, common = (Path(cwd, line).resolve() for line in lines)
    return Repository(top=top, git_dir=git_dir, common_dir=common)


def worktree_git_dir(common_dir: Path, tree: Path) -> Path | None:
    """The git dir ``common_dir`` registered for the linked worktree at ``tree`` (``worktrees/NAME``, whose ``gitdir``
    file names ``tree/.git``), or None. Reads only the repository's own files, never ``tree/.git`` (the agent's)."""
    wanted = os.path.realpath(tree / ".git")
    registered = common_dir / "worktrees"
    if not registered.is_dir():
        return None
    for admin in sorted(registered.iterdir()):
        back = _read(admin / "gitdir")
        if back and os.path.realpath(admin / back) == wanted:
            return admin
    return None


def linked_common_dir(dot_git: Path) -> Path | None:
    """The common dir of the repository a worktree's ``.git`` file points into, only if that repository registered
    this very worktree (its ``worktrees/NAME/gitdir`` points back); else None: the file may have been rewritten."""
    target = _read(dot_git).removeprefix("gitdir:").strip() if dot_git.is_file() else ""
    if not target:
        return None
    admin = Path(os.path.realpath(dot_git.parent / target))
    common = admin.parent.parent
    return common if admin.parent.name == "worktrees" and worktree_git_dir(common, dot_git.parent) == admin else None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape").strip()
    except OSError:
        return ""


def committed_files(root: Path, files: Sequence[Path]) -> set[Path]:
    """Those of ``files`` (inside the git work tree holding ``root``) that git tracks with no change from ``HEAD``,
    staged or not. Runs git as :class:`Git` does (nothing the repository configures runs). Fails
    closed: without git, outside a repository or on any git error, none are."""
    if not files:
        return set()
    try:
        repo = discover(root)
        if repo is None:
            return set()
        git = Git(repo.git_dir, repo.top)
        resolved = [f.resolve() for f in files]
        rels = [str(f.relative_to(repo.top)) for f in resolved]
        tracked = git.run(["ls-files", "-z", "--", *rels], cwd=repo.top).stdout
        changed = git.run(["diff", "--name-only", "-z", "HEAD", "--", *rels], cwd=repo.top).stdout
    except (GitError, ValueError, OSError):
        return set()
    clean = set(os.fsdecode(tracked).split("\0")) - set(os.fsdecode(changed).split("\0"))
    return {f for f, rel in zip(files, rels, strict=True) if rel in clean}


def remove_session_tree(directory: Path) -> None:
    """Delete a session directory; its staging worktrees are registered in the user's repository, so forget them
    there too (after deleting them). Only a repository that names the worktree back is touched (the ``.git`` file is
    the agent's to rewrite: it must not pick which repository orchestrate runs git on)."""
    stagings = directory / "stagings"
    marks = [*stagings.glob("*/.git"), *stagings.glob("*/*/.git")] if stagings.is_dir() else []
    own = directory / "worktree" / ".git"  # apply.mode "branch": the session's own worktree
    marks += [own] if own.is_file() else []
    repos = {linked_common_dir(mark) for mark in marks} - {None}
    shutil.rmtree(directory, ignore_errors=True)
    for repo in repos:
        try:
            Git(Path(str(repo)), None).run(["worktree", "prune"], check=False)
        except GitError:  # git missing: nothing registered to forget
            continue


def clone(source: str, dest: Path, ref: str | None) -> None:
    """A fresh clone of ``source`` (a git URL or a local path *the user* named) at ``dest`` (which must not exist), on
    ``ref`` if given; :class:`GitError` with git's last line on failure.

    The only git command orchestrate runs that talks to a remote, hence not through :class:`Git`: it keeps the
    caller's environment and config (ssh, credential helpers, LFS), as the user's own ``git clone`` would. Hooks still
    never run. Nothing a model wrote exists yet: the clone is what every later command runs :class:`Git` on."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    _as_user(["clone", "--quiet", "--", source, str(dest)], cwd=dest.parent)
    if ref:
        _as_user(["checkout", "--quiet", ref, "--"], cwd=dest)


def _as_user(args: Sequence[str], *, cwd: Path) -> None:
    _check_version()
    proc = subprocess.run(["git", "--no-pager", "-c", "core.hooksPath=/dev/null", *args], cwd=cwd, capture_output=True,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}, check=False)
    if proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {_last_line(proc)}")
