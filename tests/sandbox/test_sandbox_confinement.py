"""Every escape attempt is blocked in every mode that should block it, for each backend; legitimate work succeeds.

Runs as whoever runs the suite (root here and in CI); ``test_sandbox_unprivileged.py`` repeats the attempts as an
unprivileged user through the CLI.
"""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
from pathlib import Path

import pytest

from orchestrator.core.contracts import ExecResult, SandboxMode, SandboxPolicy
from orchestrator.settings.schema import SandboxConfig, Settings
from policies.sandbox import SandboxRunner, build_sandbox, policy_for
from policies.sandbox.mountns import can_confine_mounts
from tests.sandbox.sandbox_support import (
    ARENA_VARS,
    ATTACKS,
    SECRET,
    Arena,
    Attack,
    external_reachable,
    git,
    make_repo,
    require_backend,
)

pytestmark = pytest.mark.sandbox

BACKENDS = ("bwrap", "landlock")
CONFINING: tuple[SandboxMode, ...] = ("read-only", "workspace-write")


@functools.cache
def _external_problem() -> str | None:
    return external_reachable()


def run(arena: Arena, backend: str | None, mode: SandboxMode, script: str, *, cwd: Path | None = None,
        warnings: list[str] | None = None, **policy: object) -> ExecResult:
    runner = SandboxRunner(backends=[backend] if backend else [],
                           on_warning=warnings.append if warnings is not None else None)
    policy.setdefault("env_allow", ARENA_VARS)
    sandbox_policy = SandboxPolicy(mode=mode, workspace=arena.ws, **policy)  # type: ignore[arg-type]
    return asyncio.run(runner.run(["bash", "-c", script], policy=sandbox_policy, cwd=cwd or arena.ws,
                                  env=arena.env(), timeout_s=60))


def _skip_unless_applies(attack: Attack, backend: str, mode: str) -> None:
    if mode not in attack.modes:
        pytest.skip(f"{attack.name} is allowed in {mode}")
    if attack.git_metadata and backend == "landlock" and mode == "workspace-write" and not can_confine_mounts():
        pytest.skip("unprivileged Landlock cannot keep .git/.orchestrate read-only in a workspace (documented)")
    if attack.external and _external_problem():
        pytest.skip(str(_external_problem()))


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
@pytest.mark.parametrize("mode", CONFINING)
@pytest.mark.parametrize("backend", BACKENDS)
def test_attack_is_blocked(arena: Arena, backend: str, mode: SandboxMode, attack: Attack) -> None:
    require_backend(backend)
    _skip_unless_applies(attack, backend, mode)
    result = run(arena, backend, mode, attack.wrapped())
    assert result.sandbox == backend
    assert not attack.escaped(arena, result.output), f"{attack.name} escaped {backend}/{mode}: {result.output}"


@pytest.mark.parametrize("attack", [a for a in ATTACKS if "danger-full-access" in a.modes], ids=lambda a: a.name)
def test_secrets_are_scrubbed_even_unconfined(arena: Arena, attack: Attack) -> None:
    result = run(arena, None, "danger-full-access", attack.wrapped())
    assert result.sandbox == "none"
    assert not attack.escaped(arena, result.output)


@pytest.mark.skipif(os.geteuid() != 0, reason="the controls need root (mknod, remount, ptrace of any process)")
@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.control], ids=lambda a: a.name)
def test_attack_works_unconfined(arena: Arena, attack: Attack) -> None:
    """The control: without confinement each attempt succeeds, so the blocked runs above prove the sandbox."""
    if attack.external and _external_problem():
        pytest.skip(str(_external_problem()))
    result = run(arena, None, "danger-full-access", attack.wrapped())
    assert attack.escaped(arena, result.output), f"{attack.name} does not work even unconfined: {result.output}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_network_flag_allows_loopback(arena: Arena, backend: str) -> None:
    require_backend(backend)
    attack = next(a for a in ATTACKS if a.name == "tcp_loopback")
    result = run(arena, backend, "workspace-write", attack.wrapped(), network=True)
    assert attack.escaped(arena, result.output), result.output


