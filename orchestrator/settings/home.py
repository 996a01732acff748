"""Where orchestrate keeps its state: ``$ORCHESTRATE_HOME`` (default ``~/.orchestrate``).

Layout (a contract, DESIGN.md): ``config.toml``, ``AGENTS.md``, ``AGENTS.override.md``, ``rules/*.rules``,
``prompts/*.md``, ``sessions/``. Nothing is created here; writers create what they write, when they write it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Home", "resource_path"]


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Home:
        env = os.environ if environ is None else environ
        raw = env.get("ORCHESTRATE_HOME")
        return cls(Path(raw).expanduser().resolve() if raw else Path.home() / ".orchestrate")

    @property
    def config_file(self) -> Path:
        return self.root / "config.toml"

    @property
    def agents_md(self) -> Path:
        return self.root / "AGENTS.md"

    @property
    def agents_override_md(self) -> Path:
        return self.root / "AGENTS.override.md"

    @property
    def rules_dir(self) -> Path:
        return self.root / "rules"

    @property
    def prompts_dir(self) -> Path:
        return self.root / "prompts"

    @property
    def sessions_dir(self) -> Path:
        return self.root / "sessions"


def resource_path(name: str) -> Path:
    """A file shipped in the top-level ``config/`` folder (``default.toml``, ``default.rules``, profiles).

    From a source checkout that is ``<repo>/config/NAME``; from a wheel it is installed as the ``orchestrator._config``
    package data.
    """
    source = Path(__file__).resolve().parents[2] / "config" / name
    if source.exists():
        return source
    from importlib.resources import files

    return Path(str(files("orchestrator._config").joinpath(name)))
