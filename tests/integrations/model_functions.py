"""A model for every role, selected by ``-m function:tests.integrations.model_functions:NAME`` in the MCP tests.

It answers by what is asked (the response schema's name) rather than by call count, so it keeps working however many
times a role is consulted: the planner plans one coder step writing ``hello.txt``; the coder runs the command in
``COMMAND`` (if the task asks for one), writes the file, then says done; the reviewer approves.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.core.contracts import ModelRequest

PLAN = {"summary": "greet", "steps": [{"id": "greet", "role": "coder", "goal": "write hello.txt",
                                       "files": ["hello.txt"]}]}
COMMAND = "curl -sS https://example.com"


def greeter(request: ModelRequest) -> str:
    """Plans, codes and reviews the 'write hello.txt' task (see the module docstring)."""
    if request.schema_name == "Plan":
        return json.dumps(PLAN)
    if request.schema_name == "ReviewReply":
        return json.dumps(_approval(request.response_schema or {}))
    return json.dumps(_next_action(request))


def _approval(schema: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = {"verdict": "approve", "comments": []}
    if "checklist" in schema.get("properties", {}):
        reply["checklist"] = []
    return reply


def _next_action(request: ModelRequest) -> dict[str, Any]:
    said = " ".join(m.content for m in request.messages if m.role == "assistant")
    wants_command = any("with a command" in m.content for m in request.messages if m.role == "user")
    if wants_command and '"run"' not in said:
        return {"action": "run", "command": COMMAND}
    if "write_file" not in said:
        return {"action": "write_file", "path": "hello.txt", "content": "hello\n"}
    return {"action": "done", "summary": "wrote hello.txt"}
