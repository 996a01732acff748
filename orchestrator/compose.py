"""Composition in one place: the real object graph of a run, built from the loaded configuration.

Model gateway, policy gate, sandbox, memory, command runner, planner and step pipeline are created here and nowhere
else; everything else receives them through constructors. The other packages are imported lazily, inside
:func:`build_collaborators`, so importing the engine stays cheap.

The user interface is not built here: the front end passes its ports in (:class:`~orchestrator.core.ports.UiPorts`:
approver, plan and diff reviewers, failed-step handler, check fixer), and whatever it does not offer gets the
non-interactive default. So compose imports neither the terminal nor rich (an import-linter contract says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from orchestrator.core.events import EventSink, UsageReported
from orchestrator.core.ports import UiPorts
from orchestrator.settings.home import Home

if TYPE_CHECKING:
    from orchestrator.core.contracts import Approver, Memory, StepFailureHandler
    from orchestrator.engine.emitter import CheckSource, GatewayLike
    from orchestrator.engine.resume import SessionApprovals
    from orchestrator.engine.session import DiffReviewer, PlanFn, PlanReviewer, StepFn
    from orchestrator.mcp.session import McpSession
    from orchestrator.models.calls import CallCallback, ModelCall
    from orchestrator.settings.config import CliOverrides, LoadedConfig
    from orchestrator.settings.schema import Settings
    from orchestrator.store.sessions import Store

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


def build_collaborators(loaded: LoadedConfig, *, cwd: Path, events: EventSink, environ: Mapping[str, str],
                        ports: UiPorts | None = None, extras: SessionExtras | None = None) -> Collaborators:
    """Keyword arguments for :class:`orchestrator.api.Orchestrator` (all but ``events``), built from ``loaded``.

    ``ports``: who answers the run's questions (:class:`~orchestrator.core.ports.UiPorts`); each port not given gets
    the non-interactive default (commands needing approval are denied, plans and diffs are not asked about, a failed
    step just fails). With ``extras``, the gate's start-up notices and the session's MCP servers (not started) are
    filled in there; the MCP servers are built only then, because that caller owns their lifetime."""
    from agents import prompts
    from agents.checks import CheckFinder
    from agents.pipeline import StepDeps, run_step
    from agents.planner import make_plan
    from memory import build_memory
    from orchestrator.engine.commands import CommandRunner
    from orchestrator.engine.replay import replaying_resolver
    from orchestrator.engine.resume import SessionApprovals
    from orchestrator.models.gateway import ModelGateway
    from orchestrator.workspace.gitrun import committed_files
    from policies.amend import append_allow_rule
    from policies.gate import build_gate
    from policies.sandbox import build_sandbox, policy_for

    settings = loaded.settings
    ports = ports or UiPorts()
    home = Home.from_env(environ)
    gateway = ModelGateway(settings, reask=prompts.load("structured_reask"), environ=environ,
                           on_call=usage_reporter(events),
                           resolve=replaying_resolver(settings, environ, events))  # a paid call is never paid twice
    memory = build_memory(settings, home)
    # The gate as the session sees it: "allow for this session" is stored in the session and restored on resume.
    policy_gate = build_gate(settings, home=home, cwd=cwd, project_root=loaded.project_root,
                             trusted=loaded.trust_level == "trusted", committed=committed_files)
    gate = SessionApprovals(policy_gate)
    approver = _approver(ports)
    commands = CommandRunner(gate=gate, approver=approver, sandbox=build_sandbox(settings),
                             settings=settings, events=events, policy_for=policy_for,
                             persist_rule=append_allow_rule)
    if extras is not None:
        from orchestrator.mcp.session import McpSession

        extras.notices = tuple(policy_gate.notices)
        extras.mcp = McpSession.from_settings(settings, home=home, cwd=cwd, environ=environ, approver=approver,
                                              events=events)
    checks = CheckFinder(cwd, settings, environ=environ, fixer=ports.check_fixer)
    deps = StepDeps(settings=settings, gateway=gateway, commands=commands, memory=memory, events=events, cwd=cwd,
                    checks=checks, mcp=extras.mcp if extras is not None else None)
    parts: Collaborators = {
        "settings": settings, "cwd": cwd, "home": home, "gateway": gateway, "memory": memory,
        "planner": _planner(make_plan, root=cwd, limits=settings.planner), "run_step": run_step, "deps": deps,
        "approvals": gate, "checks": checks,
    }
    _add_reviewers(parts, ports, settings)
    return parts


def _add_reviewers(parts: Collaborators, ports: UiPorts, settings: Settings) -> None:
    """The ports that answer for the engine, as the Orchestrator's collaborators. The diff is asked about only when
    ``review.user_approves_diff`` is on and the approval policy is not ``never`` (which means "never ask")."""
    if ports.plan_reviewer is not None:
        parts["plan_reviewer"] = ports.plan_reviewer
    if ports.diff_reviewer is not None and settings.review.user_approves_diff and settings.approval_policy != "never":
        parts["diff_reviewer"] = ports.diff_reviewer
    if ports.failure_handler is not None:
        parts["failure_handler"] = ports.failure_handler


def _approver(ports: UiPorts) -> Approver:
    """Who answers approval prompts (commands and MCP tool calls): the front end's approver, else the non-interactive
    one (``exec``: a command that needs approval is denied, with a message telling the agent so)."""
    from policies.approval import NonInteractiveApprover

    return ports.approver if ports.approver is not None else NonInteractiveApprover()
