"""``orchestrate mcp-server`` as a subprocess, driven through a real MCP client session (our own McpHub)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.mcp.client import McpHub
from orchestrator.settings.schema import McpServerConfig
from tests.integrations.conftest import REPO_ROOT
from tests.integrations.model_functions import COMMAND
from tests.support import make_repo

pytestmark = pytest.mark.anyio

MODEL = "function:tests.integrations.model_functions:greeter"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"README.md": "demo\n"})


@pytest.fixture
async def hub(orchestrate_home: Path, tmp_path: Path) -> AsyncIterator[McpHub]:
    server = McpServerConfig(
        command=sys.executable,
        args=("-m", "orchestrator", "mcp-server", "-m", MODEL, "-c", "validate.discover=false"),
        env={"PYTHONPATH": str(REPO_ROOT), "ORCHESTRATE_HOME": str(orchestrate_home),
             "ORCHESTRATE_FORBID_MODEL_REQUESTS": "1"},
        required=True, startup_timeout_s=120, tool_timeout_s=240)
    async with McpHub({"orchestrate": server}, environ={"PATH": os.environ["PATH"]}, log_dir=tmp_path) as hub:
        yield hub


async def _call(hub: McpHub, tool: str, **arguments: Any) -> Any:
    text = await hub.call(f"mcp__orchestrate__{tool}", arguments)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pytest.fail(f"not a JSON result: {text}")


async def test_the_server_offers_plan_run_and_sessions(hub: McpHub) -> None:
    specs = {spec.name: spec for spec in hub.tools}
    assert set(specs) == {"mcp__orchestrate__plan", "mcp__orchestrate__run", "mcp__orchestrate__sessions"}
    run = specs["mcp__orchestrate__run"].parameters
    assert run["required"] == ["task", "cwd"]
    assert "never" in json.dumps(run["properties"]["approval_policy"])
    assert specs["mcp__orchestrate__sessions"].parameters.get("required", []) == []


async def test_plan_returns_the_plan_json_and_changes_nothing(hub: McpHub, repo: Path) -> None:
    plan = await _call(hub, "plan", task="write hello.txt", cwd=str(repo))
    assert plan["summary"] == "greet"
    assert [(s["id"], s["role"], s["files"], s["depends_on"]) for s in plan["steps"]] == [
        ("greet", "coder", ["hello.txt"], [])]
    assert not (repo / "hello.txt").exists()
    assert await _call(hub, "sessions", cwd=str(repo)) == {"sessions": []}


async def test_run_edits_the_tree_and_returns_status_summary_and_events(hub: McpHub, repo: Path) -> None:
    result = await _call(hub, "run", task="write hello.txt", cwd=str(repo))
    assert (result["status"], result["exit_code"], result["steps"]) == ("succeeded", 0, {"greet": "succeeded"})
    assert (repo / "hello.txt").read_text() == "hello\n"
    first, *rest = result["summary"].splitlines()
    assert first.startswith(f"session {result['session_id']}: succeeded (1 succeeded;")
    assert rest == ["- greet (coder): succeeded: wrote hello.txt"]
    types = [event["type"] for event in result["events"]]
    assert types[0] == "session.started" and types[-1] == "session.completed"
    assert {"plan.created", "step.started", "review.completed", "edit.applied", "step.completed"} <= set(types)
    assert result["events"][-1]["status"] == "succeeded"
    listed = (await _call(hub, "sessions", cwd=str(repo)))["sessions"]
    assert [(s["id"], s["status"], s["task"]) for s in listed] == [(result["session_id"], "succeeded",
                                                                     "write hello.txt")]
    assert [s["id"] for s in (await _call(hub, "sessions"))["sessions"]] == [result["session_id"]]


async def test_a_run_never_waits_for_an_approval(hub: McpHub, repo: Path) -> None:
    # Under `untrusted` the network command needs approval: nobody is asked, it is refused, and the run goes on.
    result = await _call(hub, "run", task="write hello.txt with a command", cwd=str(repo),
                         approval_policy="untrusted", sandbox="read-only")
    decided = [(e["argv"], e["decision"]) for e in result["events"] if e["type"] == "command.decided"]
    assert decided == [(["bash", "-c", COMMAND], "prompt")]
    assert not any(e["type"] == "command.executed" for e in result["events"])
    assert result["steps"] == {"greet": "succeeded"}  # the coder read the refusal and went on


async def test_custom_prompts_expand_as_on_the_command_line(hub: McpHub, repo: Path, orchestrate_home: Path) -> None:
    (orchestrate_home / "prompts").mkdir()
    (orchestrate_home / "prompts" / "greet.md").write_text("---\ndescription: greet\n---\nwrite hello.txt for $1\n")
    result = await _call(hub, "run", task="/greet Ada", cwd=str(repo))
    listed = (await _call(hub, "sessions", cwd=str(repo)))["sessions"]
    assert (result["status"], listed[0]["task"]) == ("succeeded", "write hello.txt for Ada")


async def test_bad_input_is_a_one_line_tool_error(hub: McpHub, repo: Path) -> None:
    relative = await hub.call("mcp__orchestrate__run", {"task": "x", "cwd": "repo"})
    assert relative == ("MCP tool mcp__orchestrate__run returned an error: "
                        "Error executing tool run: cwd must be an absolute path, got 'repo'")
    missing = await hub.call("mcp__orchestrate__plan", {"task": "x", "cwd": str(repo / "nope")})
    assert missing.endswith(f"cwd {repo / 'nope'}: no such directory")
    unknown = await hub.call("mcp__orchestrate__run", {"task": "/nope", "cwd": str(repo)})
    assert unknown.endswith("unknown prompt /nope (no custom prompts yet: add NAME.md to "
                            f"{Path(os.environ['ORCHESTRATE_HOME']) / 'prompts'})")
    empty = await hub.call("mcp__orchestrate__run", {"task": "  ", "cwd": str(repo)})
    assert "the task is empty" in empty
    assert await _call(hub, "sessions", cwd=str(repo)) == {"sessions": []}
