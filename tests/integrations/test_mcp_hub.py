"""McpHub against a real MCP server subprocess (tests/integrations/mcp_echo_server.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from orchestrator.core.errors import InputError
from orchestrator.mcp.client import McpHub, qualified_tool_name
from orchestrator.settings.schema import McpServerConfig

pytestmark = pytest.mark.anyio

Command = tuple[str, tuple[str, ...]]


def _echo(command: Command, **extra: object) -> McpServerConfig:
    return McpServerConfig.model_validate({"command": command[0], "args": command[1], **extra})


def _environ(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **extra}


async def test_tools_are_listed_with_qualified_names_and_schemas(echo_command: Command, tmp_path: Path) -> None:
    async with McpHub({"echo": _echo(echo_command)}, environ=_environ(), log_dir=tmp_path) as hub:
        specs = {spec.name: spec for spec in hub.tools}
        assert hub.warnings == ()
    assert {"mcp__echo__echo", "mcp__echo__add", "mcp__echo__fail", "mcp__echo__sleep"} <= set(specs)
    add = specs["mcp__echo__add"]
    assert add.description == "[MCP server echo] Add two integers."
    assert add.parameters["type"] == "object"
    assert add.parameters["required"] == ["a", "b"]
    assert add.parameters["properties"]["a"]["type"] == "integer"


async def test_calls_return_the_text_content(echo_command: Command, tmp_path: Path) -> None:
    async with McpHub({"echo": _echo(echo_command)}, environ=_environ(), log_dir=tmp_path) as hub:
        assert await hub.call("mcp__echo__echo", {"text": "héllo\nworld"}) == "héllo\nworld"
        assert await hub.call("mcp__echo__add", {"a": 2, "b": 40}) == "42"
        assert hub.has_tool("mcp__echo__add") and not hub.has_tool("mcp__echo__nope")


async def test_failures_become_observations_not_exceptions(echo_command: Command, tmp_path: Path) -> None:
    config = _echo(echo_command, tool_timeout_s=0.5)
    async with McpHub({"echo": config}, environ=_environ(), log_dir=tmp_path) as hub:
        failed = await hub.call("mcp__echo__fail", {"message": "disk is full"})
        bad_args = await hub.call("mcp__echo__add", {"a": "x"})
        unknown = await hub.call("mcp__echo__nope", {})
        timed_out = await hub.call("mcp__echo__sleep", {"seconds": 5})
        still_alive = await hub.call("mcp__echo__echo", {"text": "after"})
    assert failed.startswith("MCP tool mcp__echo__fail returned an error:") and "disk is full" in failed
    assert bad_args.startswith("MCP tool mcp__echo__add returned an error:") and "b" in bad_args
    assert unknown.startswith("unknown MCP tool 'mcp__echo__nope'; available MCP tools: mcp__echo__add,")
    assert timed_out == "MCP tool mcp__echo__sleep timed out after 0.5s"
    assert still_alive == "after"


async def test_a_server_that_dies_mid_session_is_reported_to_the_model(echo_command: Command,
                                                                       tmp_path: Path) -> None:
    async with McpHub({"echo": _echo(echo_command)}, environ=_environ(), log_dir=tmp_path) as hub:
        died = await hub.call("mcp__echo__exit_now", {})
        after = await hub.call("mcp__echo__echo", {"text": "x"})
    assert died.startswith("MCP tool mcp__echo__exit_now failed:")
    assert after.startswith("MCP tool mcp__echo__echo failed:")


async def test_environment_is_minimal_plus_what_is_configured(echo_command: Command, tmp_path: Path) -> None:
    config = _echo(echo_command, env={"GREETING": "hi"}, env_vars=["PASS_ME", "NOT_SET_ANYWHERE"])
    environ = _environ(OPENAI_API_KEY="sk-secret", PASS_ME="passed", LANG="C.UTF-8")
    async with McpHub({"echo": config}, environ=environ, log_dir=tmp_path) as hub:
        values = {name: await hub.call("mcp__echo__getenv", {"name": name})
                  for name in ("OPENAI_API_KEY", "PASS_ME", "GREETING", "LANG", "NOT_SET_ANYWHERE")}
    assert values == {"OPENAI_API_KEY": "<unset>", "PASS_ME": "passed", "GREETING": "hi", "LANG": "C.UTF-8",
                      "NOT_SET_ANYWHERE": "<unset>"}


async def test_servers_run_in_the_given_cwd(echo_command: Command, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    async with McpHub({"echo": _echo(echo_command)}, environ=_environ(), cwd=work, log_dir=tmp_path) as hub:
        reported = await hub.call("mcp__echo__cwd", {})
    assert reported == str(work)  # tmp_path has no symlinks on the way


async def test_servers_that_fail_to_start_are_one_line_warnings(echo_command: Command, tmp_path: Path) -> None:
    servers = {
        "echo": _echo(echo_command),
        "missing": McpServerConfig(command="no-such-mcp-server-binary", args=("--stdio",)),
        "dead": McpServerConfig(command=sys.executable, args=(echo_command[1][0], "--exit-at-start")),
        "off": McpServerConfig(command="no-such-binary-either", enabled=False),
    }
    async with McpHub(servers, environ=_environ(), log_dir=tmp_path) as hub:
        warnings = hub.warnings
        assert await hub.call("mcp__echo__echo", {"text": "ok"}) == "ok"
        assert all(spec.name.startswith("mcp__echo__") for spec in hub.tools)
        unavailable = await hub.call("mcp__dead__echo", {})
    assert len(warnings) == 2 and all("\n" not in line for line in warnings)
    missing = next(line for line in warnings if "'missing'" in line)
    assert missing.startswith("MCP server 'missing' (no-such-mcp-server-binary --stdio) failed to start: "
                              "command not found: no-such-mcp-server-binary")
    dead = next(line for line in warnings if "'dead'" in line)
    assert "--exit-at-start) failed to start:" in dead
    assert "its stderr ends: 'echo server: refusing to start (--exit-at-start)'" in dead
    assert str(tmp_path / "mcp-dead.log") in dead
    assert unavailable.startswith("unknown MCP tool 'mcp__dead__echo'")


async def test_a_required_server_that_fails_to_start_is_an_input_error(echo_command: Command,
                                                                       tmp_path: Path) -> None:
    servers = {"echo": _echo(echo_command),
               "must": McpServerConfig(command="no-such-mcp-server-binary", required=True)}
    with pytest.raises(InputError) as info:
        async with McpHub(servers, environ=_environ(), log_dir=tmp_path):
            pytest.fail("the hub must not start without a required server")
    assert info.value.exit_code == 2
    assert info.value.render().startswith("MCP server 'must' (no-such-mcp-server-binary) failed to start:")
    assert info.value.render().endswith("(fix or disable [mcp_servers.must])")


async def test_a_server_that_does_not_answer_times_out(tmp_path: Path) -> None:
    servers = {"mute": McpServerConfig(command="sleep", args=("60",), startup_timeout_s=0.5)}
    async with McpHub(servers, environ=_environ(), log_dir=tmp_path) as hub:
        assert hub.tools == ()
        assert hub.warnings == ("MCP server 'mute' (sleep 60) failed to start: no answer within 0.5s "
                                f"(startup_timeout_s) (log: {tmp_path / 'mcp-mute.log'})",)


async def test_long_output_is_bounded(echo_command: Command, tmp_path: Path) -> None:
    async with McpHub({"echo": _echo(echo_command)}, environ=_environ(), log_dir=tmp_path,
                      max_output_chars=100) as hub:
        text = await hub.call("mcp__echo__echo", {"text": "x" * 1000})
    assert text == "x" * 100 + "\n[... 900 more characters of MCP output dropped]"


def test_qualified_names_are_safe_unique_and_bounded() -> None:
    assert qualified_tool_name("git hub", "search.code") == "mcp__git_hub__search_code"
    long_a = qualified_tool_name("server", "a" * 80)
    long_b = qualified_tool_name("server", "a" * 79 + "b")
    assert len(long_a) == len(long_b) == 64 and long_a != long_b
    assert long_a.startswith("mcp__server__aaaa")


@pytest.mark.timeout(60)  # without the abort, the hub would wait out the 600 s startup timeout
async def test_cancelling_the_start_stops_servers_still_starting(tmp_path: Path) -> None:
    servers = {"mute": McpServerConfig(command="sleep", args=("600",), startup_timeout_s=600)}
    with anyio.move_on_after(1) as scope:
        async with McpHub(servers, environ=_environ(), log_dir=tmp_path):
            pytest.fail("the hub cannot be ready: its only server never answers")
    assert scope.cancelled_caught
