"""The bubblewrap backend: the ``bwrap`` command line for one confined command.

The layout, in mount order (later mounts cover earlier ones, so order matters):

1. ``--ro-bind / /``: the whole host, read-only.
2. ``--tmpfs /tmp``, ``--dev /dev`` (a minimal /dev with null, zero, tty, pts, ...), ``--tmpfs /dev/shm`` (both
   tmpfs sized by ``sandbox.tmpfs_size_mb``), ``--proc /proc`` (of the new pid namespace: processes outside are
   invisible, hence not ptrace-able) remounted **read-only**, and the hidden credential paths
   (``sandbox.hide_paths``) that contain the workspace, covered by empty private tmpfs.

   Why ``/proc`` read-only: run as root, bubblewrap maps uid 0 inside to the real uid 0, and sysctls are guarded by
   DAC alone, so without capabilities a command could still write ``/proc/sys/kernel/core_pattern`` (a host-wide
   knob: the next crash runs any program as root). bubblewrap covers ``/proc/sys`` only when it *looks* writable
   (``access(W_OK)`` on the 0555 directory says no), so it stays writable; a read-only ``/proc`` closes every knob
   under it at once (``/proc/sys``, ``/proc/sysrq-trigger``, ``/proc/irq``, ``/proc/bus``, ``/proc/fs``, ...).
   ``/sys`` and every other mount are read-only through ``--ro-bind / /``.
3. ``--ro-bind`` the ``/tmp`` entries the command names in its argv or environment (a virtualenv or checkout under
   ``/tmp``, e.g. ``PATH=/tmp/ci/.venv/bin``), then the hidden paths that hold the workspace, then the working
   directory when it sits under ``/tmp`` (it would otherwise vanish under the tmpfs), and
   the folders the workspace's symlinks point into there (``staging.include`` links into a project under ``/tmp``;
   :mod:`policies.sandbox.links`).
4. ``--bind`` the workspace and each writable root (``workspace-write``), or ``--ro-bind`` the workspace
   (``read-only``): after the tmpfs, so a workspace under ``/tmp`` stays the real one.
5. ``--ro-bind`` each protected metadata path (``.git``, a worktree's git dir and common dir, ``.orchestrate/``) when
   ``protect_git``; with ``protect_git = false`` the git dirs of a worktree are bound writable instead.
6. The other hidden credential paths, last, as empty read-only mounts, so they stay hidden even inside the
   workspace (a workspace at ``~``).

Isolation flags: ``--new-session`` (no TIOCSTI into the user's terminal), ``--die-with-parent``, ``--cap-drop ALL``
(even uid 0 inside cannot remount, mknod or ptrace), ``--unshare-user --disable-userns`` (no nested namespaces to
regain capabilities), ``--unshare-pid``, and ``--unshare-net`` unless the network is allowed, plus the seccomp filter
that also takes away unix-socket ``connect`` (see :mod:`policies.sandbox.seccomp`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from orchestrator.core.contracts import SandboxPolicy
from policies.sandbox.gitpaths import protected_paths
from policies.sandbox.links import cut_off_link_dirs, referenced_entries

__all__ = ["ISOLATION_FLAGS", "bwrap_argv", "expand_hidden", "writable_paths"]

ISOLATION_FLAGS: tuple[str, ...] = (
    "--new-session",
    "--die-with-parent",
    "--cap-drop", "ALL",
    "--unshare-user",
    "--disable-userns",
    "--unshare-pid",
)


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _hide(paths: Sequence[Path], *, read_only: bool) -> list[str]:
    out: list[str] = []
    for path in paths:
        if path.is_dir():
            # Over a tree that holds the workspace the tmpfs stays writable (private, discarded): bwrap makes the
            # workspace's mount point in it.
            out += ["--tmpfs", str(path), *(["--remount-ro", str(path)] if read_only else [])]
        elif path.exists():
            out += ["--ro-bind", "/dev/null", str(path)]
    return out


def expand_hidden(hidden: Sequence[Path], bound: Sequence[Path]) -> list[Path]:
    """``hidden`` with every tree that holds a ``bound`` path replaced by its entries minus that path's ancestors,
    recursively: what to cover so that everything hidden stays hidden and the bound paths stay reachable, for a
    mechanism that cannot re-expose a path below a cover (the Landlock helper). A tree's entries are read now."""
    out: list[Path] = []
    for path in hidden:
        inner = [b for b in bound if _under(b, path)]
        if not inner:
            out.append(path)
        elif path not in inner and path.is_dir() and not path.is_symlink():
            try:
                entries = sorted(path.iterdir())
            except OSError:
                continue
            out += expand_hidden(entries, inner)
    return out


