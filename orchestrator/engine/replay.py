"""A model call is paid once: its reply is kept with the ``usage`` event that paid for it, and a resumed session that
asks the same again gets the kept reply instead of calling (and paying) the model twice.

A killed run restarts its in-flight steps from their last checkpoint, so the calls they made since are asked again,
word for word (the models' requests depend only on the conversation and the tree). :class:`ReplayingModel` wraps each
of the session's models: before a call it asks the session (a :class:`ReplySource`) for a kept reply to the same
request of the same step and model; if there is one, that reply comes back with zero usage and no ``usage`` event is
emitted (it was recorded, and announced, when it was paid). Otherwise the model is called and its reply comes back
with a :class:`~orchestrator.core.contracts.KeptReply` note (its key and JSON) on the response; the gateway hands the
note to its ``on_call`` callback with the call's usage, and the session's emitter persists the reply together with
that ``usage`` event (``SessionEvents.emit_usage``): the reply is kept exactly when its usage is.

Whose replies a call may take is the request's ``reply_scope`` (set by the step's view of the gateway,
``ModelGateway.for_step``): the step, or ``"s1#2"`` for the user's second retry of it, so a retry is never answered
with the replies of the attempt that failed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from orchestrator.core.contracts import ChatModel, KeptReply, ModelRequest, ModelResponse, Usage

if TYPE_CHECKING:
    from orchestrator.settings.schema import RoleConfig, Settings

__all__ = ["ReplySource", "ReplayingModel", "reply_key", "replaying_resolver"]


@runtime_checkable
class ReplySource(Protocol):
    """Where kept replies are found (``orchestrator.api.SessionEvents``: the running session's store)."""

    def take_reply(self, key: str) -> str | None: ...


def reply_key(step_id: str | None, model: str, request: ModelRequest) -> str:
    """The identity of a call: the step (reply scope) it is made for, the model, and the whole request (whose dump
    leaves the scope out: sessions recorded before it travelled on the request keep their keys)."""
    parts: list[object] = [step_id, model, request.model_dump(mode="json")]
    if request.seed is not None:  # a seeded sample is its own call (unseeded keys are as before seeds existed)
        parts.append({"seed": request.seed})
    payload = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class ReplayingModel:
    """A :class:`~orchestrator.core.contracts.ChatModel` answering from ``source``'s kept replies first (module
    docstring)."""

    def __init__(self, model: ChatModel, source: ReplySource) -> None:
        self._model = model
        self._source = source

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def native_tools(self) -> object:
        return getattr(self._model, "native_tools", False)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """The kept reply to this request of its scope (zero usage, ``kept.replayed``), else the model's (``kept``
        holding its key and JSON, for the usage event that pays for it)."""
        key = reply_key(request.reply_scope, self.name, request)
        kept = self._source.take_reply(key)
        if kept is not None:
            return ModelResponse.model_validate_json(kept).model_copy(
                update={"usage": Usage(), "kept": KeptReply(replayed=True)})
        response = await self._model.complete(request)
        return response.model_copy(update={"kept": KeptReply(key=key, reply=response.model_dump_json())})

    async def aclose(self) -> None:
        close = getattr(self._model, "aclose", None)
        if close is not None:
            await close()


def replaying_resolver(settings: Settings, environ: Mapping[str, str],
                       source: object) -> Callable[[str, RoleConfig], ChatModel] | None:
    """The gateway's model resolver with every model wrapped in :class:`ReplayingModel` (None if ``source`` keeps
    no replies: the gateway's own resolver then)."""
    if not isinstance(source, ReplySource):
        return None
    replies: ReplySource = source

    def resolve(model: str, config: RoleConfig) -> ChatModel:
        from orchestrator.models.routing import resolve_model

        return ReplayingModel(resolve_model(model, config, settings=settings, environ=environ), replies)

    return resolve
