"""Function models for the wiring tests (``-m function:tests.integrations.wiring_models:NAME``).

They answer by what is asked (the response schema's name, the tools offered), never by call count:

* the **planner** plans one coder step and copies the task it was given (its last user message) into the plan's
  summary, so a test can see what reached the planner;
* the **coder** calls the MCP tool ``echo`` once if MCP tools are offered (``mcp`` action in structured mode, a native
  ``mcp__echo__echo`` tool call in native mode), then writes ``seen.txt`` with the first line of the observation that
  followed the call (what the model saw), then says done; without MCP tools it writes ``seen.txt`` = ``no mcp``;
* the **reviewer** approves.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.core.contracts import ModelRequest, ModelResponse, ToolCall

PING = "ping-from-the-coder"


def wired(request: ModelRequest) -> str | ModelResponse:
    """Every role of the wiring tests (see the module docstring)."""
    if request.schema_name == "Plan":
        task = next(m.content for m in reversed(request.messages) if m.role == "user")
        return json.dumps({"summary": task, "steps": [
            {"id": "work", "role": "coder", "goal": "write seen.txt", "files": ["seen.txt"]}]})
    if request.schema_name == "ReviewReply":
        return json.dumps(_approval(request.response_schema or {}))
    if request.tools is not None:
        return _native_turn(request)
    return json.dumps(_structured_turn(request))


def _approval(schema: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = {"verdict": "approve", "comments": []}
    if "checklist" in schema.get("properties", {}):
        reply["checklist"] = [{"requirement": "write seen.txt", "done": True}]
    return reply


def _offers_mcp(request: ModelRequest) -> bool:
    system = request.messages[0].content if request.messages else ""
    return "mcp__echo__echo" in system


def _after_call(request: ModelRequest) -> str | None:
    """The first line of the observation that followed the model's MCP call, or None before the call."""
    for i, message in enumerate(request.messages):
        called = '"mcp"' in message.content or any(c.name.startswith("mcp__") for c in message.tool_calls)
        if message.role == "assistant" and called and i + 1 < len(request.messages):
            return request.messages[i + 1].content.splitlines()[0]
    return None


def _wrote(request: ModelRequest) -> bool:
    return any("write_file" in m.content or any(c.name == "write_file" for c in m.tool_calls)
               for m in request.messages if m.role == "assistant")


def _structured_turn(request: ModelRequest) -> dict[str, Any]:
    seen = _after_call(request)
    if _offers_mcp(request) and seen is None:
        return {"action": "mcp", "server": "echo", "tool": "echo", "arguments": {"text": PING}}
    if not _wrote(request):
        return {"action": "write_file", "path": "seen.txt", "content": f"{seen or 'no mcp'}\n"}
    return {"action": "done", "summary": "wrote seen.txt"}


def _native_turn(request: ModelRequest) -> ModelResponse:
    names = {tool.name for tool in request.tools or ()}
    seen = _after_call(request)
    if "mcp__echo__echo" in names and seen is None:
        call = ToolCall(id="call-1", name="mcp__echo__echo", arguments={"text": PING})
    elif not _wrote(request):
        call = ToolCall(id="call-2", name="write_file", arguments={"path": "seen.txt",
                                                                   "content": f"{seen or 'no mcp'}\n"})
    else:
        call = ToolCall(id="call-3", name="done", arguments={"summary": "wrote seen.txt"})
    return ModelResponse(content="", tool_calls=(call,))
