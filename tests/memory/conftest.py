"""Helpers for the memory tests: a project tree builder and a memory over a test home."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from memory import AgentsMdMemory
from orchestrator.settings.home import Home
from orchestrator.settings.schema import MemoryConfig

MakeMemory = Callable[..., AgentsMdMemory]


Write = Callable[[Path, "str | bytes"], Path]


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def write() -> Write:
    """``write(path, text)``: create ``path`` (and its parents) holding ``text`` (str as UTF-8, or bytes)."""
    return _write


@pytest.fixture
def make_memory(orchestrate_home: Path) -> MakeMemory:
    """``make_memory(max_bytes=..., fallback_filenames=..., root_markers=...)`` over the test's home."""

    def make(**config: object) -> AgentsMdMemory:
        return AgentsMdMemory(MemoryConfig.model_validate(config), Home(orchestrate_home))

    return make


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git-like project root (``.git`` directory) with nested directories a/b/c."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "a" / "b" / "c").mkdir(parents=True)
    return root
