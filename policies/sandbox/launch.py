"""How each backend starts one command: the command line, the file descriptors it inherits, and how to read back
what the backend (not the command) reported.

A :class:`Launch` is prepared right before spawning and closed right after the process ends. Both the runner and
the probe go through here, so the probe tests exactly what commands will get.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.core.contracts import SandboxPolicy
from policies.sandbox import seccomp
from policies.sandbox.bwrap import bwrap_argv, expand_hidden, writable_paths
from policies.sandbox.gitpaths import protected_paths
from policies.sandbox.limits import Limits

__all__ = ["Bounds", "Launch", "BackendReport", "prepare_bwrap", "prepare_landlock", "prepare_unconfined", "HELPER"]

HELPER = Path(__file__).with_name("exec_helper.py")
_TMP_VARS = ("TMPDIR", "TMP", "TEMP")


@dataclass(frozen=True)
class BackendReport:
    """What the backend said: ``setup_error`` when the command never started, else its ``exit_code`` if known."""

    setup_error: str | None = None
    exit_code: int | None = None


@dataclass
class Launch:
    """One prepared command. ``child_fds`` go to the child (``pass_fds``) and are closed in the parent once spawned."""

    backend: str
    argv: list[str]
    env_extra: dict[str, str] = field(default_factory=dict)
    child_fds: tuple[int, ...] = ()
    status_read: int | None = None
    temp_dir: Path | None = None

    def spawned(self) -> None:
        """Call once the child exists: the parent's copies of the child's descriptors must go."""
        for fd in self.child_fds:
            _close(fd)
        self.child_fds = ()

    def report(self) -> BackendReport:
        """Read the backend's status (call after the process exited), then release everything."""
        data = _drain(self.status_read) if self.status_read is not None else b""
        self.close()
        text = data.decode("utf-8", errors="replace")
        if self.backend == "bwrap":
            return _bwrap_report(text)
        if self.backend == "landlock" and text.strip():
            return BackendReport(setup_error=text.strip())
        return BackendReport()

    def close(self) -> None:
        self.spawned()
        if self.status_read is not None:
            _close(self.status_read)
            self.status_read = None
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _drain(fd: int) -> bytes:
    os.set_blocking(fd, False)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _bwrap_report(text: str) -> BackendReport:
    exit_code: int | None = None
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("exit-code"), int):
            exit_code = item["exit-code"]
    if exit_code is None:
        return BackendReport(setup_error="bubblewrap could not set up the sandbox")
    return BackendReport(exit_code=exit_code)


def _seccomp_memfd() -> int:
    fd = os.memfd_create("orchestrate-seccomp")
    program = seccomp.network_filter()
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@dataclass(frozen=True)
class Bounds:
    """What one launch enforces: the limits, the cgroup to join (if any), and whether rlimits stand in for it."""

    limits: Limits = field(default_factory=Limits)
    cgroup_procs: tuple[Path, ...] = ()
    nproc: int = 0  # RLIMIT_NPROC to set (0: none)
    data_mb: int = 0  # RLIMIT_DATA to set (0: none)


def _bwrap_prefix(bounds: Bounds) -> list[str]:
    """A ``/bin/sh`` that joins the cgroup and sets the rlimits, then ``exec``s bubblewrap (no race: nothing of the
    command runs before); one small exec, and none when there is nothing to do. ``ulimit -u`` is bash's process
    limit, ``-p`` dash's."""
    steps = [f'echo 0 > "${i + 1}"' for i in range(len(bounds.cgroup_procs))]
    if bounds.nproc:
        steps.append(f"{{ ulimit -u {bounds.nproc} 2>/dev/null || ulimit -p {bounds.nproc}; }}")
    if bounds.data_mb:
        steps.append(f"ulimit -d {bounds.data_mb << 10}")
    if not steps:
        return []
    script = (f'{" && ".join(steps)} || {{ echo "bwrap: orchestrate could not apply its resource limits" >&2; '
              f'exit 125; }}; shift {len(bounds.cgroup_procs)}; exec "$@"')
    return ["/bin/sh", "-c", script, "sh", *map(str, bounds.cgroup_procs)]


def prepare_bwrap(bwrap: str, argv: Sequence[str], *, policy: SandboxPolicy, cwd: Path,
                  hidden: Sequence[Path] = (), bounds: Bounds | None = None, env_values: Sequence[str] = ()) -> Launch:
    bounds = bounds or Bounds()
    seccomp_fd = None if policy.network else _seccomp_memfd()
    status_read, status_write = os.pipe()
    command = bwrap_argv(bwrap, argv, policy=policy, cwd=cwd, seccomp_fd=seccomp_fd, status_fd=status_write,
                         hidden=hidden, tmpfs_mb=bounds.limits.tmpfs_size_mb, env_values=env_values)
    fds = (status_write,) if seccomp_fd is None else (seccomp_fd, status_write)
    return Launch(backend="bwrap", argv=[*_bwrap_prefix(bounds), *command], child_fds=fds, status_read=status_read)


def prepare_landlock(argv: Sequence[str], *, policy: SandboxPolicy, cwd: Path | None = None,
                     hidden: Sequence[Path] = (), bounds: Bounds | None = None) -> Launch:
    """The helper command line; the private temp dir stands in for bubblewrap's private ``/tmp`` (via ``TMPDIR``).
    ``hidden``, the protected paths and the tmpfs size take effect only when the helper runs as root."""
    bounds = bounds or Bounds()
    temp_dir = Path(tempfile.mkdtemp(prefix="orchestrate-sbx-"))
    writable = list(writable_paths(policy))
    protected = protected_paths(policy.workspace)
    if policy.mode == "workspace-write" and not policy.protect_git:
        writable += [p for p in protected.git_dirs if p not in writable]
    keep = [] if policy.mode == "workspace-write" and not policy.protect_git else list(protected.metadata)
    options: list[str] = [] if not policy.network else ["-n"]
    options += [item for p in writable for item in ("-w", str(p))]
    options += ["-t", str(temp_dir)]
    options += [item for p in keep for item in ("-p", str(p))]
    bound = [cwd or policy.workspace, policy.workspace, *writable]
    options += [item for p in expand_hidden(hidden, bound) for item in ("-H", str(p))]
    options += [item for p in bounds.cgroup_procs for item in ("-c", str(p))]
    for flag, value in (("-s", bounds.limits.tmpfs_size_mb), ("-u", bounds.nproc), ("-d", bounds.data_mb)):
        if value:
            options += [flag, str(value)]
    status_read, status_write = os.pipe()
    command = [sys.executable, "-I", "-S", str(HELPER), str(status_write), *options, "--", *argv]
    return Launch(
        backend="landlock",
        argv=command,
        env_extra=dict.fromkeys(_TMP_VARS, str(temp_dir)),
        child_fds=(status_write,),
        status_read=status_read,
        temp_dir=temp_dir,
    )


def prepare_unconfined(argv: Sequence[str]) -> Launch:
    return Launch(backend="none", argv=list(argv))
