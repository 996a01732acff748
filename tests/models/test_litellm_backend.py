"""The litellm adapter against a real OpenAI-compatible HTTP server on loopback (real litellm calls)."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from openai_stub_server import StubServer, completion, error, stub_server
from pydantic import BaseModel

from agents import prompts
from orchestrator.core.contracts import Message, ModelRequest, ToolCall, ToolSpec
from orchestrator.core.errors import ModelError, ModelUnavailableError
from orchestrator.models.gateway import ModelGateway, TransientModelError
from orchestrator.models.litellm_backend import LiteLLMModel
from orchestrator.settings.schema import Settings

USER = (Message(role="user", content="hi"),)


class Answer(BaseModel):
    answer: int


@pytest.fixture
def server() -> Iterator[StubServer]:
    with stub_server() as state:
        yield state


def model(server: StubServer) -> LiteLLMModel:
    return LiteLLMModel("openai/x", api_base=server.url, api_key="test-key", timeout_s=30)


def test_chat_completion_content_usage_and_request(server: StubServer) -> None:
    server.replies.append(completion("hello back", prompt_tokens=11, completion_tokens=2))
    response = anyio.run(model(server).complete, ModelRequest(messages=USER, temperature=0.2, max_tokens=64))
    assert response.content == "hello back"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.cost_usd) == (11, 2, 0.0)
    sent = server.requests[0]
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert (sent["model"], sent["temperature"], sent["max_tokens"]) == ("x", 0.2, 64)
    assert server.headers[0]["authorization"] == "Bearer test-key"


def test_json_schema_response_format_is_sent(server: StubServer) -> None:
    server.replies.append(completion('{"answer": 42}'))
    request = ModelRequest(messages=USER, response_schema=Answer.model_json_schema(), schema_name="Answer")
    anyio.run(model(server).complete, request)
    assert server.requests[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Answer", "schema": Answer.model_json_schema(), "strict": False},
    }


def test_native_tools_are_offered_and_tool_calls_parsed(server: StubServer) -> None:
    call = {"id": "call_9", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}
    server.replies.append(completion(None, [call]))
    tools = (ToolSpec(name="read_file", description="read", parameters={"type": "object", "properties": {}}),)
    history = (*USER, Message(role="assistant", content="", tool_calls=(ToolCall(id="c0", name="read_file",
                                                                                   arguments={"path": "b"}),)),
               Message(role="tool", content="contents of b", tool_call_id="c0"))
    response = anyio.run(model(server).complete, ModelRequest(messages=history, tools=tools))
    assert response.tool_calls == (ToolCall(id="call_9", name="read_file", arguments={"path": "a.py"}),)
    sent = server.requests[0]
    assert sent["tools"][0]["function"]["name"] == "read_file"
    assert sent["messages"][1]["tool_calls"][0]["function"] == {"name": "read_file", "arguments": '{"path": "b"}'}
    assert sent["messages"][2] == {"role": "tool", "content": "contents of b", "tool_call_id": "c0"}


@pytest.mark.parametrize(
    ("status", "expected", "text"),
    [(429, TransientModelError, "slow down"), (500, TransientModelError, "boom"), (503, TransientModelError, "busy"),
     (401, ModelUnavailableError, "credentials"), (404, ModelUnavailableError, "no such model")],
)
def test_http_errors_map_to_our_exceptions(server: StubServer, status: int, expected: type[ModelError],
                                           text: str) -> None:
    messages = {429: "slow down", 500: "boom", 503: "busy", 401: "bad key", 404: "unknown model"}
    server.replies.extend([error(status, messages[status])] * 5)
    with pytest.raises(expected, match=text) as info:
        anyio.run(model(server).complete, ModelRequest(messages=USER))
    assert type(info.value) is expected
    assert "\n" not in str(info.value)
    assert len(server.requests) == 1  # litellm and the SDK do not retry on their own: the gateway does


def test_unreachable_server_is_transient() -> None:
    with stub_server() as gone:
        url = gone.url
    dead = LiteLLMModel("openai/x", api_base=url, api_key="k", timeout_s=5)
    with pytest.raises(TransientModelError):
        anyio.run(dead.complete, ModelRequest(messages=USER))


def test_gateway_retries_a_real_server_and_validates_structured_output(server: StubServer) -> None:
    server.replies.extend([error(503, "loading"), completion("The answer: {\"answer\": 7}")])
    settings = Settings.model_validate({"model": "openai/x", "models": {"retry_backoff_s": 0}})
    gateway = ModelGateway(settings, reask=prompts.load("structured_reask"), resolve=lambda name, cfg: model(server))
    assert anyio.run(gateway.structured, "planner", USER, Answer) == Answer(answer=7)
    assert len(server.requests) == 2
    assert gateway.usage["planner"].prompt_tokens == 7
