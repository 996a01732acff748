"""A model call is paid once: its reply is kept with the ``usage`` event that paid for it, and a resumed session that
asks the same again gets the kept reply instead of calling (and paying) the model twice.

A killed run restarts its in-flight steps from their last checkpoint, so the calls they made since are asked again,
word for word (the models' requests depend only on the conversation and the tree). :class:`ReplayingModel` wraps each
of the session's models: before a call it asks the session (a :class:`ReplySource`) for a kept reply to the same
request of the same step and model; if there is one, that reply comes back with zero usage and no ``usage`` event is
emitted (it was recorded, and announced, when it was paid). Otherwise the model is called and its reply is handed,
through a context variable of the calling task, to the ``usage`` event the gateway emits right after the call, which
the session's emitter persists together with it (:func:`taken_reply`): the reply is kept exactly when its usage is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from orchestrator.core.contracts import ChatModel, ModelRequest, ModelResponse, Usage

if TYPE_CHECKING:
    from orchestrator.settings.schema import RoleConfig, Settings

__all__ = ["REPLAYED", "ReplySource", "ReplayingModel", "reply_key", "taken_reply", "replaying_resolver"]


class _Replayed:
    def __repr__(self) -> str:
        return "REPLAYED"


REPLAYED: Final = _Replayed()  # handed over instead of a reply: the call was answered from the kept replies
# What the last call of this task handed to its usage event: (key, reply JSON), REPLAYED, or None.
_HANDOFF: ContextVar[tuple[str, str] | _Replayed | None] = ContextVar("orchestrate_reply_handoff", default=None)


@runtime_checkable
class ReplySource(Protocol):
    """Where kept replies are found (``orchestrator.api.SessionEvents``: the running session's store)."""

    def take_reply(self, key: str) -> str | None: ...


def reply_key(step_id: str | None, model: str, request: ModelRequest) -> str:
    """The identity of a call: the step it is made for, the model, and the whole request."""
    payload = json.dumps([step_id, model, request.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def taken_reply() -> tuple[str, str] | _Replayed | None:
    """What the last model call of this task handed over (and forget it): for the usage event that follows it."""
    value = _HANDOFF.get()
    _HANDOFF.set(None)
    return value


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
        from orchestrator.engine.session import CURRENT_STEP, REPLY_SCOPE

        # A step the user had run again answers from its own retry's replies (REPLY_SCOPE), never the failed one's.
        key = reply_key(REPLY_SCOPE.get() or CURRENT_STEP.get(), self.name, request)
        kept = self._source.take_reply(key)
        if kept is not None:
            _HANDOFF.set(REPLAYED)
            return ModelResponse.model_validate_json(kept).model_copy(update={"usage": Usage()})
        response = await self._model.complete(request)
        _HANDOFF.set((key, response.model_dump_json()))
        return response

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
