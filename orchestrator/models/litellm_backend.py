"""The litellm adapter: the one module that imports litellm, lazily, and maps its exceptions to ours.

``import litellm`` takes seconds and, unless told otherwise, fetches a price map from the network; so it happens
inside functions only (``orchestrate --help`` never pays for it), in a worker thread (the event loop keeps
rendering), with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` set first and litellm's banners and logging silenced.

Exception mapping (exactly here): rate limits, connection errors, timeouts and 5xx become
:class:`~orchestrator.models.gateway.TransientModelError` (the gateway retries them); a missing API key,
authentication, permission, unknown model and rejected requests become
:class:`~orchestrator.core.errors.ModelUnavailableError` with one clear line (a key problem names the variable to set).
"""

from __future__ import annotations

import json
import logging
import os
import re
from functools import cache
from types import ModuleType
from typing import Any

import anyio.to_thread

from orchestrator.core.contracts import Message, ModelRequest, ModelResponse, ToolCall, Usage
from orchestrator.core.errors import ModelError, ModelUnavailableError
from orchestrator.models.gateway import TransientModelError

__all__ = ["LiteLLMModel", "load_litellm"]

# OpenAI-compatible servers reached through an api_base (llama.cpp, vLLM, LM Studio) and Ollama accept a JSON-schema
# response_format even though litellm's model map does not list them.
_SCHEMA_PROVIDERS = ("ollama/", "ollama_chat/")


@cache
def load_litellm() -> ModuleType:
    """Import litellm once, offline and quiet."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.set_verbose = False  # type: ignore[attr-defined]
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return litellm


class LiteLLMModel:
    """A :class:`~orchestrator.core.contracts.ChatModel` over ``litellm.acompletion`` for any litellm model string.

    ``api_base``/``api_key`` address an OpenAI-compatible server (``openai/NAME``); without them litellm uses the
    provider's endpoint and its API key from the environment. Costs come from litellm's bundled price map (0 for
    models it does not know, such as local ones).
    """

    def __init__(
        self, model: str, *, api_base: str | None = None, api_key: str | None = None, timeout_s: float = 600.0
    ) -> None:
        self._model = model
        self._api_base = api_base or None
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._schema_ok: bool | None = None

    @property
    def name(self) -> str:
        return self._model

    @property
    def native_tools(self) -> bool:
        """Whether litellm's model map says the model calls tools natively (unknown models: no)."""
        try:
            return bool(load_litellm().supports_function_calling(model=self._model))
        except Exception:  # litellm raises for models it cannot map; unknown means "not known to"
            return False

    def _supports_schema(self, litellm: ModuleType) -> bool:
        if self._schema_ok is None:
            if self._api_base or self._model.startswith(_SCHEMA_PROVIDERS):
                self._schema_ok = True
            else:
                try:
                    self._schema_ok = bool(litellm.supports_response_schema(model=self._model))
                except Exception:  # unmapped model: send no response_format, the gateway validates anyway
                    self._schema_ok = False
        return self._schema_ok

    async def complete(self, request: ModelRequest) -> ModelResponse:
        litellm = await anyio.to_thread.run_sync(load_litellm)
        kwargs = self._kwargs(request)
        if request.response_schema is not None and self._supports_schema(litellm):
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name or "reply",
                    "schema": request.response_schema,
                    "strict": False,
                },
            }
        try:
            raw = await litellm.acompletion(**kwargs)
        except Exception as exc:
            if "response_format" in kwargs and _is_bad_request(litellm, exc):
                # The server rejected the schema request: remember that and ask again without it.
                self._schema_ok = False
                del kwargs["response_format"]
                return await self.complete(request)
            raise map_exception(litellm, exc, self._model) from None
        return _response(litellm, raw, self._model)

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self._model,
            "messages": [_message_dict(m) for m in request.messages],
            "timeout": self._timeout_s,
            "num_retries": 0,  # the gateway retries, with its own backoff and accounting
            "drop_params": True,  # a parameter the provider does not take is dropped, not an error
        }
        if self._api_base:
            kwargs["api_base"] = self._api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in request.tools
            ]
        return kwargs


def _message_dict(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name:
        out["name"] = message.name
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
            for c in message.tool_calls
        ]
    return out


def _response(litellm: ModuleType, raw: Any, model: str) -> ModelResponse:
    choices = getattr(raw, "choices", None) or []
    if not choices:
        raise ModelError(f"{model} returned no choices")
    message = choices[0].message
    calls = tuple(_tool_call(c, i) for i, c in enumerate(getattr(message, "tool_calls", None) or []))
    usage = getattr(raw, "usage", None)
    try:
        cost = float(litellm.completion_cost(completion_response=raw) or 0.0)
    except Exception:  # no price for this model (local, self-hosted): it costs nothing we can count
        cost = 0.0
    return ModelResponse(
        content=message.content or "",
        tool_calls=calls,
        usage=Usage(
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=cost,
        ),
        model=str(getattr(raw, "model", "") or model),
    )


