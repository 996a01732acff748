"""The seams of orchestrate: the few interfaces where backends and test doubles plug in.

Everything here is a ``typing.Protocol`` or a frozen pydantic value that crosses one of them. The engine depends on
these, never on a concrete backend: the model gateway on :class:`ChatModel`, the command path on
:class:`PolicyGate`, :class:`Approver` and :class:`Sandbox`, the agents on :class:`Memory`. Tests and alternative
backends implement the protocol; nothing is monkeypatched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "StepOutcome",
    "CommittedFiles",
    "RemoveTree",
    "Role",
    "ROLES",
    "Message",
    "ToolSpec",
    "ToolCall",
    "Usage",
    "ModelRequest",
    "ModelResponse",
    "KeptReply",
    "ChatModel",
    "Decision",
    "ApprovalPolicy",
    "SandboxMode",
    "GateVerdict",
    "PolicyGate",
    "ApprovalChoice",
    "ApprovalRequest",
    "ApprovalResponse",
    "Approver",
    "SandboxPolicy",
    "ExecResult",
    "Sandbox",
    "MemorySource",
    "MemoryContext",
    "Memory",
    "DiffDecision",
    "StepFailure",
    "FailureDecision",
    "StepFailureHandler",
]

Role = Literal["planner", "coder", "reviewer", "validator"]
ROLES: tuple[Role, ...] = ("planner", "coder", "reviewer", "validator")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------------------------------------- models


class ToolCall(_Frozen):
    id: str
    name: str
    arguments: dict[str, Any]


class Message(_Frozen):
    """One chat message, in the OpenAI shape litellm speaks.

    An assistant message that made native tool calls carries them in ``tool_calls``; each result goes back as a
    ``tool`` message whose ``tool_call_id`` names the call (providers reject a tool result without its call).
    """

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


class ToolSpec(_Frozen):
    """A tool offered to a model with native tool calling; ``parameters`` is a JSON schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


class Usage(_Frozen):
    """Tokens and cost of one or more model calls. Adding two usages sums them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )


class ModelRequest(_Frozen):
    """What one model call asks for.

    ``response_schema`` (a JSON schema, with ``schema_name``) asks for structured output: backends that support it pass
    it as ``response_format``; the gateway validates the reply either way. ``tools`` offers native tool calls.
    """

    messages: tuple[Message, ...]
    response_schema: dict[str, Any] | None = None
    schema_name: str | None = None
    tools: tuple[ToolSpec, ...] | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    # Whose kept replies may answer this call (orchestrator.engine.replay): the step's id, or "s1#2" once the user
    # had it run again twice. Not part of what is asked: excluded from dumps, so a call's replay key (a hash of the
    # dump) is the same as before this field existed.
    reply_scope: str | None = Field(default=None, exclude=True)
    # A sampled call's seed: candidates asked with the same messages differ, and are told apart in the replay key.
    seed: int | None = Field(default=None, exclude=True)


class KeptReply(_Frozen):
    """What a reply-keeping model (``orchestrator.engine.replay.ReplayingModel``) says of the reply it returns: keep
    ``reply`` (its JSON) under ``key`` with the usage event that paid for it, or ``replayed``: it was a kept reply
    given again (its usage was recorded when it was paid)."""

    key: str = ""
    reply: str = ""
    replayed: bool = False


class ModelResponse(_Frozen):
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    kept: KeptReply | None = Field(default=None, exclude=True)  # the replay note (never part of the reply's JSON)


@runtime_checkable
class ChatModel(Protocol):
    """A chat-completion backend (litellm, the embedded model, or a fake from ``orchestrator.testing``).

    Raises ``orchestrator.core.errors.ModelError`` subclasses only; transient failures raise ``TransientModelError``
    from
    the gateway module so the gateway can retry them.
    """

    @property
    def name(self) -> str: ...

    async def complete(self, request: ModelRequest) -> ModelResponse: ...


# ----------------------------------------------------------------------------------------------------- commands

Decision = Literal["allow", "prompt", "forbidden"]
ApprovalPolicy = Literal["untrusted", "on-failure", "on-request", "never"]
SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]


class GateVerdict(_Frozen):
    """The gate's answer for one command or script (the ``execpolicy check --shell`` JSON, plus the deciding rules).

    ``decision`` is after the approval policy: ``prompt`` means ask the user; under ``never`` a prompt has already
    become ``forbidden``. ``commands`` are the simple commands found in the script (wrappers unwrapped).
    """

    decision: Decision
    commands: tuple[tuple[str, ...], ...]
    bypass_sandbox: bool = False
    reason: str = ""
    proposed_amendment: tuple[str, ...] | None = None
    matched_rules: tuple[dict[str, Any], ...] = ()


class PolicyGate(Protocol):
    """Decides whether a command an agent wants to run may run, must be approved, or is refused."""

    def evaluate(self, argv: Sequence[str], *, cwd: Path) -> GateVerdict: ...

    def remember_for_session(self, prefix: Sequence[str]) -> None:
        """Allow commands starting with ``prefix`` for the rest of this session (the user chose so)."""
        ...


ApprovalChoice = Literal["allow_once", "allow_session", "allow_always", "deny"]


class ApprovalRequest(_Frozen):
    step_id: str
    argv: tuple[str, ...]
    cwd: str
    verdict: GateVerdict
    retry_unsandboxed: bool = False  # asking to re-run outside the sandbox after a sandbox denial


class ApprovalResponse(_Frozen):
    choice: ApprovalChoice
    message: str | None = None  # with deny: told to the agent
    rules_file: str | None = None  # with allow_always: where the prefix_rule is appended


class Approver(Protocol):
    """Asks a human (or a scripted policy) about a command the gate wants approved."""

    async def ask(self, request: ApprovalRequest) -> ApprovalResponse: ...


class SandboxPolicy(_Frozen):
    """How one command is confined. ``workspace`` is writable under ``workspace-write``; so are ``writable_roots``."""

    mode: SandboxMode
    workspace: Path
    writable_roots: tuple[Path, ...] = ()
    network: bool = False
    protect_git: bool = True  # keep .git (and a worktree's git dir) and .orchestrate/ read-only
    allow_unconfined: bool = False  # opt-in to run unconfined when no mechanism works (warns on every command)
    env_allow: tuple[str, ...] = ()  # names (fnmatch) kept even if they look like secrets
    env_deny: tuple[str, ...] = ()  # extra names (fnmatch) always removed


class ExecResult(_Frozen):
    exit_code: int
    output: str  # stdout and stderr interleaved, bounded
    denied: bool = False  # the sandbox, not the command, refused (EROFS/EACCES/ENETUNREACH, seccomp, bwrap)
    denial_reason: str | None = None
    timed_out: bool = False  # stopped by a time bound (wall time or, with ``hung``, silence)
    hung: bool = False  # stopped because it wrote nothing for ``idle_timeout_s`` (``timed_out`` is set too)
    duration_s: float = 0.0
    sandbox: str = ""  # mechanism used: "bwrap", "landlock", "none"


class Sandbox(Protocol):
    """Runs one command confined by a :class:`SandboxPolicy`. Fails closed: raises ``SandboxUnavailableError``.
    ``idle_timeout_s``: the command is taken as hung after writing nothing that long (None: never)."""

    async def run(self, argv: Sequence[str], *, policy: SandboxPolicy, cwd: Path, env: Mapping[str, str] | None = None,
                  timeout_s: float | None = None, stdin: bytes | None = None,
                  idle_timeout_s: float | None = None) -> ExecResult: ...


# ------------------------------------------------------------------------------------------------------- memory


class MemorySource(_Frozen):
    path: Path
    scope: Literal["global", "project"]
    bytes: int
    truncated: bool = False
    dropped_bytes: int = 0


class MemoryContext(_Frozen):
    """Composed AGENTS.md text and where it came from (the ``memory show --json`` shape)."""

    sources: tuple[MemorySource, ...] = ()
    text: str = ""


class Memory(Protocol):
    def load(self, cwd: Path) -> MemoryContext:
        """The global doc plus the project docs from the project root down to ``cwd``."""
        ...

    def scoped(self, cwd: Path, files: Sequence[str]) -> MemoryContext:
        """The AGENTS.md docs strictly below ``cwd`` on the way to ``files`` (relative to cwd), for one step."""
        ...


class CommittedFiles(Protocol):
    """Which of ``files`` (inside the git work tree holding ``root``) git tracks unmodified from ``HEAD``. Fails
    closed: none on any doubt. Settings and policies load a nested ``.orchestrate/`` file only if it is committed; the
    git-backed one is :func:`orchestrator.workspace.gitrun.committed_files`."""

    def __call__(self, root: Path, files: Sequence[Path]) -> set[Path]: ...


class RemoveTree(Protocol):
    """Deletes a session's directory and what outside it refers to it (the store calls it; the workspace's one,
    :func:`orchestrator.workspace.gitrun.remove_session_tree`, also forgets staging worktrees in the user's repo)."""

    def __call__(self, directory: Path) -> None: ...


