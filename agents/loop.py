"""The shared agent loop: ``run → step → query → act``, one action per model turn.

Leaving the loop is a typed exception carrying its payload (:class:`Done` with the summary, :class:`TurnLimit`);
everything the model can fix (a reply that is not one valid action, a failing tool) becomes an observation it reads
on the next turn. The conversation is checkpointed after every step, so a resumed run continues from the last
committed turn. Old observations are elided when the history outgrows the context budget (small local models have
8k-token windows); the system prompt, the task and the latest turns are always kept whole.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from agents import prompts
from agents.actions import (
    Action,
    ActionFormatError,
    ActionReply,
    DoneAction,
    McpActionReply,
    WriteFileAction,
    parse_action_text,
    parse_tool_call,
    tool_specs,
)
from orchestrator.core.contracts import Message, Role, ToolSpec
from orchestrator.core.errors import ModelOutputError

if TYPE_CHECKING:
    from agents.tools import ToolBox
    from orchestrator.core.services import Gateway

__all__ = ["StepCheckpoint", "LoopExit", "Done", "Stalled", "TurnLimit", "AgentLoop", "finished_summary"]

_KEEP_RECENT = 6  # messages at the end of the history never elided (the last three turns)
_LONG_ASSISTANT = 1500
_STALL_REPEATS = 3  # the same action with the same result this many times in a round ends the round
# Whole-file writes of one path in a round that end it: a small model that has made its change keeps "improving" the
# file (one more test each turn) instead of saying done, and every turn resends the growing file.
_REWRITE_LIMIT = 3
_MCP_HEADING = "MCP tools (from the MCP servers"  # the first words of coder_mcp_tools.md: listed once per history
_MCP_DESCRIPTION_CHARS = 300


class StepCheckpoint(Protocol):
    """Where a step's conversation is saved after every turn (the engine's store), and loaded from on resume."""

    def load(self) -> list[Message] | None: ...

    def save(self, messages: Sequence[Message]) -> None: ...


class LoopExit(Exception):
    """A way out of the agent loop."""


class Done(LoopExit):
    """The model finished with the done action."""

    def __init__(self, summary: str) -> None:
        self.summary = summary
        super().__init__(summary)


class Stalled(LoopExit):
    """The model did the same thing with the same result three times, or rewrote one file whole three times in a
    round: it is stuck (small models often are, once their change is made: they redo it, or keep adding to it).

    Not a failure by itself: the caller decides from the state of the work (the pipeline reviews a non-empty diff).
    """

    def __init__(self, repeats: int, doing: str = "") -> None:
        self.repeats = repeats
        self.doing = doing or f"repeating one action {repeats} times"  # "stopped after <doing>"
        super().__init__(f"stopped after {self.doing}")


class TurnLimit(LoopExit):
    """The model used its turns without finishing."""

    def __init__(self, turns: int) -> None:
        self.turns = turns
        super().__init__(f"no done action after {turns} turns")


@dataclass
class AgentLoop:
    """One agent's conversation with its model and its tools. ``messages`` is the whole history (shared, mutated)."""

    gateway: Gateway
    role: Role
    tools: ToolBox
    messages: list[Message]
    max_turns: int
    checkpoint: StepCheckpoint | None = None
    native_tools: bool = False
    context_chars: int = 18000
    temperature: float | None = None  # None: the role's configured temperature (sampled candidates set one)
    seed: int | None = None  # a sampled candidate's own seed (its calls differ from another's, and in the replay key)
    read_enough_nudge: bool = True  # agents.strategy: tell a model that re-reads what it was shown to start
    rewrite_limit: int = _REWRITE_LIMIT  # agents.strategy: whole-file writes of one path that end a round (0: none)
    turns: int = field(default=0, init=False)  # turns taken in the current run
    mcp_tools: tuple[ToolSpec, ...] = field(default=(), init=False)  # offered from the first run on
    _outcomes: Counter[tuple[str, str]] = field(default_factory=Counter, init=False, repr=False)
    _rewrites: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _nudged: bool = field(default=False, init=False, repr=False)  # told to stop reading, this round

    async def run(self) -> Done:
        """Query and act until the model is done; return the :class:`Done`.

        Raises :class:`TurnLimit` (out of turns) or :class:`Stalled` (the same action over and over).
        """
        already = finished_summary(self.messages)
        if already is not None:
            return Done(already)
        await self._offer_mcp_tools()
        self.turns = 0
        self._outcomes = Counter()
        self._rewrites = Counter()
        self._nudged = False
        while True:
            if self.turns >= self.max_turns:
                raise TurnLimit(self.turns)
            self.turns += 1
            try:
                await self.step()
            except Done as done:
                return done

    async def step(self) -> None:
        """One turn: ask for an action, act on it, record both, save. Raises :class:`Done`."""
        try:
            turn = await self.query()
        except _InvalidReply as bad:
            self._commit(bad.said, self._format_error(bad.message), bad.call_id)
            return
        if isinstance(turn.action, DoneAction):
            self._commit(turn.said, "ok, finished" if turn.call_id else None, turn.call_id)
            raise Done(turn.action.summary)
        observation = await self.act(turn.action)
        # No progress: the same action gave the same result again (small models loop on a finished edit).
        key = (turn.action.model_dump_json(exclude={"thought"}), observation)
        self._outcomes[key] += 1
        if self._outcomes[key] >= _STALL_REPEATS:
            if not self.tools.changed and not self._nudged and self.read_enough_nudge:
                # Nothing changed yet: a small model re-reading the files it was shown needs telling, once a round,
                # that reading is done (measured: without this the step failed having changed nothing).
                self._nudged = True
                self._outcomes.clear()
                self._commit(turn.said, f"{observation}\n\n{prompts.load('coder_read_enough')}", turn.call_id)
                return
            self._commit(turn.said, f"{observation}\n\n{prompts.load('coder_stalled')}", turn.call_id)
            raise Stalled(_STALL_REPEATS)
        if isinstance(turn.action, WriteFileAction) and not observation.startswith("ERROR"):
            self._rewrites[turn.action.path] += 1
            limit = self.rewrite_limit
            if limit and self._rewrites[turn.action.path] >= limit:
                note = prompts.render("coder_rewrites", path=turn.action.path, times=str(limit))
                self._commit(turn.said, f"{observation}\n\n{note}", turn.call_id)
                raise Stalled(limit, f"writing {turn.action.path} {limit} times")
        self._commit(turn.said, observation, turn.call_id)

    async def query(self) -> _Turn:
        """The model's next action and the assistant message that records it. Raises :class:`_InvalidReply`."""
        window = self._window()
        if not self.native_tools:
            schema = McpActionReply if self.mcp_tools else ActionReply
            try:
                reply = await self.gateway.structured(self.role, window, schema, temperature=self.temperature,
                                                      seed=self.seed)
            except ModelOutputError as exc:
                raise _InvalidReply(exc.message, Message(role="assistant", content="(no valid action)")) from None
            return _Turn(reply.root, Message(role="assistant", content=reply.root.to_json()))
        response = await self.gateway.complete(
            self.role, window, tools=(*tool_specs(), *self.mcp_tools), temperature=self.temperature, seed=self.seed
        )
        if response.tool_calls:
            call = response.tool_calls[0]  # one action per turn: further calls are dropped, unanswered
            said = Message(role="assistant", content=response.content, tool_calls=(call,))
            try:
                return _Turn(parse_tool_call(call.name, call.arguments), said, call.id)
            except ActionFormatError as exc:
                raise _InvalidReply(exc.message, said, call.id) from None
        said = Message(role="assistant", content=response.content[:_LONG_ASSISTANT] or "(empty reply)")
        try:
            return _Turn(parse_action_text(response.content), said)
        except ActionFormatError as exc:
            raise _InvalidReply(exc.message, said) from None

    async def act(self, action: Action) -> str:
        """Execute one (non-done) action; the observation text."""
        return await self.tools.execute(action)

    def add_user(self, content: str) -> None:
        """Append a user message (feedback between rounds) and save."""
        self.extend([Message(role="user", content=content)])

    def extend(self, messages: Sequence[Message]) -> None:
        """Append turns made outside the loop (the coder's first draft) and save."""
        if messages:
            self.messages.extend(messages)
            self._save()

    # ------------------------------------------------------------------------------------------------- internals

    async def _offer_mcp_tools(self) -> None:
        """Offer the session's MCP tools, listed once at the end of the system prompt (a resumed history has them)."""
        self.mcp_tools = await self.tools.mcp_tools()
        if not self.mcp_tools or not self.messages or self.messages[0].role != "system":
            return
        system = self.messages[0]
        if _MCP_HEADING in system.content:
            return
        listing = prompts.render("coder_mcp_tools", tools="\n".join(_describe_tool(t) for t in self.mcp_tools),
                                 how_to_call=prompts.load("loop_notes#mcp_call_native" if self.native_tools
                                                                  else "loop_notes#mcp_call_structured"))
        self.messages[0] = system.model_copy(update={"content": f"{system.content}\n\n{listing}"})
        self._save()

    def _commit(self, said: Message, observation: str | None, call_id: str | None = None) -> None:
        self.messages.append(said)
        if observation is not None:
            role: Literal["tool", "user"] = "tool" if call_id else "user"
            self.messages.append(Message(role=role, content=observation, tool_call_id=call_id))
        self._save()

    def _save(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint.save(self.messages)

    def _format_error(self, error: str) -> str:
        path = self.tools.touched[-1] if self.tools.touched else "README.md"
        return prompts.render("coder_format_error", error=error, example_path=path)

    def _window(self) -> list[Message]:
        """The history to send: whole if it fits ``context_chars``, else with old observations elided."""
        if sum(len(m.content) for m in self.messages) <= self.context_chars:
            return list(self.messages)
        first_turn = next((i for i, m in enumerate(self.messages) if m.role == "assistant"), len(self.messages))
        recent = max(first_turn, len(self.messages) - _KEEP_RECENT)
        return [_shrink(m) if first_turn <= i < recent else m for i, m in enumerate(self.messages)]


@dataclass(frozen=True)
class _Turn:
    action: Action
    said: Message  # the assistant message recording the action
    call_id: str | None = None  # a native tool call: its result goes back as a tool message


class _InvalidReply(Exception):
    """The model's reply is not one valid action (a signal inside the loop: it becomes an observation)."""

    def __init__(self, message: str, said: Message, call_id: str | None = None) -> None:
        self.message = message
        self.said = said
        self.call_id = call_id
        super().__init__(message)


def _describe_tool(tool: ToolSpec) -> str:
    """``- NAME: description; arguments: {"x": "string", "n?": "integer"}`` (``?``: optional)."""
    properties = tool.parameters.get("properties") or {}
    required = set(tool.parameters.get("required") or ())
    args = {(k if k in required else f"{k}?"): (v.get("type", "any") if isinstance(v, dict) else "any")
            for k, v in properties.items()}
    about = " ".join(tool.description.split())[:_MCP_DESCRIPTION_CHARS]
    return f"- {tool.name}: {about}; arguments: {json.dumps(args)}"


def _shrink(message: Message) -> Message:
    elided = prompts.load("loop_notes#elided")
    if message.role in ("user", "tool") and len(message.content) > len(elided):
        return message.model_copy(update={"content": elided})
    if message.role == "assistant" and len(message.content) > _LONG_ASSISTANT:
        return message.model_copy(update={"content": message.content[:_LONG_ASSISTANT] + " [cut]"})
    return message


def finished_summary(messages: Sequence[Message]) -> str | None:
    """The summary when the history ends with the model's done action (a resumed, finished conversation)."""
    last = next((m for m in reversed(messages) if m.role != "tool"), None)
    if last is None or last.role != "assistant":
        return None
    try:
        if last.tool_calls:
            action = parse_tool_call(last.tool_calls[0].name, last.tool_calls[0].arguments)
        else:
            action = parse_action_text(last.content)
    except ActionFormatError:
        return None
    return action.summary if isinstance(action, DoneAction) else None
