"""What each model can do, as measured by ``orchestrate models check``: cached in
``$ORCHESTRATE_HOME/cache/capabilities.json`` so agents can choose native tool calls or structured JSON actions.

The file maps model strings to :class:`Capabilities`; a corrupt or foreign file is treated as empty (it is a cache,
rewritten by the next check), and writes are atomic (temp file + rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.home import Home

__all__ = ["Capabilities", "CapabilityCache"]


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