class StepOutcome(BaseModel):
    """How a step ended: what the step pipeline returns and what the scheduler records. ``diff`` is the change to
    apply (coder steps only; empty otherwise), ``files`` the paths it touches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["succeeded", "failed"]
    summary: str = ""
    reason: str = ""  # one line: why it failed
    diff: str = ""
    files: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------ answers from the user


class DiffDecision(_Frozen):
    """The user's answer at a step's diff (interactive runs): ``apply`` it, ``reject`` it (the step fails), or
    ``change`` it: ``guidance`` goes back to the same step's coder, which proposes a new diff that is asked about
    again (at most ``approval.max_change_requests`` times; then the step fails). A ``DiffReviewer`` may still return
    a plain ``bool`` (True = apply, False = reject): :meth:`of` reads either."""

    kind: Literal["apply", "reject", "change"]
    guidance: str = ""

    @classmethod
    def of(cls, answer: bool | DiffDecision) -> DiffDecision:
        if isinstance(answer, DiffDecision):
            return answer
        return cls(kind="apply" if answer else "reject")


class StepFailure(_Frozen):
    """What the :class:`StepFailureHandler` is told about a step that just failed (``attempt`` counts from 1)."""

    step_id: str
    role: Role
    goal: str
    reason: str
    attempt: int = 1


class FailureDecision(_Frozen):
    """The answer to a failed step: ``retry`` it (with ``guidance`` for the coder when not empty), ``skip`` it (it
    ends ``failed`` and its dependents are skipped, the other steps go on: today's behaviour), or ``stop`` the
    session (no new step starts; steps already running finish; the session ends failed and stays resumable with
    ``resume --retry-failed``)."""

    kind: Literal["retry", "skip", "stop"]
    guidance: str = ""


class StepFailureHandler(Protocol):
    """Asked, in interactive runs, each time a step fails. Without one (``exec``), a failed step just fails."""

    async def on_step_failed(self, failure: StepFailure) -> FailureDecision: ...