def writable_paths(policy: SandboxPolicy) -> tuple[Path, ...]:
    """Existing directories the command may write under ``policy`` (besides the private /tmp)."""
    if policy.mode != "workspace-write":
        return ()
    roots = (policy.workspace, *policy.writable_roots)
    return tuple(dict.fromkeys(p for p in roots if p.exists()))


def bwrap_argv(
    bwrap: str,
    argv: Sequence[str],
    *,
    policy: SandboxPolicy,
    cwd: Path,
    seccomp_fd: int | None,
    status_fd: int | None,
    hidden: Sequence[Path] = (),
    tmpfs_mb: int = 0,
    env_values: Sequence[str] = (),
) -> list[str]:
    """The full command line: ``bwrap [flags] -- argv``. ``cwd`` and the workspace must be resolved paths; ``hidden``
    paths (credentials) appear empty: directories as an empty read-only tmpfs, files as ``/dev/null``. ``tmpfs_mb``
    bounds ``/tmp`` and ``/dev/shm`` (0: the kernel's default, half of RAM each)."""
    out = [bwrap, *ISOLATION_FLAGS]
    if not policy.network:
        out.append("--unshare-net")
    size = ["--size", str(tmpfs_mb << 20)] if tmpfs_mb else []
    out += ["--ro-bind", "/", "/", *size, "--tmpfs", "/tmp", "--dev", "/dev", *size, "--tmpfs", "/dev/shm",
            "--proc", "/proc", "--remount-ro", "/proc"]
    # A hidden tree that holds the workspace (or cwd) is covered first, so the workspace binds show through it;
    # every other hidden path is covered last, so a workspace that holds it (say, the home directory) does not.
    bound = (cwd, policy.workspace, *policy.writable_roots)
    early = [h for h in hidden if any(_under(b, h) for b in bound)]
    for path in referenced_entries([*argv, *env_values], covered=(Path("/tmp"),), hidden=hidden):
        out += ["--ro-bind", str(path), str(path)]  # a venv or checkout under /tmp the command names
    out += _hide(early, read_only=False)
    covered = (Path("/tmp"), *early)  # what a private tmpfs hides: the paths a command works in are bound again
    if any(_under(cwd, c) for c in covered):
        out += ["--ro-bind", str(cwd), str(cwd)]
    writable = writable_paths(policy)
    if policy.mode == "read-only" and any(_under(policy.workspace, c) for c in covered):
        out += ["--ro-bind", str(policy.workspace), str(policy.workspace)]
    for path in cut_off_link_dirs(policy.workspace, covered=covered, hidden=hidden):
        out += ["--ro-bind", str(path), str(path)]  # staging.include links into a project under /tmp
    for path in writable:
        out += ["--bind", str(path), str(path)]
    protected = protected_paths(policy.workspace)
    for path in protected.metadata:
        if policy.protect_git or not writable:
            out += ["--ro-bind", str(path), str(path)]
        elif path in protected.git_dirs:
            out += ["--bind", str(path), str(path)]  # the user opted in: commits in a worktree write here
        elif not any(_under(path, root) for root in writable):
            out += ["--ro-bind", str(path), str(path)]  # outside the writable roots: only keep it visible
    out += _hide([h for h in hidden if h not in early], read_only=True)
    if seccomp_fd is not None:
        out += ["--seccomp", str(seccomp_fd)]
    if status_fd is not None:
        out += ["--json-status-fd", str(status_fd)]
    out += ["--chdir", str(cwd), "--", *argv]
    return out
