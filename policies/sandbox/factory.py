"""Composition from configuration: the runner and the per-workspace policy (the pinned interface)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from orchestrator.config_schema import Settings
from orchestrator.seams import SandboxPolicy
from policies.sandbox.probe import BACKENDS
from policies.sandbox.runner import SandboxRunner

__all__ = ["build_sandbox", "policy_for"]


def build_sandbox(
    settings: Settings,
    *,
    backends: Sequence[str] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> SandboxRunner:
    """The ``seams.Sandbox`` for ``settings``: ``sandbox.backend`` ``"auto"`` prefers bubblewrap then Landlock; a named
    backend is the only one allowed. ``backends`` overrides that (``[]``: none, to exercise the refusal)."""
    if backends is None:
        configured = settings.sandbox.backend
        backends = BACKENDS if configured == "auto" else (configured,)
    return SandboxRunner(backends=backends, on_warning=on_warning, hide_paths=settings.sandbox.hide_paths)


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
