"""McpSession against the real echo server: approvals through the console approver (allow for the session, deny with
a message), start-up warnings as events, and what a call says once the session is closed."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.core.events import ListSink
from orchestrator.mcp.session import McpSession
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings
from orchestrator.terminal.approver import ConsoleApprover
from policies.approval import NonInteractiveApprover
from tests.integrations.conftest import ECHO_SERVER

pytestmark = pytest.mark.anyio


def _session(tmp_path: Path, home: Path, answers: str, *, args: tuple[str, ...] = ()) -> tuple[McpSession, ListSink,
                                                                                                 io.StringIO]:
    settings = Settings.model_validate({"mcp_servers": {"echo": {"command": sys.executable,
                                                                 "args": [str(ECHO_SERVER), *args]}}})
    shown = io.StringIO()
    approver = ConsoleApprover(Console(file=shown, width=200), home=Home(home), project_root=tmp_path,
                               stream=io.StringIO(answers))
    events = ListSink()
    mcp = McpSession.from_settings(settings, home=Home(home), cwd=tmp_path, environ=os.environ, approver=approver,
                                   events=events)
    assert mcp is not None
    return mcp, events, shown


async def test_allow_for_the_session_asks_once(tmp_path: Path, orchestrate_home: Path) -> None:
    # A second question would read "n" and deny: the second call proves the session allowance.
    mcp, events, shown = _session(tmp_path, orchestrate_home, "s\nn\n\n")
    try:
        assert "mcp__echo__echo" in {tool.name for tool in await mcp.tools()}
        assert await mcp.call("s1", "mcp__echo__echo", {"text": "one"}) == "one"
        assert await mcp.call("s1", "mcp__echo__echo", {"text": "two"}) == "two"
    finally:
        mcp.close()
    assert [e.decision for e in events.of_type("command.decided")] == ["prompt", "allow"]  # type: ignore[attr-defined]
    assert shown.getvalue().count("Call MCP tool?") == 1
    assert mcp.closed
    assert "unavailable" in await mcp.call("s1", "mcp__echo__echo", {"text": "late"})


async def test_a_denial_tells_the_model_why(tmp_path: Path, orchestrate_home: Path) -> None:
    mcp, _, _ = _session(tmp_path, orchestrate_home, "n\nuse the README instead\n")
    try:
        text = await mcp.call("s1", "mcp__echo__echo", {"text": "x"})
    finally:
        mcp.close()
    assert text.startswith("NOT CALLED: MCP tool mcp__echo__echo: use the README instead")


async def test_a_server_that_cannot_start_is_one_warning_event(tmp_path: Path, orchestrate_home: Path) -> None:
    mcp, events, _ = _session(tmp_path, orchestrate_home, "", args=("--exit-at-start",))
    try:
        assert await mcp.tools() == ()
        assert await mcp.tools() == ()
    finally:
        mcp.close()
    warnings = events.of_type("warning")
    assert len(warnings) == 1 and "MCP server 'echo'" in warnings[0].message  # type: ignore[attr-defined]


async def test_no_enabled_server_means_no_session(tmp_path: Path, orchestrate_home: Path) -> None:
    settings = Settings.model_validate({"mcp_servers": {"off": {"command": "x", "enabled": False}}})
    assert McpSession.from_settings(settings, home=Home(orchestrate_home), cwd=tmp_path, environ={},
                                    approver=NonInteractiveApprover(), events=ListSink()) is None


async def test_the_python_api_owns_its_mcp_servers(tmp_path: Path, orchestrate_home: Path) -> None:
    """``Orchestrator.from_config`` makes the run's MCP session its own: the steps see it, and ``aclose`` stops the
    servers."""
    from orchestrator.api import Orchestrator
    from orchestrator.compose import load_config
    from orchestrator.settings.config import CliOverrides

    (orchestrate_home / "config.toml").write_text(
        f'[mcp_servers.echo]\ncommand = {str(sys.executable)!r}\nargs = [{str(ECHO_SERVER)!r}]\n')
    loaded = load_config(cwd=tmp_path, cli=CliOverrides(model="scripted:" + str(tmp_path / "none.json")),
                         home=Home(orchestrate_home), environ=os.environ)
    orch = Orchestrator.from_config(loaded, interactive=False, cwd=tmp_path)
    mcp = orch._deps.mcp  # what the steps' toolboxes are given
    assert mcp is not None and not mcp.closed
    assert "mcp__echo__echo" in {tool.name for tool in await mcp.tools()}  # started on first use
    await orch.aclose()
    assert mcp.closed
