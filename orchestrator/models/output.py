"""Reading what a model wrote: the JSON object in a reply, tool calls written as text, validation errors as feedback.

Small local models wrap JSON in code fences or put a sentence before it, and write tool calls as JSON in the message
content instead of native ``tool_calls``. These functions recover the intended value or say precisely why they cannot,
in words the model can act on when the gateway re-asks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from orchestrator.core.contracts import ToolCall

__all__ = ["extract_json", "tool_calls_from_text", "describe_validation_error"]

_ARGUMENT_KEYS = ("arguments", "args", "parameters", "input")


def extract_json(text: str) -> Any:
    """The JSON value the reply consists of, or else the first JSON object (or array) found inside it.

    Tolerates code fences, leading prose and trailing text. Raises ``ValueError`` (one line) when there is none.
    """
    stripped = text.strip()
    if not stripped:
        raise ValueError("the reply was empty; expected a JSON object")
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder()
    for start in _candidate_starts(stripped):
        try:
            value, _ = decoder.raw_decode(stripped, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict | list):
            return value
    raise ValueError("no JSON object found in the reply; reply with one JSON object only")


def _candidate_starts(text: str) -> Iterable[int]:
    for index, char in enumerate(text):
        if char in "{[":
            yield index


def tool_calls_from_text(text: str, tool_names: Sequence[str]) -> tuple[ToolCall, ...]:
    """Tool calls a model wrote as JSON text, for models without native tool calling.

    Accepts ``{"name": ..., "arguments": {...}}``, ``{"tool": ..., "arguments": {...}}`` (also ``args``/``parameters``/
    ``input``; arguments may be a JSON string), the OpenAI ``{"function": {...}}`` shape, and a list of those. Only
    names in ``tool_names`` count, so an ordinary JSON reply is never mistaken for a call. Returns ``()`` when the text
    holds no call.
    """
    try:
        value = extract_json(text)
    except ValueError:
        return ()
    items = value if isinstance(value, list) else [value]
    calls: list[ToolCall] = []
    for item in items:
        call = _one_call(item, tool_names, len(calls))
        if call is None:
            return ()
        calls.append(call)
    return tuple(calls)


def _one_call(item: Any, tool_names: Sequence[str], index: int) -> ToolCall | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("function"), dict):
        item = item["function"]
    name = item.get("name", item.get("tool"))
    if not isinstance(name, str) or name not in tool_names:
        return None
    raw: Any = next((item[key] for key in _ARGUMENT_KEYS if key in item), {})
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            raw = {"_raw_arguments": raw}
    if not isinstance(raw, dict):
        return None
    return ToolCall(id=f"call_{index}", name=name, arguments=raw)


def describe_validation_error(error: ValidationError | ValueError, *, limit: int = 6) -> str:
    """A compact, model-readable description: ``field.path: message`` items joined by ``; ``."""
    if not isinstance(error, ValidationError):
        return str(error)
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    more = len(error.errors()) - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
