"""`orchestrate models check`, the capability cache, and the weights assembly (on small parts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from agents import prompts
from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli
from orchestrator.core.errors import ModelUnavailableError
from orchestrator.models.capabilities import Capabilities, CapabilityCache
from orchestrator.models.gateway import ModelGateway
from orchestrator.settings.schema import Settings

CAPABLE = "function:tests.models.model_functions:capable"
TEXT_TOOLS = "function:tests.models.model_functions:text_tools"


def run(argv: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = Console(record=True, width=200), Console(record=True, width=200)
    code = cli(argv, CliContext(out=out, err=err, environ=environ))
    return code, out.export_text(), err.export_text()


@pytest.fixture
def environ(orchestrate_home: Path) -> dict[str, str]:
    return {"ORCHESTRATE_HOME": str(orchestrate_home), "ORCHESTRATE_FORBID_MODEL_REQUESTS": "1"}


def test_check_probes_and_caches_capabilities(environ: dict[str, str], orchestrate_home: Path) -> None:
    code, out, _ = run(["models", "check", CAPABLE, "--json"], environ)
    assert code == 0
    report = json.loads(out)["models"][0]
    assert report["capabilities"] | {"checked_at": None} == {
        "chat": True, "json_schema": True, "native_tools": True, "tokens_per_s": report["capabilities"]["tokens_per_s"],
        "checked_at": None,
    }
    cached = json.loads((orchestrate_home / "cache" / "capabilities.json").read_text())
    assert cached[CAPABLE]["native_tools"] is True


def test_check_table_for_a_model_without_native_tools(environ: dict[str, str]) -> None:
    code, out, _ = run(["models", "check", TEXT_TOOLS], environ)
    assert code == 0
    row = next(line for line in out.splitlines() if "text_tools" in line)
    assert "as JSON text" in row and "JSON actions" in row
    assert CapabilityCache.for_environ(environ).native_tools(TEXT_TOOLS) is False


def test_check_without_model_checks_every_configured_role(environ: dict[str, str]) -> None:
    code, out, _ = run(["models", "check", "--json", "-c", f'model="{CAPABLE}"', "-c",
                        f'roles.coder.model="{TEXT_TOOLS}"'], environ)
    assert code == 0
    assert [m["model"] for m in json.loads(out)["models"]] == [CAPABLE, TEXT_TOOLS]


def test_check_of_an_unusable_model_reports_it_and_exits_2(environ: dict[str, str]) -> None:
    code, out, _ = run(["models", "check", "openai/gpt-4.1"], environ)
    assert code == 2
    assert "failed" in out and "forbidden" in out


def test_gateway_tool_mode_auto_uses_the_cache(environ: dict[str, str]) -> None:
    settings = Settings.model_validate({"model": TEXT_TOOLS})
    gateway = ModelGateway(settings, reask=prompts.load("structured_reask"), environ=environ)
    assert gateway.supports_native_tools("coder") is False
    CapabilityCache.for_environ(environ).put(TEXT_TOOLS, Capabilities(chat=True, native_tools=True))
    assert gateway.supports_native_tools("coder") is True


def test_corrupt_cache_reads_as_empty(tmp_path: Path) -> None:
    cache = CapabilityCache(tmp_path / "c.json")
    cache.path.write_text("{not json")
    assert cache.load() == {}
    cache.put("m", Capabilities(chat=True))
    assert cache.get("m") is not None and cache.get("m").chat is True  # type: ignore[union-attr]
    assert not list(tmp_path.glob(".capabilities.*"))


def test_assembly_rejects_parts_that_do_not_match_and_leaves_nothing(tmp_path: Path) -> None:
    from orchestrator.models.local_model import _assemble

    parts = []
    for i in range(3):
        part = tmp_path / f"part{i:02d}.bin"
        part.write_bytes(bytes([i]) * 1000)
        parts.append(part)
    target = tmp_path / "out" / "model.gguf"
    target.parent.mkdir()
    with pytest.raises(ModelUnavailableError, match="corrupt model \\(3000 bytes"):
        _assemble(parts, target)
    assert list(target.parent.iterdir()) == []


def test_ollama_is_listed_when_a_server_answers() -> None:
    import json as _json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from orchestrator.cli.models import ollama_models

    class Tags(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = _json.dumps({"models": [{"name": "qwen2.5-coder:7b"}, {"name": "llama3.2:latest"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tags)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api/tags"
    try:
        assert ollama_models(url) == ["qwen2.5-coder:7b", "llama3.2:latest"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert ollama_models(url, timeout_s=0.2) is None  # nothing answers any more


def test_local_and_fakes_are_allowed_while_real_requests_are_forbidden(environ: dict[str, str]) -> None:
    from orchestrator.models.local_model import LocalModel
    from orchestrator.models.routing import resolve_model
    from orchestrator.settings.schema import RoleConfig

    settings = Settings()
    local = resolve_model("local", RoleConfig(), settings=settings, environ=environ)
    assert isinstance(local, LocalModel) and local.server is None  # nothing starts before the first call
    assert resolve_model(CAPABLE, RoleConfig(), settings=settings, environ=environ).name == CAPABLE
    with pytest.raises(ModelUnavailableError, match="forbidden"):
        resolve_model("ollama/qwen2.5-coder", RoleConfig(), settings=settings, environ=environ)
