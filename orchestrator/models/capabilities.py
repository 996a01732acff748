"""What each model can do, as measured by ``orchestrate models check``: cached in
``$ORCHESTRATE_HOME/cache/capabilities.json`` so agents can choose native tool calls or structured JSON actions.

:func:`probe` measures one model with four small requests: chat, JSON-schema output (valid on the first try),
native tool calls (or calls written as JSON text), and generation speed (completion tokens / wall time of one reply).

The file maps model strings to :class:`Capabilities`; a corrupt or foreign file is treated as empty (it is a cache,
rewritten by the next check), and writes are atomic (temp file + rename).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.core.contracts import ChatModel, Message, ModelRequest, ToolSpec
from orchestrator.models.output import extract_json, tool_calls_from_text
from orchestrator.settings.home import Home

__all__ = ["Capabilities", "CapabilityCache", "ProbeReport", "probe"]


class Capabilities(BaseModel):
    """One model's probe results. ``None`` means "not probed"."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    chat: bool | None = None
    json_schema: bool | None = None
    native_tools: bool | None = None
    tokens_per_s: float | None = None
    checked_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


class CapabilityCache:
    """Read and update the capability file of one orchestrate home."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_environ(cls, environ: Mapping[str, str] | None = None) -> CapabilityCache:
        return cls(Home.from_env(environ).root / "cache" / "capabilities.json")

    def load(self) -> dict[str, Capabilities]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict):
            return {}
        out: dict[str, Capabilities] = {}
        for model, entry in raw.items():
            try:
                out[str(model)] = Capabilities.model_validate(entry)
            except ValidationError:
                continue
        return out

    def get(self, model: str) -> Capabilities | None:
        return self.load().get(model)

    def native_tools(self, model: str) -> bool | None:
        """Whether ``model`` was measured to return native tool calls; ``None`` when never checked."""
        entry = self.get(model)
        return None if entry is None else entry.native_tools

    def put(self, model: str, capabilities: Capabilities) -> None:
        entries = self.load()
        entries[model] = capabilities
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {name: entry.model_dump(mode="json") for name, entry in sorted(entries.items())}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".capabilities.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=2)
                handle.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# ------------------------------------------------------------------------------------------------------- probes

_PROBE_TOKENS = 96


class _ProbeAnswer(BaseModel):
    city: str
    population: int


_PROBE_TOOL = ToolSpec(
    name="read_file",
    description="Read a file of the repository and return its text.",
    parameters={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)


class ProbeReport(BaseModel):
    """What ``models check`` found for one model: the capabilities, plus details for the table."""

    model: str
    capabilities: Capabilities = Field(default_factory=Capabilities)
    text_tools: bool | None = None  # tool calls written as JSON text (usable through structured actions)
    chat_seconds: float | None = None
    reply: str = ""
    error: str = ""
    exit_code: int = 0  # of the error that stopped the probe (2: unavailable or misconfigured)


def _user(text: str) -> tuple[Message, ...]:
    return (Message(role="user", content=text),)


async def probe(model: ChatModel, name: str) -> ProbeReport:
    """Probe chat, JSON-schema output, native tool calls and generation speed. Raises the model's errors on chat."""
    clock = time.perf_counter
    start = clock()
    chat = await model.complete(ModelRequest(messages=_user("Reply with the single word: pong"), max_tokens=16))
    chat_seconds = clock() - start
    schema_reply = await model.complete(
        ModelRequest(
            messages=_user("Give the largest city of France and its population as JSON."),
            response_schema=_ProbeAnswer.model_json_schema(),
            schema_name="CityAnswer",
            max_tokens=_PROBE_TOKENS,
        )
    )
    try:
        _ProbeAnswer.model_validate(extract_json(schema_reply.content))
        json_ok = True
    except (ValueError, ValidationError):
        json_ok = False
    tool_reply = await model.complete(
        ModelRequest(
            messages=_user("Read the file setup.py using the tool."), tools=(_PROBE_TOOL,), max_tokens=_PROBE_TOKENS
        )
    )
    native = any(call.name == _PROBE_TOOL.name for call in tool_reply.tool_calls)
    as_text = bool(tool_calls_from_text(tool_reply.content, [_PROBE_TOOL.name]))
    start = clock()
    counted = await model.complete(
        ModelRequest(messages=_user("Count from 1 to 40, separated by spaces."), max_tokens=_PROBE_TOKENS)
    )
    elapsed = clock() - start
    tokens = counted.usage.completion_tokens
    return ProbeReport(
        model=name,
        capabilities=Capabilities(
            chat=bool(chat.content.strip()),
            json_schema=json_ok,
            native_tools=native,
            tokens_per_s=round(tokens / elapsed, 1) if tokens and elapsed > 0 else None,
        ),
        text_tools=as_text,
        chat_seconds=round(chat_seconds, 2),
        reply=" ".join(chat.content.split())[:40],
    )