@pytest.mark.parametrize("backend", BACKENDS)
def test_denials_are_reported_as_denials(arena: Arena, backend: str) -> None:
    require_backend(backend)
    write = run(arena, backend, "workspace-write", 'echo x > "$OUT/denied.txt"')
    assert write.exit_code != 0 and write.denied and write.denial_reason
    network = run(arena, backend, "workspace-write", '"$PY" -c "import socket; socket.create_connection('
                  "('127.0.0.1', int(__import__('os').environ['TCP_PORT'])))\"")
    assert network.denied, network.output
    failure = run(arena, backend, "workspace-write", "echo 'tests failed' >&2; exit 3")
    assert (failure.exit_code, failure.denied, failure.denial_reason) == (3, False, None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_workspace_write_builds_and_tests(arena: Arena, backend: str) -> None:
    require_backend(backend)
    (arena.ws / "test_sample.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    script = ('mkdir -p build && echo "print(6 * 7)" > build/gen.py && "$PY" build/gen.py > build/out.txt && '
              '"$PY" -m pytest -q -p no:cacheprovider test_sample.py && git status --porcelain && '
              'f=$(mktemp) && echo scratch > "$f" && cat "$f"')
    result = run(arena, backend, "workspace-write", script)
    assert result.exit_code == 0, result.output
    assert (arena.ws / "build" / "out.txt").read_text() == "42\n"
    assert "1 passed" in result.output and "?? build/" in result.output and "scratch" in result.output
    assert not result.denied


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_only_reads_but_writes_only_private_tmp(arena: Arena, backend: str) -> None:
    require_backend(backend)
    (arena.ws / "test_sample.py").write_text("def test_ok():\n    pass\n")
    marker = f"/tmp/orchestrate-private-{os.getpid()}"
    script = (f'"$PY" -m pytest -q -p no:cacheprovider test_sample.py && git status --porcelain && '
              f'f=$(mktemp) && echo scratch > "$f" && cat "$f" && (echo x > {marker} || true) && '
              '(echo x > new-file.txt || echo BLOCKED)')
    result = run(arena, backend, "read-only", script)
    assert result.exit_code == 0, result.output
    assert "1 passed" in result.output and "scratch" in result.output and "BLOCKED" in result.output
    assert not (arena.ws / "new-file.txt").exists()
    assert not Path(marker).exists(), "read-only wrote the real /tmp"


@pytest.mark.parametrize("backend", BACKENDS)
def test_protect_git_false_lets_commits_through(arena: Arena, backend: str) -> None:
    require_backend(backend)
    script = "git -c user.name=x -c user.email=x@x commit -q --allow-empty -m allowed"
    result = run(arena, backend, "workspace-write", script, protect_git=False)
    assert result.exit_code == 0, result.output
    assert git(arena.ws, "log", "-1", "--format=%s") == "allowed"


@pytest.mark.parametrize("backend", BACKENDS)
def test_worktree_under_tmp_works_and_its_git_dir_is_protected(arena: Arena, backend: str, tmp_path: Path) -> None:
    """A repository and its staging worktree both under /tmp (hidden by bubblewrap's private /tmp unless bound
    again): git works in the worktree, and its git dir and the common dir (outside the workspace) stay read-only."""
    require_backend(backend)
    repo, worktree = tmp_path / "repo", (tmp_path / "wt").resolve()
    make_repo(repo)
    git(repo, "worktree", "add", "-q", str(worktree))
    head = git(worktree, "rev-parse", "HEAD")
    script = ("echo change >> README.md && git -c safe.directory='*' status --porcelain && "
              "(git -c safe.directory='*' -c user.name=x -c user.email=x@x commit -qam pwned || echo COMMIT-BLOCKED)")
    runner = SandboxRunner(backends=[backend])
    result = asyncio.run(runner.run(["bash", "-c", script], cwd=worktree, env=arena.env(), timeout_s=60,
                                    policy=SandboxPolicy(mode="workspace-write", workspace=worktree,
                                                         env_allow=ARENA_VARS)))
    assert result.exit_code == 0, result.output
    assert " M README.md" in result.output and "COMMIT-BLOCKED" in result.output
    assert git(worktree, "rev-parse", "HEAD") == head
    assert "change" in (worktree / "README.md").read_text()


def test_landlock_says_when_git_is_not_protected(arena: Arena) -> None:
    """Unprivileged, Landlock cannot protect .git in the workspace and says so; as root its mount namespace does."""
    require_backend("landlock")
    warnings: list[str] = []
    run(arena, "landlock", "workspace-write", "true", warnings=warnings)
    said = any("cannot keep" in w and ".git" in w for w in warnings)
    assert said != can_confine_mounts(), warnings



def test_hidden_credential_paths_read_empty_under_bwrap(arena: Arena) -> None:
    require_backend("bwrap")
    creds, token = arena.out / "creds", arena.out / "token.txt"
    creds.mkdir()
    (creds / "key").write_text(SECRET)
    token.write_text(SECRET)
    settings = Settings(sandbox=SandboxConfig(hide_paths=(str(creds), str(token), str(arena.out / "missing"))))
    sandbox = build_sandbox(settings, backends=["bwrap"])
    for mode in CONFINING:
        result = asyncio.run(sandbox.run(["bash", "-c", f'ls -A "{creds}"; cat "{token}" "{creds}/key"; echo x > '
                                         f'"{creds}/new" || echo HIDDEN-RO'], policy=policy_for(settings, arena.ws)
                                         .model_copy(update={"mode": mode}), cwd=arena.ws, env=arena.env()))
        assert SECRET not in result.output and "HIDDEN-RO" in result.output, result.output
    assert (creds / "key").read_text() == SECRET and not (creds / "new").exists()


def test_hidden_paths_inside_and_around_the_workspace(arena: Arena) -> None:
    """A credential dir inside the workspace stays hidden; a hidden tree holding the workspace leaves it usable."""
    require_backend("bwrap")
    inner = arena.ws / "fake-ssh"
    inner.mkdir()
    (inner / "id_ed25519").write_text(SECRET)
    sandbox = SandboxRunner(backends=["bwrap"], hide_paths=[inner, arena.root])
    policy = SandboxPolicy(mode="workspace-write", workspace=arena.ws, env_allow=ARENA_VARS)
    script = 'cat fake-ssh/id_ed25519; cat "$OUT/target.txt"; echo built > built.txt && cat README.md'
    result = asyncio.run(sandbox.run(["bash", "-c", script], policy=policy, cwd=arena.ws, env=arena.env()))
    assert SECRET not in result.output and "original" not in result.output, result.output
    assert "hello" in result.output and (arena.ws / "built.txt").read_text() == "built\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="the remount control needs root")
def test_remount_attempt_works_with_capabilities_kept(arena: Arena) -> None:
    """The control for ``remount`` (which must not run unconfined: it would change the host's mounts): in bubblewrap's
    namespaces *without* ``--cap-drop ALL`` the attempt succeeds and writes outside, so the blocked runs above are
    the capability drop's doing, not a mistyped ``mount``."""
    require_backend("bwrap")
    attack = next(a for a in ATTACKS if a.name == "remount")
    ws = str(arena.ws)
    argv = ["bwrap", "--die-with-parent", "--unshare-user", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/",
            "--dev", "/dev", "--proc", "/proc", "--bind", ws, ws, "--chdir", ws, "bash", "-c", attack.wrapped()]
    proc = subprocess.run(argv, env=arena.env(), capture_output=True, text=True, check=False, timeout=60)
    assert attack.escaped(arena, proc.stdout), proc.stdout + proc.stderr
