"""Ending a process tree from outside, including what left its process group (``setsid``) or double-forked.

Used by the runner when a command times out or is cancelled: killing the process group alone would miss a
``setsid`` child, and killing the top process first would orphan the rest (reparented to init, out of reach). So the
descendants are found through ``/proc/PID/task/TID/children``, stopped (a stopped process cannot fork) until a pass
finds nothing new, then killed. Stdlib only.
"""

from __future__ import annotations

import contextlib
import os
import signal

__all__ = ["descendants", "kill_tree"]

_ROUNDS = 20


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/task/{tid}/children",
                                                             encoding="ascii") as fh:
            found += [int(p) for p in fh.read().split()]
    return found


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (breadth-first), as seen now."""
    out: list[int] = []
    queue = [pid]
    while queue:
        for child in _children(queue.pop()):
            if child not in out:
                out.append(child)
                queue.append(child)
    return out


def kill_tree(pid: int) -> None:
    """SIGKILL every descendant of ``pid`` (not ``pid`` itself), stopping them all first."""
    stopped: list[int] = []
    for _ in range(_ROUNDS):
        new = [p for p in descendants(pid) if p not in stopped]
        if not new:
            break
        for child in new:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGSTOP)
            stopped.append(child)
    for child in stopped:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)
