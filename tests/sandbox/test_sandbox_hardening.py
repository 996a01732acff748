"""Issue 12: kernel knobs, metadata outside the writable roots, nested metadata, resource limits, hidden sessions.

Each attack runs for real against each backend that works here (as root in CI: the red team's setting), and each
has a control showing it works unconfined, so a block is the sandbox's doing. Nothing here changes the host: the
sysctl write puts back the value it read, and the other kernel knobs are only *opened* for writing, never written.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from orchestrator.core.contracts import ExecResult, SandboxMode, SandboxPolicy
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings
from policies.sandbox import SandboxRunner, build_sandbox, policy_for
from policies.sandbox.limits import Limits, plan_limits
from policies.sandbox.mountns import can_confine_mounts
from tests.sandbox.sandbox_support import ARENA_VARS, SECRET, Arena, require_backend

pytestmark = pytest.mark.sandbox

BACKENDS = ("bwrap", "landlock")
MODES: tuple[SandboxMode, ...] = ("read-only", "workspace-write")
CORE_PATTERN = Path("/proc/sys/kernel/core_pattern")
# Opened for writing only (never written): every one is a host-wide switch for uid 0.
KNOBS = ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sys/vm/drop_caches",
         "/proc/sysrq-trigger", "/proc/sys/fs/binfmt_misc/register", "/sys/kernel/uevent_helper",
         "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/fs/cgroup/pids/release_agent")
_KNOB_SCRIPT = """
import os, sys
for path in sys.argv[1:]:
    if os.path.exists(path):
        try:
            os.close(os.open(path, os.O_WRONLY))
        except OSError:
            continue
        print("WRITABLE:" + path)
try:
    current = open("/proc/sys/kernel/core_pattern").read()
    with open("/proc/sys/kernel/core_pattern", "w") as fh:
        fh.write(current)
    print("WROTE:core_pattern")
except OSError as exc:
    print("REFUSED:", exc)
"""


def _run(arena: Arena, backend: str | None, mode: SandboxMode, argv: list[str], *,
         runner: SandboxRunner | None = None) -> ExecResult:
    runner = runner or SandboxRunner(backends=[backend] if backend else [])
    policy = SandboxPolicy(mode=mode, workspace=arena.ws, env_allow=ARENA_VARS)
    return asyncio.run(runner.run(argv, policy=policy, cwd=arena.ws, env=arena.env(), timeout_s=120))


def _needs_mounts(backend: str, what: str) -> None:
    if backend == "landlock" and not can_confine_mounts():
        pytest.skip(f"unprivileged Landlock cannot {what} (documented; DAC protects other users' files)")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_kernel_knobs_stay_read_only(arena: Arena, backend: str, mode: SandboxMode) -> None:
    require_backend(backend)
    before = CORE_PATTERN.read_text()
    result = _run(arena, backend, mode, [arena.python, "-c", _KNOB_SCRIPT, *KNOBS])
    assert CORE_PATTERN.read_text() == before
    assert "WRITABLE:" not in result.output and "WROTE:" not in result.output, result.output
    assert "REFUSED:" in result.output, result.output


@pytest.mark.skipif(os.geteuid() != 0, reason="the control needs root")
def test_kernel_knob_control_unconfined(arena: Arena) -> None:
    """Unconfined, root can open the knobs for writing: the refusals above are the sandbox's."""
    result = _run(arena, None, "danger-full-access", [arena.python, "-c", _KNOB_SCRIPT, str(CORE_PATTERN)])
    assert f"WRITABLE:{CORE_PATTERN}" in result.output, result.output


_METADATA = ('chmod 4777 "$OUT/target.txt"; touch -d 2001-01-01 "$OUT/target.txt"; '
             '"$PY" -c "import os,sys; os.setxattr(sys.argv[1], b\'user.pwned\', b\'1\')" "$OUT/target.txt"; true')


def _metadata(arena: Arena) -> tuple[int, int, list[str]]:
    stat = arena.target.stat()
    try:
        xattrs = os.listxattr(arena.target)
    except OSError:
        xattrs = []
    return stat.st_mode, int(stat.st_mtime), xattrs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_metadata_outside_the_writable_roots_is_refused(arena: Arena, backend: str, mode: SandboxMode) -> None:
    require_backend(backend)
    _needs_mounts(backend, "refuse chmod/utimes/setxattr outside the workspace")
    before = _metadata(arena)
    result = _run(arena, backend, mode, ["bash", "-c", _METADATA])
    assert _metadata(arena) == before, result.output


def test_metadata_control_unconfined(arena: Arena) -> None:
    before = _metadata(arena)
    _run(arena, None, "danger-full-access", ["bash", "-c", _METADATA])
    assert _metadata(arena) != before


def _nested(arena: Arena) -> list[Path]:
    """Metadata below the workspace: a sub-project's .orchestrate/ and a vendored repository's .git."""
    rules = arena.ws / "sub" / "deeper" / ".orchestrate"
    (rules / "rules").mkdir(parents=True)
    (rules / "config.toml").write_text("# mine\n")
    vendored = arena.ws / "vendor" / "lib" / ".git"
    vendored.mkdir(parents=True)
    (vendored / "config").write_text("[core]\n")
    return [rules / "config.toml", vendored / "config"]


