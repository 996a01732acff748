"""Shared test setup: every test gets its own ORCHESTRATE_HOME; real model requests are forbidden unless marked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

_PROVIDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MISTRAL_API_KEY", "GROQ_API_KEY")


@pytest.fixture(autouse=True)
def orchestrate_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("orchestrate-home")
    monkeypatch.setenv("ORCHESTRATE_HOME", str(home))
    for key in _PROVIDER_KEYS:
        monkeypatch.delenv(key, raising=False)
    yield home


@pytest.fixture(autouse=True)
def _forbid_real_models(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    # The gateway refuses real (network) model calls while this is set; `local_model` tests talk to the embedded model.
    if request.node.get_closest_marker("local_model") is None:
        monkeypatch.setenv("ORCHESTRATE_FORBID_MODEL_REQUESTS", "1")
