"""orchestrate as an MCP server on stdio (``orchestrate mcp-server``): tools ``plan``, ``run`` and ``sessions``.

The only module that imports the server side of the ``mcp`` SDK (lazily). Every tool goes through the public Python
API (:class:`orchestrator.api.Orchestrator`), non-interactively: nothing ever waits for a human. A run's approval
policy is ``never`` unless the call (or the server's command line) says otherwise; a command that would need approval
is refused and the agent is told so. A task starting with ``/name`` expands a custom prompt, as on the command line.

Errors the user must fix (bad cwd, config, unknown session, a model that cannot be reached) come back as MCP tool
errors carrying orchestrate's one-line message; a run that fails is a normal result with ``status: "failed"``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from orchestrator.core.errors import InputError, OrchestrateError
from orchestrator.settings.home import Home

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from orchestrator.api import Orchestrator
    from orchestrator.core.events import ListSink
    from orchestrator.engine.session import SessionResult
    from orchestrator.settings.config import CliOverrides, LoadedConfig

__all__ = ["OrchestrateTools", "build_server", "serve"]

SandboxArg = Literal["read-only", "workspace-write", "danger-full-access"]
ApprovalArg = Literal["untrusted", "on-failure", "on-request", "never"]
_INSTRUCTIONS = (
    "orchestrate plans a coding task into a DAG of steps and runs them with coder, reviewer and validator agents in "
    "the given directory, applying reviewed and validated edits. Use `plan` to preview, `run` to do the task "
    "(non-interactive; it edits files in cwd), `sessions` to list past runs."
)


class OrchestrateTools:
    """The tools' behaviour, independent of MCP: each builds an Orchestrator for the call's ``cwd``.

    ``defaults`` are the server's own command-line options (model, profile, ``-c`` overrides...); a call's
    ``sandbox`` / ``approval_policy`` override them.
    """

    def __init__(self, *, environ: Mapping[str, str], defaults: CliOverrides) -> None:
        self._environ = dict(environ)
        self._defaults = defaults

    @property
    def home(self) -> Home:
        return Home.from_env(self._environ)

    async def plan(self, task: str, cwd: str) -> dict[str, Any]:
        """The validated plan for ``task`` in ``cwd`` (nothing is changed, no session is created)."""
        directory = _directory(cwd)
        loaded = self._load(directory, self._defaults)
        orch = self._orchestrator(loaded, directory, None)
        try:
            plan = await orch.plan(self._expand(task, loaded))
        finally:
            await _close(orch)
        result: dict[str, Any] = plan.model_dump(mode="json")
        return result

    async def run(self, task: str, cwd: str, sandbox: SandboxArg | None = None,
                  approval_policy: ApprovalArg | None = None) -> dict[str, Any]:
        """Run ``task`` in ``cwd`` to completion; the final status, a summary and every event of the session."""
        from orchestrator.core.events import ListSink

        directory = _directory(cwd)
        overrides = dataclasses.replace(
            self._defaults,
            sandbox_mode=sandbox or self._defaults.sandbox_mode,
            approval_policy=approval_policy or self._defaults.approval_policy
            or (None if self._defaults.full_auto or self._defaults.yolo else "never"))
        loaded = self._load(directory, overrides)
        sink = ListSink()
        orch = self._orchestrator(loaded, directory, sink)
        try:
            result = await orch.run(self._expand(task, loaded))
            summary = _summary(orch, result)
        finally:
            await _close(orch)
        return {"session_id": result.session_id, "status": result.status, "exit_code": result.exit_code,
                "summary": summary, "steps": result.steps, "reasons": result.reasons,
                "usage": result.usage.model_dump(mode="json"), "events": _events(sink)}

    def sessions(self, cwd: str | None = None) -> list[dict[str, Any]]:
        """Stored sessions, newest first: those of ``cwd`` if given, else every directory's."""
        from orchestrator.compose import open_store

        directory = _directory(cwd) if cwd else None
        store = open_store(self.home)
        try:
            metas = store.list_sessions(cwd=directory)
        finally:
            store.close()
        return [{"id": m.id, "cwd": m.cwd, "branch": m.git.branch, "status": m.effective_status, "updated": m.updated,
                 "task": m.task} for m in metas]

    # ------------------------------------------------------------------------------------------------ helpers
    def _load(self, directory: Path, overrides: CliOverrides) -> LoadedConfig:
        from orchestrator.compose import load_config

        return load_config(cwd=directory, cli=overrides, home=self.home, environ=self._environ)

    def _orchestrator(self, loaded: LoadedConfig, directory: Path, sink: ListSink | None) -> Orchestrator:
        from orchestrator.api import Orchestrator

        return Orchestrator.from_config(loaded, interactive=False, console=None, events=sink, cwd=directory,
                                        environ=self._environ)

    def _expand(self, task: str, loaded: LoadedConfig) -> str:
        from orchestrator.settings.prompts import expand_task

        trusted = loaded.project_root if loaded.trust_level == "trusted" else None
        return expand_task(task, home=self.home, project_dir=trusted)


