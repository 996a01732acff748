"""Which sandbox mechanisms work on this machine, found out once per process by actually using them.

bubblewrap: ``bwrap`` on PATH *and* a real confined run of ``true`` with every flag and the seccomp filter commands
get (Ubuntu 24.04's AppArmor user-namespace restriction, a container without user namespaces, ... all show up here).
Landlock: the kernel's ABI version, then a real run of ``true`` through the helper (capabilities dropped, Landlock,
seccomp). The result is cached for the process: :func:`probe` is cheap after the first call.
"""

from __future__ import annotations

import functools
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.core.contracts import SandboxPolicy
from policies.sandbox import landlock, seccomp
from policies.sandbox.launch import Launch, prepare_bwrap, prepare_landlock

__all__ = ["BackendStatus", "Probe", "probe", "probe_backend", "BACKENDS", "FIX_HINT"]

BACKENDS: tuple[str, ...] = ("bwrap", "landlock")

FIX_HINT = (
    "install bubblewrap (apt-get install bubblewrap / dnf install bubblewrap); on Ubuntu 24.04 also allow "
    "unprivileged user namespaces for it: an AppArmor profile for /usr/bin/bwrap with 'userns,' or "
    "sysctl kernel.apparmor_restrict_unprivileged_userns=0; or set sandbox.allow_unconfined = true to run "
    "commands unconfined (with a warning on every command)"
)
_PROBE_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class BackendStatus:
    name: str
    available: bool
    detail: str  # why not, or what was found (path, ABI)


@dataclass(frozen=True)
class Probe:
    bwrap: BackendStatus
    landlock: BackendStatus
    landlock_abi: int
    seccomp: bool  # the filter has a syscall table for this architecture

    def status(self, name: str) -> BackendStatus:
        if name == "bwrap":
            return self.bwrap
        if name == "landlock":
            return self.landlock
        raise ValueError(f"unknown sandbox backend {name!r}")


def _run_probe(launch: Launch, cwd: Path) -> str | None:
    """``None`` when ``true`` ran confined and exited 0, else why not."""
    try:
        proc = subprocess.run(launch.argv, cwd=cwd, pass_fds=launch.child_fds, capture_output=True,
                              timeout=_PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        launch.close()
        return str(exc)
    launch.spawned()
    report = launch.report()
    if report.setup_error is not None or proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return (stderr[-1] if stderr else report.setup_error) or f"exit status {proc.returncode}"
    return None


def _probe_bwrap(workspace: Path) -> BackendStatus:
    path = shutil.which("bwrap")
    if path is None:
        return BackendStatus("bwrap", False, "bwrap is not installed")
    if not seccomp.supported():
        return BackendStatus("bwrap", False, f"no seccomp filter for {platform.machine()}")
    true = shutil.which("true") or "/bin/true"
    policy = SandboxPolicy(mode="workspace-write", workspace=workspace)
    error = _run_probe(prepare_bwrap(path, [true], policy=policy, cwd=workspace), workspace)
    if error is not None:
        return BackendStatus("bwrap", False, f"bwrap does not start: {error}")
    return BackendStatus("bwrap", True, path)


def _probe_landlock(workspace: Path, abi: int) -> BackendStatus:
    if abi < 1:
        return BackendStatus("landlock", False, "the kernel has no Landlock (Linux >= 5.13 with lsm=landlock)")
    if not seccomp.supported():
        return BackendStatus("landlock", False, f"no seccomp filter for {platform.machine()}")
    true = shutil.which("true") or "/bin/true"
    policy = SandboxPolicy(mode="workspace-write", workspace=workspace)
    error = _run_probe(prepare_landlock([true], policy=policy), workspace)
    if error is not None:
        return BackendStatus("landlock", False, f"Landlock/seccomp do not load: {error}")
    return BackendStatus("landlock", True, f"Landlock ABI {abi}")


def probe_backend(name: str) -> BackendStatus:
    """Probe one backend now (uncached); :func:`probe` is the cached view of all of them."""
    with tempfile.TemporaryDirectory(prefix="orchestrate-probe-") as tmp:
        workspace = Path(tmp).resolve()
        if name == "bwrap":
            return _probe_bwrap(workspace)
        if name == "landlock":
            return _probe_landlock(workspace, landlock.abi_version())
    raise ValueError(f"unknown sandbox backend {name!r}")


@functools.lru_cache(maxsize=1)
def probe() -> Probe:
    """Every backend's status on this machine, probed on the first call and cached for the process."""
    return Probe(
        bwrap=probe_backend("bwrap"),
        landlock=probe_backend("landlock"),
        landlock_abi=landlock.abi_version(),
        seccomp=seccomp.supported(),
    )