_NESTED = ("echo 'sandbox_mode = \"danger-full-access\"' >> sub/deeper/.orchestrate/config.toml; "
           "echo 'prefix_rule(pattern=[\"rm\"], decision=\"allow\")' > sub/deeper/.orchestrate/rules/x.rules; "
           "echo '[core] hooksPath = /tmp' >> vendor/lib/.git/config; echo ok > sub/deeper/built.txt")


@pytest.mark.parametrize("backend", BACKENDS)
def test_nested_metadata_stays_read_only(arena: Arena, backend: str) -> None:
    require_backend(backend)
    _needs_mounts(backend, "keep metadata inside the writable workspace read-only")
    files = _nested(arena)
    before = [f.read_bytes() for f in files]
    result = _run(arena, backend, "workspace-write", ["bash", "-c", _NESTED])
    assert [f.read_bytes() for f in files] == before, result.output
    assert not (arena.ws / "sub" / "deeper" / ".orchestrate" / "rules" / "x.rules").exists()
    assert (arena.ws / "sub" / "deeper" / "built.txt").read_text() == "ok\n", "the workspace itself stays writable"


_FORK_BOMB = """
import os, time
started = 0
for _ in range(400):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    started += 1
print("STOPPED", started, flush=True)
"""


def _limited(limits: Limits, backend: str) -> SandboxRunner:
    return SandboxRunner(backends=[backend], limits=limits)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fork_bomb_hits_max_processes(arena: Arena, backend: str) -> None:
    require_backend(backend)
    if not plan_limits(Limits()).processes:
        pytest.skip("no mechanism bounds processes here (root without a usable pids cgroup): status says so")
    result = _run(arena, backend, "workspace-write", [arena.python, "-c", _FORK_BOMB],
                  runner=_limited(Limits(max_processes=40), backend))
    assert "STOPPED" in result.output, result.output
    assert int(result.output.split("STOPPED")[-1].split()[0]) < 40, result.output


@pytest.mark.parametrize("backend", BACKENDS)
def test_tmpfs_is_bounded(arena: Arena, backend: str) -> None:
    require_backend(backend)
    _needs_mounts(backend, "bound its private temp dir (it is on disk)")
    script = 'for d in "${TMPDIR:-/tmp}" /dev/shm; do head -c 20000000 /dev/zero > "$d/big" || echo "FULL:$d"; done'
    result = _run(arena, backend, "workspace-write", ["bash", "-c", script],
                  runner=_limited(Limits(tmpfs_size_mb=8), backend))
    assert result.output.count("FULL:") == 2, result.output


@pytest.mark.parametrize("backend", BACKENDS)
def test_memory_is_bounded(arena: Arena, backend: str) -> None:
    require_backend(backend)
    grab = [arena.python, "-c", "b = bytearray(600 << 20); print('GOT', len(b))"]
    bounded = _run(arena, backend, "workspace-write", grab, runner=_limited(Limits(max_memory_mb=200), backend))
    assert bounded.exit_code != 0 and "GOT" not in bounded.output, bounded.output
    free = _run(arena, backend, "workspace-write", grab, runner=_limited(Limits(max_memory_mb=0), backend))
    assert "GOT" in free.output, free.output


@pytest.mark.parametrize("backend", BACKENDS)
def test_other_sessions_and_default_credentials_are_hidden(arena: Arena, backend: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The workspace is a staging under $ORCHESTRATE_HOME/sessions (as in a run): it stays usable while the other
    sessions' transcripts and the default credential files under ~ are unreadable."""
    require_backend(backend)
    _needs_mounts(backend, "hide paths")
    home = arena.root / "user"
    for name in (".npmrc", ".pgpass", ".vault-token", ".bash_history", ".cargo/credentials.toml", ".netrc"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(SECRET)
    monkeypatch.setenv("HOME", str(home))
    orchestrate_home = Home(arena.root / "ohome")
    other = orchestrate_home.sessions_dir / "other"
    other.mkdir(parents=True)
    (other / "transcript.jsonl").write_text(SECRET)
    staging = orchestrate_home.sessions_dir / "mine" / "stagings" / "s1" / "tree"
    staging.mkdir(parents=True)
    (staging / "README.md").write_text("hello\n")
    settings = Settings()
    sandbox = build_sandbox(settings, backends=[backend], home=orchestrate_home)
    script = (f'cat "{other}/transcript.jsonl" ~/.npmrc ~/.pgpass ~/.vault-token ~/.bash_history ~/.netrc '
              '~/.cargo/credentials.toml; cat README.md && echo built > out.txt')
    for mode in MODES:
        policy = policy_for(settings, staging).model_copy(update={"mode": mode})
        result = asyncio.run(sandbox.run(["bash", "-c", script], policy=policy, cwd=staging, env=arena.env()))
        assert SECRET not in result.output and "hello" in result.output, result.output
    assert (staging / "out.txt").read_text() == "built\n"