def build_server(tools: OrchestrateTools) -> MCPServer:
    """The MCP server exposing ``tools`` (errors orchestrate raises on purpose become MCP tool errors)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from orchestrator import __version__

    server = MCPServer("orchestrate", version=__version__, instructions=_INSTRUCTIONS, log_level="WARNING")

    @server.tool(description="Plan a coding task in a directory without running it: the plan JSON "
                             "(summary, steps with id, role, goal, files, depends_on).")
    async def plan(task: str, cwd: str) -> dict[str, Any]:
        try:
            return await tools.plan(task, cwd)
        except OrchestrateError as exc:
            raise ToolError(exc.render()) from None

    @server.tool(description="Run a coding task in a directory (an absolute path) non-interactively and return "
                             "the final status, a summary and the session's events. It edits files in cwd. "
                             "approval_policy defaults to 'never' (commands needing approval are refused).")
    async def run(task: str, cwd: str, sandbox: SandboxArg | None = None,
                  approval_policy: ApprovalArg | None = None) -> dict[str, Any]:
        try:
            return await tools.run(task, cwd, sandbox, approval_policy)
        except OrchestrateError as exc:
            raise ToolError(exc.render()) from None

    @server.tool(description="List orchestrate sessions, newest first: those started in cwd (an absolute path) "
                             "if given, else all. {\"sessions\": [{id, cwd, branch, status, updated, task}]}")
    def sessions(cwd: str | None = None) -> dict[str, Any]:
        try:
            return {"sessions": tools.sessions(cwd)}
        except OrchestrateError as exc:
            raise ToolError(exc.render()) from None

    return server


def serve(*, environ: Mapping[str, str], defaults: CliOverrides) -> None:
    """Serve the tools over stdin/stdout until the client closes the connection."""
    build_server(OrchestrateTools(environ=environ, defaults=defaults)).run("stdio")


# ---------------------------------------------------------------------------------------------------- helpers
async def _close(orch: Orchestrator) -> None:
    """Close even when the client cancelled the call (the run is then saved as interrupted, resumable)."""
    import anyio

    with anyio.CancelScope(shield=True):
        await orch.aclose()


def _directory(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise InputError(f"cwd must be an absolute path, got {raw!r}")
    if not path.is_dir():
        raise InputError(f"cwd {raw}: no such directory")
    return path.resolve()


def _summary(orch: Orchestrator, result: SessionResult) -> str:
    """One line for the session, then one per step: role, status and what it did (or why it failed)."""
    counts: dict[str, int] = {}
    for status in result.steps.values():
        counts[status] = counts.get(status, 0) + 1
    steps = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no steps run"
    usage = result.usage
    lines = [f"session {result.session_id}: {result.status} ({steps}; "
             f"{usage.prompt_tokens + usage.completion_tokens} tokens, ${usage.cost_usd:.4f})"]
    with orch.store.open(result.session_id) as session:
        plan = session.load_plan()
        records = session.steps(list(result.steps))
    roles = {step.id: step.role for step in plan.steps} if plan else {}
    for step_id, status in result.steps.items():
        record = records.get(step_id)
        detail = (record.reason or record.summary) if record else result.reasons.get(step_id, "")
        lines.append(f"- {step_id} ({roles.get(step_id, '?')}): {status}" + (f": {detail}" if detail else ""))
    return "\n".join(lines)


def _events(sink: ListSink) -> list[dict[str, Any]]:
    return [json.loads(event.to_json()) for event in sink.events]
