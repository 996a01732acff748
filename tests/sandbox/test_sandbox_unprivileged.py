"""The escape attempts again, as an unprivileged user (uid 65534 via ``setpriv``), through ``orchestrate sandbox run``.

All attempts of one backend and mode run in one confined script (a CLI start per attempt would cost too long); each
one is judged on its own, from outside. A control run unconfined, as the same user, shows which attempts the user
could otherwise do (everything but remount and mknod), so a block is the sandbox's doing, not a permission.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.sandbox_support import (
    ATTACKS,
    CLI_ALLOW,
    NOBODY,
    Arena,
    build_arena,
    close_arena,
    external_reachable,
    git,
)

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0, reason="switching to an unprivileged user needs root"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is not installed"),
]

REPO = Path(__file__).resolve().parents[2]
SETPRIV = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
ROOT_ONLY = {"remount", "mknod"}


def _runs_as_nobody(python: str) -> bool:
    probe = [*SETPRIV, "sh", "-c", 'exec "$0" -c "import pydantic, rich"', python]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)}
    return subprocess.run(probe, env=env, cwd="/", capture_output=True, check=False, timeout=60).returncode == 0


@pytest.fixture(scope="module")
def nobody_python() -> Iterator[str]:
    """An interpreter with the project's dependencies that uid 65534 can execute: this one, or (when it lives where
    that user cannot reach, e.g. under /root) a throwaway venv over a system interpreter of the same version that
    borrows this environment's site-packages."""
    if _runs_as_nobody(sys.executable):
        yield sys.executable
        return
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/local/bin:/usr/bin:/bin")
    if system is None:
        pytest.skip(f"{sys.executable} is not executable by uid {NOBODY} and there is no system {version}")
    base = Path(tempfile.mkdtemp(prefix="orchestrate-nobody-py-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    try:
        subprocess.run([system, "-m", "venv", "--without-pip", str(base / "venv")], check=True, capture_output=True)
        site_dir = next((base / "venv" / "lib").glob("python*/site-packages"))
        (site_dir / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
        python = str(base / "venv" / "bin" / "python")
        if not _runs_as_nobody(python):
            pytest.skip(f"no interpreter with the project's dependencies is executable by uid {NOBODY}")
        yield python
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def nobody_arena(nobody_python: str) -> Iterator[Arena]:
    base = Path(tempfile.mkdtemp(prefix="orchestrate-sbx-nobody-", dir="/var/tmp")).resolve()
    os.chmod(base, 0o755)
    home = base / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    made = build_arena(base, owner=NOBODY, python=nobody_python)
    try:
        yield made
    finally:
        close_arena(made)


def as_nobody(arena: Arena, *args: str) -> subprocess.CompletedProcess[str]:
    home = str(arena.root / "home")
    env = {**arena.env(), "PYTHONPATH": str(REPO), "ORCHESTRATE_HOME": home, "HOME": home}
    return subprocess.run([*SETPRIV, arena.python, "-m", "orchestrator", *args], env=env, cwd=arena.ws,
                          capture_output=True, text=True, check=False, timeout=120)


_STATUS: dict[str, dict[str, str]] = {}


def _nobody_backends(python: str) -> dict[str, str]:
    """Backend → "works" or why not, as seen by the unprivileged user (probed by the CLI itself)."""
    if python not in _STATUS:
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "ORCHESTRATE_HOME": "/nonexistent"}
        proc = subprocess.run([*SETPRIV, python, "-m", "orchestrator", "sandbox", "status"], env=env, cwd="/",
                              capture_output=True, text=True, check=False, timeout=120)
        found = {}
        for line in proc.stdout.splitlines():
            name, _, rest = line.partition(": ")
            found[name] = "works" if rest.startswith("works") else rest or proc.stderr.strip()
        _STATUS[python] = found
    return _STATUS[python]


def _require(arena: Arena, backend: str) -> None:
    status = _nobody_backends(arena.python).get(backend, "the CLI did not start as an unprivileged user")
    if status != "works":
        pytest.skip(f"{backend} unavailable to uid {NOBODY}: {status}")


def _script(mode: str) -> tuple[str, list[str]]:
    skip_external = external_reachable() is not None
    chosen = [a for a in ATTACKS if mode in a.modes and not (a.external and skip_external)]
    return "".join(a.wrapped() for a in chosen) + "exit 0\n", [a.name for a in chosen]


@pytest.mark.parametrize("mode", ["read-only", "workspace-write"])
@pytest.mark.parametrize("backend", ["bwrap", "landlock"])
def test_attacks_blocked_for_an_unprivileged_user(nobody_arena: Arena, backend: str, mode: str) -> None:
    _require(nobody_arena, backend)
    script, names = _script(mode)
    proc = as_nobody(nobody_arena, "sandbox", "run", *CLI_ALLOW, "--backend", backend, "--mode", mode, "-C",
                     str(nobody_arena.ws), "--", "bash", "-c", script)
    assert proc.returncode == 0, proc.stderr
    landlock_gap = backend == "landlock" and mode == "workspace-write"
    escaped = [a.name for a in ATTACKS if a.name in names and not (a.git_metadata and landlock_gap)
               and a.escaped(nobody_arena, proc.stdout)]
    assert escaped == [], f"escaped {backend}/{mode} as uid {NOBODY}: {escaped}\n{proc.stdout}"


def test_control_attacks_work_for_the_unprivileged_user_unconfined(nobody_arena: Arena) -> None:
    script, names = _script("read-only")
    proc = as_nobody(nobody_arena, "sandbox", "run", *CLI_ALLOW, "--mode", "danger-full-access", "-C",
                     str(nobody_arena.ws), "--", "bash", "-c", script)
    assert proc.returncode == 0, proc.stderr
    expected = [a.name for a in ATTACKS if a.name in names and a.control and a.name not in ROOT_ONLY]
    worked = [a.name for a in ATTACKS if a.name in expected and a.escaped(nobody_arena, proc.stdout)]
    assert worked == expected, proc.stdout


@pytest.mark.parametrize("backend", ["bwrap", "landlock"])
def test_legitimate_work_as_an_unprivileged_user(nobody_arena: Arena, backend: str) -> None:
    _require(nobody_arena, backend)
    script = "mkdir -p build && echo ok > build/out.txt && git status --porcelain && f=$(mktemp) && echo t > \"$f\""
    proc = as_nobody(nobody_arena, "sandbox", "run", *CLI_ALLOW, "--backend", backend, "-C", str(nobody_arena.ws), "--",
                     "bash", "-c", script)
    assert proc.returncode == 0, proc.stderr
    assert (nobody_arena.ws / "build" / "out.txt").read_text() == "ok\n"
    assert "?? build/" in proc.stdout
    assert git(nobody_arena.ws, "rev-parse", "HEAD") == nobody_arena.git_head
