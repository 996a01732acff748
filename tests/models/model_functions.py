"""Model functions selected by ``function:tests.models.model_functions:NAME`` model strings in tests."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.core.contracts import ModelRequest


def echo(request: ModelRequest) -> str:
    """Replies with the last message's content, upper-cased."""
    return request.messages[-1].content.upper()


async def async_echo(request: ModelRequest) -> str:
    return "async:" + request.messages[-1].content


not_callable = 42


def capable(request: ModelRequest) -> dict[str, Any]:
    """A model that does everything `models check` probes: chat, JSON per the schema, native tool calls."""
    if request.tools:
        return {"content": "", "tool_calls": [{"name": request.tools[0].name, "arguments": {"path": "setup.py"}}]}
    if request.response_schema is not None:
        return {"content": json.dumps({"city": "Paris", "population": 2100000})}
    return {"content": "pong " * 5}


def text_tools(request: ModelRequest) -> str:
    """Like a small local model: tool calls written as JSON text, prose instead of JSON."""
    if request.tools:
        return '```json\n{"name": "read_file", "arguments": {"path": "setup.py"}}\n```'
    return "Paris is the largest city."
