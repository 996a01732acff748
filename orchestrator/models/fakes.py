"""The fakes' internals: :class:`ScriptedModel`, :class:`FunctionModel` and the ``scripted:`` / ``function:``
model strings. Public as :mod:`orchestrator.testing` (documented there); model routing resolves the strings here
so the gateway never imports the public testing module."""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from pydantic import BaseModel

from orchestrator.core.contracts import ChatModel, ModelRequest, ModelResponse, ToolCall, Usage
from orchestrator.core.errors import ConfigError, ModelError

__all__ = ["Reply", "ScriptedModel", "FunctionModel", "model_from_string", "to_response"]

Reply: TypeAlias = str | BaseModel | ModelResponse | Mapping[str, Any]
ModelFunction: TypeAlias = Callable[[ModelRequest], Reply | Awaitable[Reply]]


def _words(text: str) -> int:
    return len(text.split())


def to_response(reply: Reply, request: ModelRequest, *, model: str, cost_per_token: float = 0.0) -> ModelResponse:
    """A fake reply as a :class:`ModelResponse`, with word-count usage unless the reply carries its own."""
    if isinstance(reply, ModelResponse):
        return reply if reply.model else reply.model_copy(update={"model": model})
    calls: tuple[ToolCall, ...] = ()
    if isinstance(reply, str):
        content = reply
    elif isinstance(reply, BaseModel):
        content = reply.model_dump_json()
    elif isinstance(reply, Mapping):
        content, calls = _mapping_reply(reply)
    else:
        raise ModelError(f"fake model {model}: unsupported reply of type {type(reply).__name__}")
    prompt = sum(_words(m.content) for m in request.messages)
    completion = _words(content) + sum(_words(json.dumps(c.arguments)) + 1 for c in calls)
    usage = Usage(
        prompt_tokens=prompt, completion_tokens=completion, cost_usd=(prompt + completion) * cost_per_token
    )
    return ModelResponse(content=content, tool_calls=calls, usage=usage, model=model)


def _mapping_reply(reply: Mapping[str, Any]) -> tuple[str, tuple[ToolCall, ...]]:
    unknown = set(reply) - {"content", "tool_calls"}
    if unknown:
        raise ModelError(f"fake reply has unknown keys {sorted(unknown)} (allowed: content, tool_calls)")
    raw_calls: Sequence[Mapping[str, Any]] = reply.get("tool_calls", ())
    calls = tuple(
        ToolCall(id=str(c.get("id", f"call_{i}")), name=str(c["name"]), arguments=dict(c.get("arguments", {})))
        for i, c in enumerate(raw_calls)
    )
    return str(reply.get("content", "")), calls


class ScriptedModel:
    """Replays ``replies`` in order, one per call; raises :class:`ModelError` once they are used up.

    ``native_tools`` is what the model claims about native tool calling (``gateway.supports_native_tools`` under
    ``models.tool_mode = "auto"``); the default, ``False``, matches the embedded local model.
    """

    def __init__(
        self,
        replies: Sequence[Reply],
        *,
        name: str = "scripted",
        native_tools: bool = False,
        cost_per_token: float = 0.0,
    ) -> None:
        self._replies = list(replies)
        self._name = name
        self.native_tools = native_tools
        self.cost_per_token = cost_per_token
        self.requests: list[ModelRequest] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def remaining(self) -> int:
        return len(self._replies) - len(self.requests)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        index = len(self.requests)
        self.requests.append(request)
        if index >= len(self._replies):
            raise ModelError(
                f"scripted model {self._name!r} has no reply left: all {len(self._replies)} were used "
                f"(this was call {index + 1})"
            )
        return to_response(self._replies[index], request, model=self._name, cost_per_token=self.cost_per_token)


class FunctionModel:
    """The test is the model: ``fn(request)`` (sync or async) returns the reply, or raises."""

    def __init__(
        self, fn: ModelFunction, *, name: str = "function", native_tools: bool = False, cost_per_token: float = 0.0
    ) -> None:
        self._fn = fn
        self._name = name
        self.native_tools = native_tools
        self.cost_per_token = cost_per_token
        self.requests: list[ModelRequest] = []

    @property
    def name(self) -> str:
        return self._name

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        reply = self._fn(request)
        if inspect.isawaitable(reply):
            reply = await reply
        return to_response(reply, request, model=self._name, cost_per_token=self.cost_per_token)


def model_from_string(spec: str) -> ChatModel:
    """``scripted:/path.json`` or ``function:package.module:attr`` → the fake it names (:class:`ConfigError` if bad)."""
    kind, _, target = spec.partition(":")
    if kind == "scripted":
        return _scripted_from_file(Path(target).expanduser(), spec)
    if kind == "function":
        return _function_from_path(target, spec)
    raise ConfigError(f"unknown fake model {spec!r}", hint="use scripted:/path/replies.json or function:module:attr")


def _scripted_from_file(path: Path, spec: str) -> ScriptedModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"model {spec!r}: cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"model {spec!r}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    native = False
    if isinstance(data, dict):
        native = bool(data.get("native_tools", False))
        data = data.get("replies")
    if not isinstance(data, list) or not all(isinstance(r, str | dict) for r in data):
        raise ConfigError(
            f"model {spec!r}: {path} must hold a JSON list of replies (strings or {{content, tool_calls}} objects)"
        )
    return ScriptedModel(data, name=spec, native_tools=native)


def _function_from_path(target: str, spec: str) -> ChatModel:
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"model {spec!r}: expected function:package.module:attr")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"model {spec!r}: cannot import {module_name}: {exc}") from None
    obj = getattr(module, attr, None)
    if isinstance(obj, ChatModel):
        return obj
    if callable(obj):
        return FunctionModel(obj, name=spec)
    raise ConfigError(f"model {spec!r}: {module_name}.{attr} is not a callable or a ChatModel")
