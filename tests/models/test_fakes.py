"""orchestrator.testing: the scripted and function models, and selecting them through model strings."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel

from orchestrator.core.contracts import ChatModel, Message, ModelRequest, ModelResponse, ToolCall, Usage
from orchestrator.core.errors import ConfigError, ModelError
from orchestrator.testing import FunctionModel, ScriptedModel, model_from_string

REQUEST = ModelRequest(messages=(Message(role="user", content="two words"),))


class Point(BaseModel):
    x: int


def test_scripted_model_replays_every_kind_of_reply_in_order() -> None:
    own = ModelResponse(content="own", usage=Usage(prompt_tokens=100))
    model = ScriptedModel(["text", Point(x=1), {"tool_calls": [{"name": "ls", "arguments": {"d": "."}}]}, own])
    replies = [anyio.run(model.complete, REQUEST) for _ in range(4)]
    assert [r.content for r in replies] == ["text", '{"x":1}', "", "own"]
    assert replies[2].tool_calls == (ToolCall(id="call_0", name="ls", arguments={"d": "."}),)
    assert replies[0].usage == Usage(prompt_tokens=2, completion_tokens=1)
    assert replies[3].usage.prompt_tokens == 100 and replies[3].model == "scripted"
    assert model.requests == [REQUEST] * 4
    assert isinstance(model, ChatModel)


def test_exhausted_scripted_model_says_so() -> None:
    model = ScriptedModel(["only"], name="coder-script")
    anyio.run(model.complete, REQUEST)
    with pytest.raises(ModelError, match="'coder-script' has no reply left: all 1 were used"):
        anyio.run(model.complete, REQUEST)


def test_bad_reply_shape_is_a_clear_error() -> None:
    with pytest.raises(ModelError, match="unknown keys"):
        anyio.run(ScriptedModel([{"text": "x"}]).complete, REQUEST)


def test_function_model_sync_async_and_cost() -> None:
    async def slow(request: ModelRequest) -> str:
        await anyio.lowlevel.checkpoint()
        return "one two three"

    model = FunctionModel(slow, cost_per_token=0.5)
    response = anyio.run(model.complete, REQUEST)
    assert (response.content, response.usage.cost_usd) == ("one two three", 2.5)
    assert anyio.run(FunctionModel(lambda r: Point(x=3)).complete, REQUEST).content == '{"x":3}'


def test_scripted_model_string_reads_a_replies_file(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(["a", {"content": "b", "tool_calls": [{"name": "t", "arguments": {}}]}]))
    model = model_from_string(f"scripted:{path}")
    assert model.name == f"scripted:{path}"
    assert anyio.run(model.complete, REQUEST).content == "a"
    assert anyio.run(model.complete, REQUEST).tool_calls[0].name == "t"

    path.write_text(json.dumps({"replies": ["x"], "native_tools": True}))
    assert getattr(model_from_string(f"scripted:{path}"), "native_tools", None) is True


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("[1, 2", "invalid JSON at line 1"), ('{"a": 1}', "must hold a JSON list")],
)
def test_bad_replies_files_are_config_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        model_from_string(f"scripted:{path}")


def test_function_model_string_imports_the_callable() -> None:
    model = model_from_string("function:tests.models.model_functions:echo")
    assert anyio.run(model.complete, REQUEST).content == "TWO WORDS"
    other = model_from_string("function:tests.models.model_functions:async_echo")
    assert anyio.run(other.complete, REQUEST).content == "async:two words"


@pytest.mark.parametrize(
    ("spec", "message"),
    [("function:nope_module_xyz:f", "cannot import"), ("function:tests.models.model_functions", "expected"),
     ("function:tests.models.model_functions:not_callable", "not a callable"), ("fake:x", "unknown fake model")],
)
def test_bad_function_strings_are_config_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        model_from_string(spec)
