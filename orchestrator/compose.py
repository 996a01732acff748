"""Composition in one place: the real object graph of a run, built from the loaded configuration.

Model gateway, policy gate, approver, sandbox, memory, command runner, planner and step pipeline are created here and
nowhere else; everything else receives them through constructors. The other packages are imported lazily, inside
:func:`build_collaborators`, so importing the engine stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.events import EventSink, UsageReported
from orchestrator.home import Home
from orchestrator.seams import Role, Usage

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.config import LoadedConfig

__all__ = ["build_collaborators", "usage_reporter"]


def usage_reporter(events: EventSink) -> Any:
    """The gateway's ``on_usage`` callback: one ``usage`` event per model call."""

    from orchestrator.session import CURRENT_STEP

    def on_usage(role: Role, model: str, usage: Usage) -> None:
        events.emit(UsageReported(role=role, model=model, prompt_tokens=usage.prompt_tokens,
                                  completion_tokens=usage.completion_tokens, cost_usd=usage.cost_usd,
                                  step_id=CURRENT_STEP.get()))

    return on_usage


def build_collaborators(loaded: LoadedConfig, *, cwd: Path, interactive: bool, console: Console | None,
                        events: EventSink, environ: Mapping[str, str]) -> dict[str, Any]:
    """Keyword arguments for :class:`orchestrator.api.Orchestrator` (all but ``events``), built from ``loaded``."""
    from agents.pipeline import StepDeps, run_step
    from agents.planner import make_plan
    from memory import build_memory
    from orchestrator.commands import CommandRunner
    from orchestrator.gateway import ModelGateway
    from policies.gate import build_gate
    from policies.sandbox import build_sandbox, policy_for

    settings = loaded.settings
    home = Home.from_env(environ)
    gateway = ModelGateway(settings, environ=environ, on_usage=usage_reporter(events))
    memory = build_memory(settings, home)
    from orchestrator.resume import SessionApprovals

    # The gate as the session sees it: "allow for this session" is stored in the session and restored on resume.
    gate = SessionApprovals(build_gate(settings, home=home, cwd=cwd, project_root=loaded.project_root,
                                       trusted=loaded.trust_level == "trusted"))
    commands = CommandRunner(gate=gate, approver=_approver(interactive, console), sandbox=build_sandbox(settings),
                             settings=settings, events=events, policy_for=policy_for)
    deps = StepDeps(settings=settings, gateway=gateway, commands=commands, memory=memory, events=events, cwd=cwd)
    parts: dict[str, Any] = {
        "settings": settings, "cwd": cwd, "home": home, "gateway": gateway, "memory": memory,
        "planner": make_plan, "run_step": run_step, "deps": deps, "approvals": gate,
    }
    if interactive and console is not None:
        from orchestrator.console import ConsoleReviewer, LiveView

        user_sink = getattr(events, "user", None)
        reviewer = ConsoleReviewer(console, user_sink if isinstance(user_sink, LiveView) else None)
        parts["plan_reviewer"] = reviewer
        if settings.review.user_approves_diff and settings.approval_policy != "never":
            parts["diff_reviewer"] = reviewer
    return parts


def _approver(interactive: bool, console: Console | None) -> Any:
    from policies.approval import ConsoleApprover, NonInteractiveApprover

    if interactive:
        return ConsoleApprover(console) if console is not None else ConsoleApprover()
    return NonInteractiveApprover()
