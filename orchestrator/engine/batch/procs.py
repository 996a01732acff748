"""Child processes of a batch worker: tied to the worker's life, bounded in time, their output kept as a tail.

Each child asks the kernel for SIGKILL when the worker thread that started it dies (``PR_SET_PDEATHSIG``), so a
SIGKILLed batch leaves no session running on in a clone that the rerun is about to resume. A Ctrl-C reaches the
children directly (same process group): a session saves its state and exits 130, and the rerun resumes it.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.core.text import clip

__all__ = ["Finished", "run_child", "tail"]

_PR_SET_PDEATHSIG = 1
_TERM_GRACE_S = 10.0  # after SIGTERM on a timeout: time for a session to save its state before SIGKILL


@dataclass(frozen=True)
class Finished:
    """A child's exit status (``None``: it timed out and was stopped), its stdout and its stderr."""

    returncode: int | None
    stdout: str
    stderr: str


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def run_child(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], stdin: str | None = None,
              timeout_s: float | None = None, merge_stderr: bool = False) -> Finished:
    """Run ``argv`` to completion (text in, text out). On timeout: SIGTERM, a grace period, then SIGKILL."""
    proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), text=True, encoding="utf-8", errors="replace",
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                            preexec_fn=_die_with_parent)  # noqa: PLW1509 - a prctl call only, no locks taken
    try:
        out, err = proc.communicate(stdin, timeout=timeout_s or None)
        return Finished(proc.returncode, out or "", err or "")
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=_TERM_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        return Finished(None, out or "", err or "")
    except BaseException:  # the worker is being stopped (Ray's cancel raises KeyboardInterrupt here)
        proc.send_signal(signal.SIGINT)  # a session saves its state and exits 130: the next run resumes it
        try:
            proc.wait(timeout=_TERM_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def tail(text: str, limit: int = 4000) -> str:
    """The last ``limit`` characters of ``text``, starting at a line boundary when one is near."""
    return clip(text, limit, keep="tail", snap=200)
