"""Shared fixtures of the integration tests: the anyio backend and the echo MCP server's command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ECHO_SERVER = Path(__file__).resolve().parent / "mcp_echo_server.py"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def echo_command() -> tuple[str, tuple[str, ...]]:
    """``(command, args)`` that start the echo MCP server."""
    return sys.executable, (str(ECHO_SERVER),)
