"""What the agents need of the engine's services, as protocols (issue 13): the model gateway, the command runner,
a staging tree and the session's MCP tools. The agents import these, never the adapters; compose passes the real ones
(:class:`orchestrator.models.gateway.ModelGateway`, :class:`orchestrator.engine.commands.CommandRunner`,
:class:`orchestrator.workspace.staging.Staging`, :class:`orchestrator.mcp.session.McpSession`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from orchestrator.core.contracts import Message, ModelResponse, Role, ToolSpec

__all__ = ["Gateway", "Commands", "CommandOutcome", "StagingTree", "McpTools", "TOOL_PREFIX",
           "qualified_tool_name"]

T = TypeVar("T", bound=BaseModel)
TOOL_PREFIX = "mcp__"
_MAX_NAME = 64  # the function-name limit of the OpenAI-style tool APIs
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class Gateway(Protocol):
    """The roles' one way to a model."""

    def model_for(self, role: Role) -> str: ...

    def supports_native_tools(self, role: Role) -> bool: ...

    async def complete(self, role: Role, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
                       temperature: float | None = None, seed: int | None = None,
                       max_tokens: int | None = None) -> ModelResponse: ...

    async def structured(self, role: Role, messages: Sequence[Message], schema: type[T], *,
                         temperature: float | None = None, seed: int | None = None) -> T: ...

    def for_step(self, step_id: str, reply_scope: str | None = None) -> Gateway:
        """This gateway as plan step ``step_id`` uses it: every call made for the step (its usage events carry the id;
        ``reply_scope``, default the step: whose kept replies may answer, ``orchestrator.engine.replay``)."""
        ...


class CommandOutcome(BaseModel):
    """What happened to one command. ``exit_code`` is None when it did not run (refused, or blocked)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    argv: tuple[str, ...]
    decision: str  # the gate's decision: allow | prompt | forbidden
    exit_code: int | None = None
    output: str = ""
    refused: bool = False  # the policy forbade it or the user denied it: it did not run
    denied: bool = False  # the sandbox blocked it (and it was not re-run unconfined)
    reason: str = ""  # why it was refused or blocked
    timed_out: bool = False
    hung: bool = False  # stopped for writing nothing for its idle_timeout_s (timed_out is set too)
    sandbox: str = ""  # the mechanism it ran under ("bwrap", "landlock", "none")

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not (self.refused or self.denied or self.timed_out)

    def observation(self) -> str:
        """The outcome as the model should read it."""
        if self.refused:
            return (
                f"$ {self.command}\nNOT RUN: {self.reason or 'refused by policy'}\n"
                "Do not retry this command; find another way to reach the goal."
            )
        lines = [f"$ {self.command}"]
        if self.output:
            lines.append(self.output.rstrip("\n"))
        if self.timed_out and not self.hung:  # a hung command's own note (the sandbox's) says why it was stopped
            lines.append("[timed out: the command was stopped; run something quicker or narrower]")
        if self.denied:
            lines.append(
                f"[blocked by the sandbox: {self.reason or 'permission denied'}; commands may only write inside the "
                "project and have no network]"
            )
        lines.append(f"[exit code {self.exit_code}]")
        return "\n".join(lines)


class Commands(Protocol):
    """Runs an agent's command through the gate, the approver and the sandbox. Never raises for a refusal."""

    async def run(self, step_id: str, command: str, *, cwd: Path, workspace: Path,
                  timeout_s: float, idle_timeout_s: float | None = None) -> CommandOutcome:
        """``idle_timeout_s``: stop the command once it wrote nothing that long (None: never); see ``Sandbox``."""
        ...


class StagingTree(Protocol):
    """A step's private copy of the project."""

    @property
    def root(self) -> Path: ...

    @property
    def tree(self) -> Path: ...

    def diff(self) -> str: ...

    def changed_files(self) -> list[str]: ...

    def apply_own(self, diff: str, *, reverse: bool = False) -> None: ...


class McpTools(Protocol):
    """The session's MCP servers, as the coder's toolbox sees them."""

    async def tools(self) -> tuple[ToolSpec, ...]: ...

    async def call(self, step_id: str, name: str, arguments: Mapping[str, Any]) -> str: ...


def qualified_tool_name(server: str, tool: str) -> str:
    """``mcp__<server>__<tool>``, made of ``[A-Za-z0-9_-]`` and at most 64 characters (a hash keeps it unique)."""
    name = f"{TOOL_PREFIX}{_UNSAFE_CHARS.sub('_', server)}__{_UNSAFE_CHARS.sub('_', tool)}"
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_NAME - 9]}_{digest}"
