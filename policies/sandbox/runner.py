"""The sandbox runner: :class:`SandboxRunner` implements ``orchestrator.core.contracts.Sandbox``.

One call runs one command under the policy's mode with the first working backend of its preference list, with a
scrubbed environment, bounded output capture (stdout and stderr interleaved, head and tail kept), and two time bounds
(wall time, and silence: a hung command) past which the command is interrupted, then its whole tree killed
(:mod:`policies.sandbox.watch`). It fails closed: when no backend works for a confining mode it raises
``SandboxUnavailableError`` saying how to fix it, unless the policy opts in to running unconfined, and then every
command triggers a warning. A fallback from the preferred backend is announced once, never silent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from orchestrator.core.contracts import ExecResult, Sandbox, SandboxPolicy
from orchestrator.core.errors import InputError, SandboxUnavailableError
from policies.sandbox.capture import BoundedCapture
from policies.sandbox.denial import detect_denial
from policies.sandbox.env import scrub_env
from policies.sandbox.gitpaths import protected_paths
from policies.sandbox.launch import Bounds, Launch, prepare_bwrap, prepare_landlock, prepare_unconfined
from policies.sandbox.limits import Cgroup, LimitPlan, Limits, create_cgroup, plan_limits
from policies.sandbox.mountns import can_confine_mounts
from policies.sandbox.probe import BACKENDS, FIX_HINT, Probe, probe
from policies.sandbox.watch import Stop, kill_group, wait_command

__all__ = ["SandboxRunner", "Stdio"]

Stdio = Literal["capture", "inherit"]
_log = logging.getLogger("orchestrate.sandbox")
_TIMEOUT_EXIT = 124  # like timeout(1)


class SandboxRunner:
    """Runs commands confined (``seams.Sandbox``).

    ``backends``: the mechanisms allowed, in preference order (``[]`` forces "no mechanism": confining modes then
    refuse, or run unconfined with ``allow_unconfined``). ``on_warning`` receives every warning (default: the
    ``orchestrate.sandbox`` logger). ``max_output_bytes`` bounds :attr:`ExecResult.output`. ``hide_paths``
    (``~`` expanded per command) are credential paths confined commands see empty (bubblewrap; Landlock when run as
    root). ``limits`` bound processes, memory and tmpfs (:mod:`policies.sandbox.limits`; default: its defaults).
    """

    def __init__(
        self,
        *,
        backends: Sequence[str] = BACKENDS,
        on_warning: Callable[[str], None] | None = None,
        max_output_bytes: int = 1 << 20,
        hide_paths: Sequence[str | Path] = (),
        limits: Limits | None = None,
    ) -> None:
        unknown = [b for b in backends if b not in BACKENDS]
        if unknown:
            raise InputError(f"unknown sandbox backend {unknown[0]!r}", hint=f"use one of {', '.join(BACKENDS)}")
        self._backends = tuple(backends)
        self._warn = on_warning or _log.warning
        self._max_output = max_output_bytes
        self._hide = tuple(Path(p) for p in hide_paths)
        self._limits = limits or Limits()
        self._plan: LimitPlan | None = None
        self._announced: set[str] = set()

    def describe_limits(self) -> list[str]:
        """What bounds each resource limit here, one line each (``orchestrate sandbox status``)."""
        return self.limit_plan().describe(self._limits, root=os.geteuid() == 0)

    def limit_plan(self) -> LimitPlan:
        """Which mechanism enforces each limit here (computed once)."""
        if self._plan is None:
            self._plan = plan_limits(self._limits)
        return self._plan

    @property
    def backends(self) -> tuple[str, ...]:
        return self._backends

    def select(self, policy: SandboxPolicy, warnings: list[str] | None = None) -> str:
        """The backend a command under ``policy`` uses: ``"bwrap"``, ``"landlock"`` or ``"none"``; appends what the
        user must be told to ``warnings``. Blocking on first use (probes). Raises ``SandboxUnavailableError``."""
        notes = warnings if warnings is not None else []
        if policy.mode == "danger-full-access":
            return "none"
        status = probe() if self._backends else None
        for name in self._backends:
            assert status is not None
            if status.status(name).available:
                self._announce_fallback(name, status, notes)
                return name
        reasons = "; ".join(status.status(n).detail for n in self._backends) if status else "no backend allowed"
        if policy.allow_unconfined:
            notes.append(f"running UNCONFINED ({policy.mode} requested, no sandbox mechanism works: {reasons}); "
                         "sandbox.allow_unconfined is set")
            return "none"
        raise SandboxUnavailableError(f"cannot confine commands ({policy.mode}): {reasons}", hint=FIX_HINT)

    def _announce_fallback(self, name: str, status: Probe, notes: list[str]) -> None:
        if name == self._backends[0] or name in self._announced:
            return
        self._announced.add(name)
        skipped = "; ".join(status.status(n).detail for n in self._backends[: self._backends.index(name)])
        notes.append(f"sandbox: using {name} instead ({skipped})")

    async def run(
        self,
        argv: Sequence[str],
        *,
        policy: SandboxPolicy,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        stdin: bytes | None = None,
        stdio: Stdio = "capture",
        idle_timeout_s: float | None = None,
    ) -> ExecResult:
        """Run ``argv`` in ``cwd`` confined by ``policy``. ``stdio="inherit"`` passes the caller's stdio through
        (``output`` is then empty). Raises ``SandboxUnavailableError`` (fail closed) and ``InputError``.

        ``timeout_s`` bounds the wall time; ``idle_timeout_s`` (captured output only) the time without output, after
        which the command is taken as hung. Either way it is interrupted (SIGINT), given a short grace to print where
        it was, then killed (:mod:`policies.sandbox.watch`): ``timed_out`` (and for the idle bound ``hung``) is set and
        the output ends with a note saying which bound fired."""
        if not argv:
            raise InputError("no command to run")
        job = await asyncio.to_thread(self._prepare, argv, policy, Path(cwd), env)
        for message in job.warnings:
            self._warn(message)
        try:
            return await self._execute(job, _Deadlines(timeout_s, idle_timeout_s), stdin, stdio)
        finally:
            job.launch.close()
            if job.cgroup is not None:
                job.cgroup.kill()  # nothing of the command survives its return; the directory goes in the background
                threading.Thread(target=job.cgroup.remove, name="orchestrate-cgroup-rmdir").start()

    def _prepare(self, argv: Sequence[str], policy: SandboxPolicy, cwd: Path, env: Mapping[str, str] | None) -> _Job:
        cwd = cwd.resolve()
        if not cwd.is_dir():
            raise InputError(f"{cwd}: no such directory")
        policy = _resolved(policy)
        warnings: list[str] = []
        backend = self.select(policy, warnings)
        self._check_git_protection(backend, policy, warnings)
        environ = scrub_env(os.environ if env is None else env, allow=policy.env_allow, deny=policy.env_deny)
        # No bytecode: a check run right after an edit of the same size in the same second would otherwise import
        # the stale .pyc of the code before the edit (pyc freshness is mtime in seconds + size), and judge old code.
        environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        hidden = [p.expanduser().resolve() for p in self._hide]
        cgroup, bounds = self._bounds(backend)
        try:
            launch = _prepare(backend, argv, policy, cwd, hidden=hidden, bounds=bounds,
                              env_values=list(environ.values()))
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        environ.update(launch.env_extra)
        return _Job(launch=launch, policy=policy, cwd=cwd, environ=environ, warnings=warnings, cgroup=cgroup)

    def _bounds(self, backend: str) -> tuple[Cgroup | None, Bounds]:
        if backend == "none":
            return None, Bounds(limits=self._limits)
        plan = self.limit_plan()
        cgroup = create_cgroup(self._limits, plan) if plan.hierarchies else None
        in_cgroup = set().union(*(h.controllers for h in plan.hierarchies)) if cgroup is not None else set()
        nproc = self._limits.max_processes if "pids" not in in_cgroup and plan.processes == "rlimit" else 0
        data = self._limits.max_memory_mb if "memory" not in in_cgroup else 0
        procs = cgroup.procs if cgroup is not None else ()
        return cgroup, Bounds(limits=self._limits, cgroup_procs=procs, nproc=nproc, data_mb=data)

    def _check_git_protection(self, backend: str, policy: SandboxPolicy, notes: list[str]) -> None:
        if backend != "landlock" or policy.mode != "workspace-write" or not policy.protect_git or can_confine_mounts():
            return  # as root the helper keeps them read-only with its own mount namespace
        exposed = [p for p in protected_paths(policy.workspace).metadata if policy.workspace in (p, *p.parents)]
        key = f"git:{policy.workspace}"
        if exposed and key not in self._announced:
            self._announced.add(key)
            notes.append(f"sandbox: Landlock cannot keep {', '.join(map(str, exposed))} read-only inside the "
                         "writable workspace (bubblewrap can: install it)")

    async def _execute(self, job: _Job, bounds: _Deadlines, stdin: bytes | None, stdio: Stdio) -> ExecResult:
        launch = job.launch
        capture = BoundedCapture(self._max_output)
        started = time.monotonic()
        piped = stdio == "capture"
        try:
            proc = await asyncio.create_subprocess_exec(
                *launch.argv, cwd=job.cwd, env=job.environ, pass_fds=launch.child_fds, start_new_session=True,
                stdin=(asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL) if piped else None,
                stdout=asyncio.subprocess.PIPE if piped else None,
                stderr=asyncio.subprocess.STDOUT if piped else None,
            )
        except FileNotFoundError:
            return ExecResult(exit_code=127, output=f"{launch.argv[0]}: command not found", sandbox=launch.backend)
        except PermissionError as exc:
            return ExecResult(exit_code=126, output=f"{launch.argv[0]}: {exc.strerror}", sandbox=launch.backend)
        launch.spawned()
        try:
            stop = await wait_command(proc, capture, stdin, backend=launch.backend, timeout_s=bounds.timeout_s,
                                      idle_timeout_s=bounds.idle_timeout_s or None)
        except BaseException:
            kill_group(proc.pid)
            raise
        outcome = _Outcome(proc.returncode, capture.text(), stop, bounds, time.monotonic() - started)
        return _result(job, outcome, inherited=not piped)


@dataclass(frozen=True)
class _Job:
    launch: Launch
    policy: SandboxPolicy
    cwd: Path
    environ: dict[str, str]
    warnings: list[str]
    cgroup: Cgroup | None = None


@dataclass(frozen=True)
class _Deadlines:
    timeout_s: float | None
    idle_timeout_s: float | None


@dataclass(frozen=True)
class _Outcome:
    returncode: int | None
    output: str
    stop: Stop
    bounds: _Deadlines
    duration_s: float


def _resolved(policy: SandboxPolicy) -> SandboxPolicy:
    return policy.model_copy(update={
        "workspace": policy.workspace.expanduser().resolve(),
        "writable_roots": tuple(p.expanduser().resolve() for p in policy.writable_roots),
    })


def _prepare(backend: str, argv: Sequence[str], policy: SandboxPolicy, cwd: Path, *, hidden: Sequence[Path],
             bounds: Bounds, env_values: Sequence[str] = ()) -> Launch:
    if backend == "bwrap":
        status = probe().bwrap
        return prepare_bwrap(status.detail, argv, policy=policy, cwd=cwd, hidden=hidden, bounds=bounds,
                             env_values=env_values)
    if backend == "landlock":
        return prepare_landlock(argv, policy=policy, cwd=cwd, hidden=hidden, bounds=bounds)
    return prepare_unconfined(argv)


def _result(job: _Job, outcome: _Outcome, *, inherited: bool) -> ExecResult:
    backend = job.launch.backend
    report = job.launch.report()
    output, rc = outcome.output, outcome.returncode
    code = rc if rc is not None and rc >= 0 else 128 - (rc or 0)
    if outcome.stop:
        note = _stop_note(outcome)
        return ExecResult(exit_code=_TIMEOUT_EXIT, output=f"{output}\n{note}".lstrip("\n"), timed_out=True,
                          hung=outcome.stop == "idle", duration_s=outcome.duration_s, sandbox=backend)
    if report.setup_error is not None and not inherited:  # inherited stdio: the user already saw the backend's words
        if backend == "bwrap" and "bwrap: execvp" in output:
            code = 127  # the sandbox was fine; the command does not exist
        else:
            detail = next((ln for ln in output.splitlines() if ln.startswith("bwrap:")), report.setup_error)
            raise SandboxUnavailableError(f"{backend} could not set up the sandbox for this command: {detail}")
    reason = detect_denial(backend, code, output, network=job.policy.network)
    return ExecResult(exit_code=code, output=output, denied=reason is not None, denial_reason=reason,
                      duration_s=outcome.duration_s, sandbox=backend)


def _stop_note(outcome: _Outcome) -> str:
    """The line appended to a stopped command's output: which bound fired, and how it was stopped."""
    how = "interrupted (SIGINT), then killed"
    if outcome.stop == "idle":
        return f"[orchestrate: no output for {outcome.bounds.idle_timeout_s:g}s: taken as hung; {how}]"
    return f"[orchestrate: timed out after {outcome.bounds.timeout_s:g}s; {how}]"


if TYPE_CHECKING:
    _conforms: Sandbox = SandboxRunner()  # mypy proves the runner implements the seam
