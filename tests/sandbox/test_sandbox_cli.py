"""``orchestrate sandbox run`` and ``sandbox status`` as a user runs them (a real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox.sandbox_support import CLI_ALLOW, Arena, require_backend

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[2]


def orchestrate(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                ) -> subprocess.CompletedProcess[str]:
    environ = {**(env or os.environ), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], env=environ, cwd=cwd, capture_output=True,
                          text=True, check=False, timeout=120)


@pytest.mark.parametrize("backend", ["bwrap", "landlock"])
def test_run_confines_and_passes_status_and_stdio_through(arena: Arena, backend: str) -> None:
    require_backend(backend)
    script = 'echo built > artifact.txt; echo out; echo err >&2; (echo x > "$OUT/cli.txt") 2>/dev/null; exit 3'
    proc = orchestrate("sandbox", "run", *CLI_ALLOW, "--backend", backend, "-C", str(arena.ws), "--", "bash", "-c",
                       script,
                       env=arena.env())
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "out\n" and "err" in proc.stderr
    assert (arena.ws / "artifact.txt").read_text() == "built\n"
    assert not (arena.out / "cli.txt").exists()


def test_mode_and_network_flags(arena: Arena) -> None:
    read_only = orchestrate("sandbox", "run", *CLI_ALLOW, "--mode", "read-only", "-C", str(arena.ws), "--", "sh", "-c",
                            "echo x > made.txt", env=arena.env())
    assert read_only.returncode != 0 and not (arena.ws / "made.txt").exists()
    connect = '"$PY" -c "import os, socket; socket.create_connection((\'127.0.0.1\', int(os.environ[\'TCP_PORT\'])))"'
    blocked = orchestrate("sandbox", "run", *CLI_ALLOW, "-C", str(arena.ws), "--", "sh", "-c", connect, env=arena.env())
    assert blocked.returncode != 0
    allowed = orchestrate("sandbox", "run", *CLI_ALLOW, "--network", "-C", str(arena.ws), "--", "sh", "-c", connect,
                          env=arena.env())
    assert allowed.returncode == 0, allowed.stderr


def test_config_override_reaches_the_sandbox(arena: Arena) -> None:
    require_backend("bwrap")
    commit = "git -c user.name=x -c user.email=x@x commit -q --allow-empty -m cli"
    blocked = orchestrate("sandbox", "run", *CLI_ALLOW, "--backend", "bwrap", "-C", str(arena.ws), "--", "sh", "-c",
                          commit, env=arena.env())
    assert blocked.returncode != 0
    allowed = orchestrate("sandbox", "run", *CLI_ALLOW, "--backend", "bwrap", "-c", "sandbox.protect_git=false", "-C",
                          str(arena.ws), "--", "sh", "-c", commit, env=arena.env())
    assert allowed.returncode == 0, allowed.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = orchestrate("sandbox", "run", *CLI_ALLOW, "-C", str(tmp_path))
    assert missing.returncode == 2 and "no command" in missing.stderr
    bad_dir = orchestrate("sandbox", "run", *CLI_ALLOW, "-C", str(tmp_path / "nope"), "--", "true")
    assert bad_dir.returncode == 2 and "no such directory" in bad_dir.stderr
    bad_key = orchestrate("sandbox", "run", *CLI_ALLOW, "-c", "sandbox.backend=chroot", "--", "true", cwd=tmp_path)
    assert bad_key.returncode == 2 and "sandbox.backend" in bad_key.stderr


def test_status_lists_the_mechanisms() -> None:
    proc = orchestrate("sandbox", "status")
    assert "bwrap:" in proc.stdout and "landlock:" in proc.stdout
    assert proc.returncode == (0 if "works" in proc.stdout else 1)


def test_status_says_which_limits_are_in_force() -> None:
    proc = orchestrate("sandbox", "status")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("limits: ")]
    assert [ln.split()[1] for ln in lines] == ["max_processes", "max_memory_mb", "tmpfs_size_mb"], proc.stdout
