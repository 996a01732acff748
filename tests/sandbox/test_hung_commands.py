"""A command that hangs (issue 17): stopped by the idle bound, interrupted first so pytest says where it was, then
killed with its whole tree; on every backend here. A command that keeps talking is not stopped."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest

from orchestrator.core.contracts import ExecResult, SandboxMode, SandboxPolicy
from policies.sandbox import SandboxRunner
from tests.sandbox.sandbox_support import require_backend
from tests.sandbox.test_sandbox_runner import _survivors

BACKENDS = ("bwrap", "landlock", None)
# The model-written bug of issue 17: `i` never moves, so the loop never ends (line 3).
LOOPING_TEST = """def count(s):
    i = 0
    while i < len(s):
        pass
    return i


def test_count():
    assert count("abc") == 3
"""


def _run(backend: str | None, ws: Path, argv: list[str], *, timeout_s: float, idle_s: float | None) -> ExecResult:
    if backend:
        require_backend(backend)
    mode: SandboxMode = "workspace-write" if backend else "danger-full-access"
    runner = SandboxRunner(backends=[backend] if backend else [])
    policy = SandboxPolicy(mode=mode, workspace=ws)
    return asyncio.run(runner.run(argv, policy=policy, cwd=ws, timeout_s=timeout_s, idle_timeout_s=idle_s))


def _looping_pytest(ws: Path) -> tuple[list[str], str]:
    """The check command and the test file's name (unique: it finds any survivor by command line)."""
    name = f"loop_{uuid.uuid4().hex[:12]}_test.py"
    (ws / name).write_text(LOOPING_TEST)
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name], name


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_silent_pytest_is_interrupted_and_says_where_it_looped(tmp_path: Path, backend: str | None) -> None:
    argv, name = _looping_pytest(tmp_path)
    result = _run(backend, tmp_path, argv, timeout_s=600, idle_s=2)
    assert result.timed_out and result.hung and result.exit_code == 124
    assert "KeyboardInterrupt" in result.output and f"{name}:3: KeyboardInterrupt" in result.output
    assert result.output.endswith("[orchestrate: no output for 2s: taken as hung; interrupted (SIGINT), then killed]")
    assert _survivors(name) == []


@pytest.mark.parametrize("backend", ["bwrap"])  # the same path as above once a bound fired: one backend is enough
def test_the_overall_timeout_interrupts_first_too(tmp_path: Path, backend: str | None) -> None:
    argv, name = _looping_pytest(tmp_path)
    result = _run(backend, tmp_path, argv, timeout_s=3, idle_s=None)
    assert result.timed_out and not result.hung and result.exit_code == 124
    assert f"{name}:3: KeyboardInterrupt" in result.output
    assert result.output.endswith("[orchestrate: timed out after 3s; interrupted (SIGINT), then killed]")
    assert _survivors(name) == []


@pytest.mark.parametrize("backend", ["bwrap", "landlock"])
def test_a_command_that_ignores_the_interrupt_is_killed(tmp_path: Path, backend: str | None) -> None:
    marker = f"ignores-sigint-{uuid.uuid4().hex[:12]}"
    script = f"import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(3600)  # {marker}"
    result = _run(backend, tmp_path, [sys.executable, "-c", script], timeout_s=600, idle_s=1)
    assert result.timed_out and result.hung and "taken as hung" in result.output
    assert _survivors(marker) == []


@pytest.mark.parametrize("backend", ["bwrap", None])
def test_a_command_that_keeps_printing_is_not_stopped(tmp_path: Path, backend: str | None) -> None:
    script = "for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; sleep 0.2; done; echo finished"
    result = _run(backend, tmp_path, ["sh", "-c", script], timeout_s=600, idle_s=1)
    assert (result.exit_code, result.timed_out, result.hung) == (0, False, False)
    assert result.output.rstrip().endswith("finished") and "orchestrate:" not in result.output


def test_without_an_idle_bound_a_quiet_command_runs_to_its_end(tmp_path: Path) -> None:
    result = _run(None, tmp_path, ["sh", "-c", "sleep 1.5; echo late"], timeout_s=600, idle_s=None)
    assert (result.exit_code, result.timed_out, result.output) == (0, False, "late\n")
