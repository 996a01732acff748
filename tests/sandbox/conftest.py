"""Fixtures for the sandbox tests (the helpers live in ``sandbox_support``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.sandbox_support import Arena, build_arena, close_arena


@pytest.fixture
def arena() -> Iterator[Arena]:
    base = Path(tempfile.mkdtemp(prefix="orchestrate-sbx-test-", dir="/var/tmp")).resolve()
    os.chmod(base, 0o755)
    made = build_arena(base)
    try:
        yield made
    finally:
        close_arena(made)
