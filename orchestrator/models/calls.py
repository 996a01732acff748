"""A model call's step and its report: :class:`CallScope` (the plan step a call is made for), :class:`ModelCall` (what
``ModelGateway``'s ``on_call`` receives after each call) and :class:`StepGateway` (the gateway as one step uses it).

The step a call belongs to travels explicitly: the engine gives each step ``gateway.for_step(...)`` (through the
step's deps), whose calls carry a :class:`CallScope` down to the request (``ModelRequest.reply_scope``, for the
replay cache) and up to the usage report (``ModelCall.step_id``, for ``usage`` events).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from orchestrator.core.contracts import KeptReply, Message, ModelResponse, Role, ToolSpec, Usage

if TYPE_CHECKING:
    from orchestrator.models.gateway import ModelGateway
    from orchestrator.settings.schema import RoleConfig

__all__ = ["CallScope", "ModelCall", "CallCallback", "StepGateway"]

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class CallScope:
    """The plan step a call is made for: ``step_id`` (usage events carry it) and ``reply_scope``, whose kept replies
    may answer it (``orchestrator.engine.replay``: the step id, or ``"s1#2"`` for the user's second retry)."""

    step_id: str
    reply_scope: str


@dataclass(frozen=True)
class ModelCall:
    """One successful call, for ``on_call``: who asked (``role``, the step if any), which model answered, what it
    cost, and the replay note of a reply-keeping model (``kept``; ``kept.replayed``: a kept reply, nothing paid)."""

    role: Role
    model: str
    usage: Usage
    step_id: str | None = None
    kept: KeptReply | None = None


CallCallback = Callable[[ModelCall], None]


class StepGateway:
    """``gateway`` as one plan step uses it (``ModelGateway.for_step``): the same models, budget and accounting, and
    every call made for ``scope``. Closing it closes nothing (the session's gateway outlives its steps)."""

    def __init__(self, gateway: ModelGateway, scope: CallScope) -> None:
        self.gateway = gateway
        self.scope = scope

    def role_config(self, role: Role) -> RoleConfig:
        return self.gateway.role_config(role)

    def model_for(self, role: Role) -> str:
        return self.gateway.model_for(role)

    def supports_native_tools(self, role: Role) -> bool:
        return self.gateway.supports_native_tools(role)

    def for_step(self, step_id: str, reply_scope: str | None = None) -> StepGateway:
        return self.gateway.for_step(step_id, reply_scope)

    async def complete(self, role: Role, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
                       temperature: float | None = None, seed: int | None = None,
                       max_tokens: int | None = None) -> ModelResponse:
        return await self.gateway.complete(role, messages, tools=tools, temperature=temperature, seed=seed,
                                           scope=self.scope, max_tokens=max_tokens)

    async def structured(self, role: Role, messages: Sequence[Message], schema: type[T], *,
                         temperature: float | None = None, seed: int | None = None) -> T:
        return await self.gateway.structured(role, messages, schema, temperature=temperature, seed=seed,
                                             scope=self.scope)

    @property
    def usage(self) -> Mapping[Role, Usage]:
        return self.gateway.usage

    @property
    def total_usage(self) -> Usage:
        return self.gateway.total_usage

    async def aclose(self) -> None:
        """Nothing to release: the session's gateway is closed by its owner."""
