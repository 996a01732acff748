"""When bubblewrap is installed but cannot start (Ubuntu 24.04's AppArmor user-namespace restriction, a container
without user namespaces), the CLI says so: ``auto`` falls back to Landlock with a warning, a required bwrap refuses
(exit 2, with the fix), and running unconfined needs the explicit opt-in and warns. Never silently.

The broken bubblewrap is a real executable first on PATH that fails the way a blocked bwrap does; nothing is patched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox.sandbox_support import require_backend

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[2]
BLOCKED = "bwrap: setting up uid map: Permission denied"


@pytest.fixture
def broken_bwrap_env(tmp_path: Path, orchestrate_home: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "bwrap"
    fake.write_text(f"#!/bin/sh\necho '{BLOCKED}' >&2\nexit 1\n")
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(REPO),
            "ORCHESTRATE_HOME": str(orchestrate_home)}


def _orchestrate(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, check=False, timeout=120)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


def test_status_names_why_bwrap_does_not_work(broken_bwrap_env: dict[str, str], workspace: Path) -> None:
    proc = _orchestrate(broken_bwrap_env, workspace, "sandbox", "status")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("bwrap:"))
    assert "unavailable" in line and BLOCKED in line, proc.stdout


def test_auto_falls_back_to_landlock_with_a_warning(broken_bwrap_env: dict[str, str], workspace: Path) -> None:
    require_backend("landlock")
    proc = _orchestrate(broken_bwrap_env, workspace, "sandbox", "run", "--", "sh", "-c",
                        'echo built > made.txt; echo x > "$0/escaped.txt"', str(workspace.parent))
    assert "using landlock instead" in proc.stderr and BLOCKED in proc.stderr, proc.stderr
    assert (workspace / "made.txt").read_text() == "built\n"
    assert not (workspace.parent / "escaped.txt").exists()  # still confined


def test_required_bwrap_refuses_and_unconfined_needs_the_opt_in(
    broken_bwrap_env: dict[str, str], workspace: Path
) -> None:
    refused = _orchestrate(broken_bwrap_env, workspace, "sandbox", "run", "--backend", "bwrap", "--", "sh", "-c",
                           "echo x > made.txt")
    assert refused.returncode == 2, refused.stderr
    assert "cannot confine" in refused.stderr and "install bubblewrap" in refused.stderr and BLOCKED in refused.stderr
    assert not (workspace / "made.txt").exists()
    unconfined = _orchestrate(broken_bwrap_env, workspace, "sandbox", "run", "--backend", "bwrap", "-c",
                              "sandbox.allow_unconfined=true", "--", "sh", "-c", "echo x > made.txt")
    assert unconfined.returncode == 0, unconfined.stderr
    assert "UNCONFINED" in unconfined.stderr and (workspace / "made.txt").exists()
