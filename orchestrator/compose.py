"""Composition in one place: the real object graph of a run, built from the loaded configuration.

Model gateway, policy gate, approver, sandbox, memory, command runner, planner and step pipeline are created here and
nowhere else; everything else receives them through constructors. The other packages are imported lazily, inside
:func:`build_collaborators`, so importing the engine stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from orchestrator.core.events import EventSink, FanoutSink, UsageReported
from orchestrator.settings.home import Home

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.core.contracts import Memory, StepFailureHandler
    from orchestrator.engine.emitter import CheckSource, GatewayLike
    from orchestrator.engine.resume import SessionApprovals
    from orchestrator.engine.session import DiffReviewer, PlanFn, PlanReviewer, StepFn
    from orchestrator.mcp.session import McpSession
    from orchestrator.models.calls import CallCallback, ModelCall
    from orchestrator.settings.config import CliOverrides, LoadedConfig
    from orchestrator.settings.schema import Settings
    from orchestrator.store.sessions import Store
    from orchestrator.terminal.screen import LiveView

__all__ = [
    "load_config", "open_store", "Collaborators", "build_collaborators", "usage_reporter", "SessionExtras",
]


def load_config(*, cwd: Path, cli: CliOverrides | None = None, home: Home | None = None,
                environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """The effective configuration for a run in ``cwd`` (:func:`orchestrator.settings.config.load_config`, with git
    deciding which nested project config files are committed). Public as :func:`orchestrator.load_config`."""
    from orchestrator.settings.config import load_config as load
    from orchestrator.workspace.gitrun import committed_files

    return load(cwd=cwd, committed=committed_files, cli=cli, home=home, environ=environ)


def open_store(home: Home) -> Store:
    """The sessions of ``home``; removing one also forgets its staging worktrees in the user's repository."""
    from orchestrator.store.sessions import Store
    from orchestrator.workspace.gitrun import remove_session_tree

    return Store(home, remove_tree=remove_session_tree)


class Collaborators(TypedDict):
    """The keyword arguments :class:`orchestrator.api.Orchestrator` takes besides ``events`` (typed, so a missing or
    mistyped collaborator is a type error here, not a surprise at run time)."""

    settings: Settings
    cwd: Path
    home: Home
    gateway: GatewayLike
    memory: Memory
    planner: PlanFn
    run_step: StepFn
    deps: object  # handed back to run_step untouched (agents.pipeline.StepDeps)
    approvals: SessionApprovals
    checks: CheckSource
    plan_reviewer: NotRequired[PlanReviewer]
    diff_reviewer: NotRequired[DiffReviewer]
    failure_handler: NotRequired[StepFailureHandler]


@dataclass
class SessionExtras:
    """What a run's front end needs beyond the Orchestrator's collaborators, filled by :func:`build_collaborators`.

    Whoever passes one in takes over the MCP servers' lifetime (:meth:`orchestrator.api.Orchestrator.from_config`:
    the Orchestrator stops them in ``aclose``).
    """

    notices: tuple[str, ...] = ()  # the policy gate's start-up notices (e.g. rules files skipped), to show once
    mcp: McpSession | None = None  # the session's MCP servers (None: none configured), not started yet


def usage_reporter(events: EventSink) -> CallCallback:
    """The gateway's ``on_call`` callback: one ``usage`` event per paid model call, carrying the step it was made for;
    a :class:`~orchestrator.engine.emitter.SessionEvents` keeps the reply with it (a kept reply given again emits
    nothing: it was recorded, and announced, when it was paid)."""
    from orchestrator.engine.emitter import SessionEvents

    def on_call(call: ModelCall) -> None:
        kept = call.kept
        if kept is not None and kept.replayed:
            return
        usage = call.usage
        event = UsageReported(role=call.role, model=call.model, prompt_tokens=usage.prompt_tokens,
                              completion_tokens=usage.completion_tokens, cost_usd=usage.cost_usd,
                              step_id=call.step_id)
        if isinstance(events, SessionEvents):
            events.emit_usage(event, (kept.key, kept.reply) if kept is not None else None)
        else:
            events.emit(event)

    return on_call


def _planner(make_plan: Any, *, root: Path, limits: Any) -> PlanFn:
    """``make_plan`` post-processing its plans for the session's ``root`` and ``[planner]`` limits
    (agents.plan_fixups: no planner call for a small task that names its files, small plans merged)."""

    async def planner(task: str, **kwargs: Any) -> Any:
        return await make_plan(task, root=root, limits=limits, **kwargs)

    return planner


