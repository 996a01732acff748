"""``sandbox.writable_roots``: in ``workspace-write`` the configured extra directories are writable (and nothing
beside them); ``read-only`` ignores them. Checked on the real filesystem for each backend that works here."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from orchestrator.core.contracts import ExecResult, SandboxMode, SandboxPolicy
from policies.sandbox import SandboxRunner
from tests.sandbox.sandbox_support import ARENA_VARS, Arena, require_backend

pytestmark = pytest.mark.sandbox


def _run(arena: Arena, backend: str, mode: SandboxMode, script: str, roots: tuple[Path, ...]) -> ExecResult:
    policy = SandboxPolicy(mode=mode, workspace=arena.ws, writable_roots=roots, env_allow=ARENA_VARS)
    return asyncio.run(SandboxRunner(backends=[backend]).run(["bash", "-c", script], policy=policy, cwd=arena.ws,
                                                             env=arena.env(), timeout_s=60))


@pytest.mark.parametrize("backend", ["bwrap", "landlock"])
def test_extra_writable_root_is_writable_in_workspace_write_only(arena: Arena, backend: str) -> None:
    require_backend(backend)
    extra = arena.out / "cache"
    extra.mkdir()
    script = 'echo cached > "$OUT/cache/item"; echo beside > "$OUT/beside.txt"; true'
    result = _run(arena, backend, "workspace-write", script, (extra,))
    assert result.exit_code == 0, result.output
    assert (extra / "item").read_text() == "cached\n"
    assert not (arena.out / "beside.txt").exists(), "a sibling of the writable root was writable"
    (extra / "item").unlink()
    _run(arena, backend, "read-only", script, (extra,))
    assert not (extra / "item").exists(), "read-only honoured writable_roots"