def _tool_call(call: Any, index: int) -> ToolCall:
    raw = call.function.arguments or "{}"
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except json.JSONDecodeError:
        arguments = {"_raw_arguments": raw}
    if not isinstance(arguments, dict):
        arguments = {"_raw_arguments": raw}
    return ToolCall(id=call.id or f"call_{index}", name=call.function.name, arguments=arguments)


def _is_bad_request(litellm: ModuleType, exc: Exception) -> bool:
    return isinstance(exc, litellm.exceptions.BadRequestError) and not isinstance(
        exc, litellm.exceptions.ContextWindowExceededError
    )


def _one_line(exc: Exception, limit: int = 300) -> str:
    text = " ".join(str(getattr(exc, "message", "") or exc).split())
    # litellm prefixes its class name (often twice) and the provider's exception: "litellm.AuthenticationError:
    # AuthenticationError: OpenAIException - bad key" says no more than "bad key".
    text = re.sub(r"^(?:litellm\.)?(?:\w+Error: ?)*(?:\w+Exception - )?", "", text) or text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def map_exception(litellm: ModuleType, exc: Exception, model: str) -> ModelError:
    """litellm's exception → ours (see the module docstring). Anything unexpected becomes a plain ModelError."""
    e = litellm.exceptions
    detail = _one_line(exc)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, e.AuthenticationError | e.PermissionDeniedError) or status in (401, 403) or \
            _missing_credentials(exc):
        return _credentials_error(litellm, exc, model, detail)
    if isinstance(exc, e.ContextWindowExceededError):
        return ModelError(f"{model}: the conversation no longer fits the context window ({detail})")
    if isinstance(exc, e.RateLimitError | e.APIConnectionError | e.ServiceUnavailableError | e.InternalServerError):
        return TransientModelError(f"{model}: {detail}")
    if isinstance(exc, e.BadGatewayError):
        return TransientModelError(f"{model}: {detail}")
    if isinstance(exc, e.NotFoundError):
        return ModelUnavailableError(
            f"{model}: no such model ({detail})", hint="check the model string with `orchestrate models check MODEL`"
        )
    if isinstance(exc, e.BadRequestError | e.UnprocessableEntityError):
        return ModelUnavailableError(
            f"{model}: the request was rejected ({detail})",
            hint="model strings look like provider/name, e.g. openai/gpt-4.1 or ollama/qwen2.5-coder",
        )
    if isinstance(exc, e.APIError) and isinstance(status, int) and status >= 500:
        return TransientModelError(f"{model}: {detail}")
    return ModelError(f"{model}: {type(exc).__name__}: {detail}")


def _missing_credentials(exc: Exception) -> bool:
    """litellm reports a missing API key as an InternalServerError raised before any request ("Missing credentials.
    Please pass an `api_key` ..."): no retry can fix that, so it must not look transient."""
    text = str(getattr(exc, "message", "") or exc).lower()
    return "missing credentials" in text or ("api_key" in text and "must be set" in text)


def _key_variables(litellm: ModuleType, model: str) -> list[str]:
    """The environment variables that hold ``model``'s API key: the ones litellm finds missing, else the provider's
    conventional ``PROVIDER_API_KEY``."""
    try:
        missing = litellm.validate_environment(model=model).get("missing_keys") or []
    except Exception:  # unmapped model: fall back to the provider's name
        missing = []
    names = [str(n) for n in missing if str(n).endswith(("_KEY", "_TOKEN"))]
    if names:
        return names
    try:
        provider = str(litellm.get_llm_provider(model)[1])
    except Exception:  # litellm cannot tell the provider: the model string's prefix is the best guess
        provider = model.partition("/")[0] if "/" in model else "openai"
    return [f"{provider.upper()}_API_KEY"]


def _credentials_error(litellm: ModuleType, exc: Exception, model: str, detail: str) -> ModelUnavailableError:
    """Not retried: the same credentials fail the same way. The line names the variable to set."""
    names = _key_variables(litellm, model)
    shown = " or ".join(names)
    if _missing_credentials(exc):
        return ModelUnavailableError(
            f"{model}: no API key ({shown} is not set)",
            hint=f"export {names[0]}=... or choose another model with -m; a local server that needs no key takes "
                 "any value")
    return ModelUnavailableError(f"{model}: the provider refused the credentials ({detail})",
                                 hint=f"check {shown} or the role's api_key, or choose another model with -m")
