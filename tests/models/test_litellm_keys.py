"""A missing or refused API key is reported at once, naming the variable to set: no retries (issue 14: a missing
OpenAI key took 12 s and four retries). Real litellm against a real loopback HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from openai_stub_server import StubServer, error, stub_server

from agents import prompts
from orchestrator.cli.main import cli
from orchestrator.core.contracts import Message, ModelRequest, ModelResponse
from orchestrator.core.errors import ModelUnavailableError
from orchestrator.models.gateway import ModelGateway
from orchestrator.models.litellm_backend import LiteLLMModel
from orchestrator.settings.schema import Settings

USER = (Message(role="user", content="hi"),)
RETRYING = {"model": "openai/x", "models": {"max_retries": 3, "retry_backoff_s": 0}}


@pytest.fixture
def server() -> Iterator[StubServer]:
    with stub_server() as state:
        yield state


class Counted:
    """Counts the calls that reach the real adapter (the gateway's attempts)."""

    def __init__(self, inner: LiteLLMModel) -> None:
        self.inner, self.calls = inner, 0
        self.name, self.native_tools = inner.name, False

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        return await self.inner.complete(request)


def _gateway(model: Counted) -> ModelGateway:
    return ModelGateway(Settings.model_validate(RETRYING), reask=prompts.load("structured_reask"),
                        resolve=lambda name, cfg: model)


def test_a_401_is_asked_once_and_names_the_key_variable(server: StubServer) -> None:
    server.replies.extend([error(401, "Incorrect API key provided")] * 5)
    model = Counted(LiteLLMModel("openai/x", api_base=server.url, api_key="wrong", timeout_s=30))
    with pytest.raises(ModelUnavailableError) as info:
        anyio.run(_gateway(model).complete, "planner", USER)
    assert len(server.requests) == 1 and model.calls == 1
    assert "refused the credentials (Incorrect API key provided)" in info.value.message
    assert info.value.hint is not None and "OPENAI_API_KEY" in info.value.hint


@pytest.mark.parametrize("status", [403, 404])
def test_permission_and_not_found_are_not_retried(server: StubServer, status: int) -> None:
    server.replies.extend([error(status, "nope")] * 5)
    model = Counted(LiteLLMModel("openai/x", api_base=server.url, api_key="k", timeout_s=30))
    with pytest.raises(ModelUnavailableError):
        anyio.run(_gateway(model).complete, "planner", USER)
    assert len(server.requests) == 1 and model.calls == 1


def test_a_missing_key_is_one_attempt_naming_the_variable(server: StubServer) -> None:
    # litellm raises "Missing credentials" as an InternalServerError before sending anything: it was retried.
    model = Counted(LiteLLMModel("openai/x", api_base=server.url, timeout_s=30))
    with pytest.raises(ModelUnavailableError) as info:
        anyio.run(_gateway(model).complete, "planner", USER)
    assert model.calls == 1 and server.requests == []
    assert info.value.message == "openai/x: no API key (OPENAI_API_KEY is not set)"
    assert info.value.hint is not None and info.value.hint.startswith("export OPENAI_API_KEY=")


def test_models_check_without_a_key_exits_2_with_one_line(server: StubServer, orchestrate_home: Path) -> None:
    from rich.console import Console

    from orchestrator.cli.context import CliContext

    out, err = Console(record=True, width=80), Console(record=True, width=80)
    environ = {"ORCHESTRATE_HOME": str(orchestrate_home), "ORCHESTRATE_FORBID_MODEL_REQUESTS": "0"}
    code = cli(["models", "check", "openai/x", "--api-base", server.url], CliContext(out=out, err=err,
                                                                                     environ=environ))
    text = out.export_text() + err.export_text()
    assert code == 2 and server.requests == []
    assert "OPENAI_API_KEY is not set" in text and "InternalServerError" not in text