def build_collaborators(loaded: LoadedConfig, *, cwd: Path, interactive: bool, console: Console | None,
                        events: EventSink, environ: Mapping[str, str],
                        extras: SessionExtras | None = None) -> Collaborators:
    """Keyword arguments for :class:`orchestrator.api.Orchestrator` (all but ``events``), built from ``loaded``.

    With ``extras``, the gate's start-up notices and the session's MCP servers (not started) are filled in there; the
    MCP servers are built only then, because that caller owns their lifetime."""
    from agents.checks import CheckFinder
    from agents.pipeline import StepDeps, run_step
    from agents.planner import make_plan
    from memory import build_memory
    from orchestrator.engine.commands import CommandRunner
    from orchestrator.engine.replay import replaying_resolver
    from orchestrator.models.gateway import ModelGateway
    from orchestrator.workspace.gitrun import committed_files
    from policies.amend import append_allow_rule
    from policies.gate import build_gate
    from policies.sandbox import build_sandbox, policy_for

    settings = loaded.settings
    home = Home.from_env(environ)
    gateway = ModelGateway(settings, environ=environ, on_call=usage_reporter(events),
                           resolve=replaying_resolver(settings, environ, events))  # a paid call is never paid twice
    memory = build_memory(settings, home)
    from orchestrator.engine.resume import SessionApprovals

    # The gate as the session sees it: "allow for this session" is stored in the session and restored on resume.
    policy_gate = build_gate(settings, home=home, cwd=cwd, project_root=loaded.project_root,
                             trusted=loaded.trust_level == "trusted", committed=committed_files)
    gate = SessionApprovals(policy_gate)
    approver = _approver(interactive, console, home=home, project_root=loaded.project_root,
                         screen=_live_view(getattr(events, "user", None)))  # questions take turns on one screen
    commands = CommandRunner(gate=gate, approver=approver, sandbox=build_sandbox(settings),
                             settings=settings, events=events, policy_for=policy_for,
                             persist_rule=append_allow_rule)
    if extras is not None:
        from orchestrator.mcp.session import McpSession

        extras.notices = tuple(policy_gate.notices)
        extras.mcp = McpSession.from_settings(settings, home=home, cwd=cwd, environ=environ, approver=approver,
                                              events=events)
    checks = CheckFinder(cwd, settings, environ=environ)
    deps = StepDeps(settings=settings, gateway=gateway, commands=commands, memory=memory, events=events, cwd=cwd,
                    checks=checks, mcp=extras.mcp if extras is not None else None)
    parts: Collaborators = {
        "settings": settings, "cwd": cwd, "home": home, "gateway": gateway, "memory": memory,
        "planner": _planner(make_plan, root=cwd, limits=settings.planner), "run_step": run_step, "deps": deps,
        "approvals": gate, "checks": checks,
    }
    if interactive and console is not None:
        from orchestrator.terminal.questions import ConsoleReviewer

        reviewer = ConsoleReviewer(console, _live_view(getattr(events, "user", None)))
        parts["plan_reviewer"] = reviewer
        checks.fixer = reviewer  # a check that cannot start: the user may name another command
        if settings.review.user_approves_diff and settings.approval_policy != "never":
            parts["diff_reviewer"] = reviewer
        if callable(getattr(reviewer, "on_step_failed", None)):  # retry / skip / stop at a failed step
            parts["failure_handler"] = cast("StepFailureHandler", reviewer)
    return parts


def _live_view(sink: object) -> LiveView | None:
    """The live view among the caller's sinks (the plan and diff reviews pause its redraws while they ask)."""
    from orchestrator.terminal.screen import LiveView

    if isinstance(sink, LiveView):
        return sink
    if isinstance(sink, FanoutSink):
        return next((view for view in map(_live_view, sink.sinks) if view is not None), None)
    return None


def _approver(interactive: bool, console: Console | None, *, home: Home, project_root: Path,
              screen: LiveView | None = None) -> Any:
    """Who answers approval prompts. "Always allow" appends to the user's or *this project's* rules file, so the
    console approver needs the project root the config was loaded for (not the process cwd)."""
    from orchestrator.terminal.approver import ConsoleApprover
    from policies.approval import NonInteractiveApprover

    if interactive:
        return ConsoleApprover(console, home=home, project_root=project_root, screen=screen)
    return NonInteractiveApprover()
