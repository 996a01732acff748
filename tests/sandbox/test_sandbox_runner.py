"""The runner's contract: fail closed, warn when unconfined, timeouts kill the group, bounded output, stdin, config."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from orchestrator.core.contracts import ExecResult, SandboxMode, SandboxPolicy
from orchestrator.core.errors import InputError, SandboxUnavailableError
from orchestrator.settings.schema import SandboxConfig, Settings
from policies.sandbox import SandboxRunner, build_sandbox, policy_for
from tests.sandbox.sandbox_support import require_backend

BACKENDS = ("bwrap", "landlock")


def _run(runner: SandboxRunner, argv: list[str], ws: Path, mode: SandboxMode = "workspace-write", *,
         timeout_s: float | None = 30, stdin: bytes | None = None, **policy: object) -> ExecResult:
    sandbox_policy = SandboxPolicy(mode=mode, workspace=ws, **policy)  # type: ignore[arg-type]
    return asyncio.run(runner.run(argv, policy=sandbox_policy, cwd=ws, timeout_s=timeout_s, stdin=stdin))


def test_no_backend_refuses_with_a_fix(tmp_path: Path) -> None:
    sandbox = build_sandbox(Settings(), backends=[])
    policy = policy_for(Settings(), tmp_path)
    with pytest.raises(SandboxUnavailableError) as err:
        asyncio.run(sandbox.run(["true"], policy=policy, cwd=tmp_path))
    assert "cannot confine" in str(err.value) and "bubblewrap" in str(err.value)
    assert "apparmor_restrict_unprivileged_userns" in str(err.value)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("mode", ["read-only", "workspace-write"])
def test_allow_unconfined_runs_and_warns_on_every_command(tmp_path: Path, mode: SandboxMode) -> None:
    warnings: list[str] = []
    runner = SandboxRunner(backends=[], on_warning=warnings.append)
    for _ in range(2):
        result = _run(runner, ["sh", "-c", "echo hi > made.txt"], tmp_path, mode, allow_unconfined=True)
        assert result.exit_code == 0 and result.sandbox == "none"
    assert len(warnings) == 2 and all("UNCONFINED" in w for w in warnings)
    assert (tmp_path / "made.txt").read_text() == "hi\n"


def test_danger_full_access_needs_no_backend_and_says_none(tmp_path: Path) -> None:
    warnings: list[str] = []
    result = _run(SandboxRunner(backends=[], on_warning=warnings.append), ["true"], tmp_path, "danger-full-access")
    assert (result.exit_code, result.sandbox, warnings) == (0, "none", [])


def test_runner_is_a_sandbox_and_settings_flow_into_the_policy(tmp_path: Path) -> None:
    settings = Settings(sandbox_mode="read-only", sandbox=SandboxConfig(
        network=True, writable_roots=("~/x",), protect_git=False, env_allow=("GH_TOKEN",), backend="landlock"))
    runner = build_sandbox(settings)
    assert runner.backends == ("landlock",)
    assert build_sandbox(Settings()).backends == ("bwrap", "landlock")
    policy = policy_for(settings, tmp_path)
    assert policy.mode == "read-only" and policy.network and not policy.protect_git
    assert policy.workspace == tmp_path.resolve()
    assert policy.writable_roots == (Path("~/x").expanduser().resolve(),)
    assert policy.env_allow == ("GH_TOKEN",)


def test_unknown_backend_and_missing_cwd_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        SandboxRunner(backends=["chroot"])
    with pytest.raises(InputError):
        _run(SandboxRunner(backends=[]), ["true"], tmp_path / "missing", "danger-full-access")


@pytest.mark.parametrize("backend", [*BACKENDS, None])
def test_timeout_kills_the_whole_process_group(tmp_path: Path, backend: str | None) -> None:
    if backend:
        require_backend(backend)
    runner = SandboxRunner(backends=[backend] if backend else [])
    mode: SandboxMode = "workspace-write" if backend else "danger-full-access"
    # The background sleep keeps the output pipe open: it must die with the group, or the run would hang.
    marker = f"{60 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"
    detached = f"(setsid sleep {marker} >/dev/null 2>&1 &); " if backend else ""  # unconfined: no tree to end
    script = f"sleep {marker} & {detached}echo started; sleep {marker}"
    result = _run(runner, ["sh", "-c", script], tmp_path, mode, timeout_s=1)
    assert result.timed_out and result.exit_code == 124 and "started" in result.output
    assert _survivors(f"sleep\0{marker}") == []


def _survivors(marker: str) -> list[int]:
    """Host pids of processes whose command line holds ``marker``, once SIGKILLs in flight have landed (pids inside
    a sandbox's pid namespace mean nothing out here: look them up by command line)."""
    deadline = time.monotonic() + 20
    found: list[int] = []
    while time.monotonic() < deadline:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes().decode(errors="replace") \
                        and (entry / "stat").read_text().split(")")[1].split()[0] not in ("Z", "X"):
                    found.append(int(entry.name))
            except OSError:
                continue
        if not found:
            return found
        time.sleep(0.01)
    return found


@pytest.mark.parametrize("backend", [*BACKENDS, None])
@pytest.mark.parametrize("detach", ["", "setsid "])
def test_background_child_does_not_outlive_the_command(tmp_path: Path, backend: str | None, detach: str) -> None:
    """Also a child that left the process group and session (``setsid``): the whole tree ends with the command."""
    if backend:
        require_backend(backend)
    elif detach:
        pytest.skip("unconfined, a detached child is out of reach (documented)")
    mode: SandboxMode = "workspace-write" if backend else "danger-full-access"
    marker = f"{60 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"
    script = f"({detach}sleep {marker} >/dev/null 2>&1 &); echo done"
    result = _run(SandboxRunner(backends=[backend] if backend else []), ["sh", "-c", script], tmp_path, mode)
    assert result.exit_code == 0 and "done" in result.output
    assert _survivors(f"sleep\0{marker}") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_output_is_bounded_head_and_tail(tmp_path: Path, backend: str) -> None:
    require_backend(backend)
    runner = SandboxRunner(backends=[backend], max_output_bytes=1000)
    script = "echo FIRST; head -c 100000 /dev/zero | tr '\\0' a; echo; echo LAST"
    result = _run(runner, ["sh", "-c", script], tmp_path)
    assert result.exit_code == 0
    assert result.output.startswith("FIRST") and result.output.rstrip().endswith("LAST")
    assert "bytes omitted" in result.output and len(result.output) < 1100


@pytest.mark.parametrize("backend", BACKENDS)
def test_stdin_exit_status_and_missing_command(tmp_path: Path, backend: str) -> None:
    require_backend(backend)
    runner = SandboxRunner(backends=[backend])
    echoed = _run(runner, ["sh", "-c", "cat; exit 7"], tmp_path, stdin=b"from stdin\n")
    assert (echoed.exit_code, echoed.output, echoed.denied) == (7, "from stdin\n", False)
    missing = _run(runner, ["no-such-command-xyz"], tmp_path)
    assert missing.exit_code == 127 and not missing.denied
    killed = _run(runner, ["sh", "-c", "kill -TERM $$"], tmp_path)
    assert killed.exit_code == 128 + 15


def test_scrubbed_environment_reaches_the_command(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "OPENAI_API_KEY": "k", "MY_TOKEN": "t", "GH_TOKEN": "g", "CORP_X": "c",
           "HOME": "/root", "LANG": "C"}
    runner = SandboxRunner(backends=[])
    policy = SandboxPolicy(mode="danger-full-access", workspace=tmp_path, env_allow=("GH_TOKEN",),
                           env_deny=("CORP_*",))
    result = asyncio.run(runner.run(["env"], policy=policy, cwd=tmp_path, env=env))
    names = {line.split("=", 1)[0] for line in result.output.splitlines()}
    assert {"PATH", "HOME", "LANG", "GH_TOKEN"} <= names
    assert not names & {"OPENAI_API_KEY", "MY_TOKEN", "CORP_X"}
