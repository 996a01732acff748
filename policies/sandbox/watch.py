"""Waiting for one sandboxed command: its output drained, its two time bounds kept, and its end when one fires.

Two bounds: ``timeout_s`` (wall time) and ``idle_timeout_s`` (no output for that long: taken as hung, e.g. a test
stuck in an infinite loop). When either fires the command is first *interrupted* (SIGINT), then given a short grace to
exit on its own, and only then killed (its process group, its tree, and by the caller its cgroup). The interrupt is
what makes a hang useful: a test runner stopped by SIGINT prints where it was (pytest: ``x.py:3: KeyboardInterrupt``),
and the output of the grace is kept. Which processes get the SIGINT matters: a sandbox backend's own launcher (the
bubblewrap process, the Landlock helper and its pid-1 fork) is not the command and must not get it, since bubblewrap
dies of it without forwarding it and the helper's death takes the pid namespace down before the command can speak.
So the launcher and its forks (same command line) are skipped, except with no backend, where the process is the
command itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Literal

from policies.sandbox.capture import BoundedCapture
from policies.sandbox.reaper import descendants, kill_tree

__all__ = ["Stop", "interrupt", "kill_group", "wait_command"]

Stop = Literal["", "timeout", "idle"]  # "": the command ended by itself
INTERRUPT_GRACE_S = 2.5  # after SIGINT: long enough for a test runner to print its traceback and exit
_STRAGGLER_GRACE_S = 2.0  # after the command exits, how long background children may keep its output pipe open


@dataclass
class _Progress:
    """When the command last wrote anything (monotonic seconds)."""

    last: float = field(default_factory=time.monotonic)


def kill_group(pgid: int) -> None:
    """The command's whole tree: its descendants first (``setsid`` takes them out of the group; stopped first so
    that none forks meanwhile), then the group."""
    kill_tree(pgid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _cmdline(pid: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return None


def interrupt(pid: int, *, backend: str) -> list[int]:
    """SIGINT to the command's processes under the launcher ``pid`` (see the module doc for which); returns them."""
    launcher = None if backend == "none" else _cmdline(pid)
    targets = [p for p in descendants(pid) if launcher is None or _cmdline(p) != launcher]
    if backend == "none":
        targets.insert(0, pid)
    for target in targets:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(target, signal.SIGINT)
    return targets


async def _feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(data)
        await proc.stdin.drain()
    proc.stdin.close()


async def _pump(stream: asyncio.StreamReader, capture: BoundedCapture, progress: _Progress) -> None:
    while chunk := await stream.read(65536):
        progress.last = time.monotonic()
        capture.feed(chunk)


async def _bounded(exited: asyncio.Task[int], progress: _Progress, timeout_s: float | None,
                   idle_s: float | None) -> Stop:
    """Wait for ``exited`` or the first bound to fire; which one fired."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return "timeout"
        quiet_until = None if idle_s is None else progress.last + idle_s
        if quiet_until is not None and now >= quiet_until:
            return "idle"
        limits = [t - now for t in (deadline, quiet_until) if t is not None]
        done, _ = await asyncio.wait({exited}, timeout=min(limits) if limits else None)
        if done:
            return ""


async def wait_command(proc: asyncio.subprocess.Process, capture: BoundedCapture, stdin: bytes | None, *,
                       backend: str, timeout_s: float | None, idle_timeout_s: float | None = None) -> Stop:
    """Wait for the command and drain its output into ``capture``; which bound stopped it (``""``: none).

    ``idle_timeout_s`` applies only when the output is piped (``proc.stdout``): inherited output cannot be watched.
    Whatever happens, nothing of the command's process group or tree is left running on return.
    """
    progress = _Progress()
    tasks = [asyncio.create_task(_pump(proc.stdout, capture, progress))] if proc.stdout is not None else []
    if stdin is not None and proc.stdin is not None:
        tasks.append(asyncio.create_task(_feed(proc, stdin)))
    exited = asyncio.create_task(proc.wait())
    try:
        stop = await _bounded(exited, progress, timeout_s, idle_timeout_s if proc.stdout is not None else None)
        if stop:
            interrupt(proc.pid, backend=backend)
            await asyncio.wait({exited}, timeout=INTERRUPT_GRACE_S)
            kill_group(proc.pid)
        await exited
    finally:
        if not exited.done():
            exited.cancel()
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=_STRAGGLER_GRACE_S)
        if pending:  # background processes still hold the pipe: they belong to the command, end them
            kill_group(proc.pid)
            _done, pending = await asyncio.wait(pending, timeout=_STRAGGLER_GRACE_S)
            for task in pending:
                task.cancel()
    kill_group(proc.pid)  # what the command left running in the background ends with it (as under bubblewrap)
    return stop
