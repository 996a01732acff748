"""Composition from configuration: the runner and the per-workspace policy (the pinned interface)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from orchestrator.core.contracts import SandboxPolicy
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings
from policies.sandbox.limits import Limits
from policies.sandbox.probe import BACKENDS
from policies.sandbox.runner import SandboxRunner

__all__ = ["build_sandbox", "limits_for", "policy_for"]


def build_sandbox(
    settings: Settings,
    *,
    backends: Sequence[str] | None = None,
    on_warning: Callable[[str], None] | None = None,
    home: Home | None = None,
) -> SandboxRunner:
    """The ``seams.Sandbox`` for ``settings``: ``sandbox.backend`` ``"auto"`` prefers bubblewrap then Landlock; a named
    backend is the only one allowed. ``backends`` overrides that (``[]``: none, to exercise the refusal).

    Besides ``sandbox.hide_paths``, ``home``'s (default: ``$ORCHESTRATE_HOME``'s) ``sessions/`` is always hidden:
    other sessions' transcripts and stagings. A command whose workspace is a staging under it still sees that
    staging (the runner re-exposes the paths a command works in)."""
    if backends is None:
        configured = settings.sandbox.backend
        backends = BACKENDS if configured == "auto" else (configured,)
    sessions = (home or Home.from_env()).sessions_dir
    return SandboxRunner(backends=backends, on_warning=on_warning, hide_paths=(*settings.sandbox.hide_paths, sessions),
                         limits=limits_for(settings))


def limits_for(settings: Settings) -> Limits:
    """The ``[sandbox]`` resource limits."""
    sandbox = settings.sandbox
    return Limits(max_processes=sandbox.max_processes, max_memory_mb=sandbox.max_memory_mb,
                  tmpfs_size_mb=sandbox.tmpfs_size_mb)


def policy_for(settings: Settings, workspace: Path) -> SandboxPolicy:
    """How commands working on ``workspace`` are confined under ``settings`` (paths resolved, ``~`` expanded)."""
    return SandboxPolicy(
        mode=settings.sandbox_mode,
        workspace=workspace.expanduser().resolve(),
        writable_roots=tuple(Path(p).expanduser().resolve() for p in settings.sandbox.writable_roots),
        network=settings.sandbox.network,
        protect_git=settings.sandbox.protect_git,
        allow_unconfined=settings.sandbox.allow_unconfined,
        env_allow=settings.sandbox.env_allow,
        env_deny=settings.sandbox.env_deny,
    )
