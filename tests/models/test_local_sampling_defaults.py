"""The embedded model's sampling defaults: filled in only where a request (i.e. the config or the caller) sets none."""

from __future__ import annotations

from orchestrator.core.contracts import Message, ModelRequest
from orchestrator.models.local_model import DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE, with_local_defaults

HELLO = (Message(role="user", content="hi"),)


def test_unset_temperature_and_max_tokens_get_the_local_defaults() -> None:
    filled = with_local_defaults(ModelRequest(messages=HELLO))
    assert (filled.temperature, filled.max_tokens) == (DEFAULT_TEMPERATURE, DEFAULT_MAX_TOKENS)
    assert DEFAULT_TEMPERATURE <= 0.2 and 0 < DEFAULT_MAX_TOKENS <= 4096


def test_values_set_by_the_config_or_the_caller_win() -> None:
    request = ModelRequest(messages=HELLO, temperature=0.7, max_tokens=64)
    assert with_local_defaults(request) == request
    partly = with_local_defaults(ModelRequest(messages=HELLO, temperature=0.9))
    assert (partly.temperature, partly.max_tokens) == (0.9, DEFAULT_MAX_TOKENS)
