"""Model functions selected by ``function:tests.models.model_functions:NAME`` model strings in tests."""

from __future__ import annotations

from orchestrator.seams import ModelRequest


def echo(request: ModelRequest) -> str:
    """Replies with the last message's content, upper-cased."""
    return request.messages[-1].content.upper()


async def async_echo(request: ModelRequest) -> str:
    return "async:" + request.messages[-1].content


not_callable = 42
