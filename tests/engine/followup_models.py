"""Model functions for the follow-up and retry CLI tests (``function:tests.engine.followup_models:NAME``; no tests).

The planner plans one coder step a name for "write NAME and NAME" (in turn); the coder writes NAME.txt with NAME
upper-cased, or lower-cased when the user's guidance in its prompt says "lowercase", then says done. Each call
appends a JSON line to ``$FOLLOWUP_LOG``: the role and the text of the user messages it was sent.
"""

from __future__ import annotations

import json
import os
import re

from orchestrator.core.contracts import ModelRequest, ModelResponse, Usage


def _reply(role: str, request: ModelRequest, content: str) -> ModelResponse:
    log = os.environ.get("FOLLOWUP_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"role": role, "user": [m.content for m in request.messages if m.role == "user"]})
                    + "\n")
    return ModelResponse(content=content, usage=Usage(prompt_tokens=10, completion_tokens=2, cost_usd=0.001))


def planner(request: ModelRequest) -> ModelResponse:
    task = [m.content for m in request.messages if m.role == "user"][-1]
    names = re.findall(r"write (\w+) and (\w+)", task)[0]
    steps = [{"id": f"s{i}", "role": "coder", "goal": f"create {n}.txt with the line {n.upper()}",
              "files": [f"{n}.txt"], "depends_on": [f"s{i - 1}"] if i > 1 else []} for i, n in enumerate(names, 1)]
    return _reply("planner", request, json.dumps({"summary": "named files", "steps": steps}))


def coder(request: ModelRequest) -> ModelResponse:
    text = "\n".join(m.content for m in request.messages if m.role in ("system", "user"))
    name, line = re.findall(r"create (\w+)\.txt with the line (\w+)", text)[0]
    if any(m.role == "assistant" for m in request.messages):
        return _reply("coder", request, json.dumps({"action": "done", "summary": f"wrote {name}.txt"}))
    if "lowercase" in text:
        line = line.lower()
    return _reply("coder", request, json.dumps({"action": "write_file", "path": f"{name}.txt", "content": line + "\n"}))


def reviewer(request: ModelRequest) -> ModelResponse:
    return _reply("reviewer", request, json.dumps({
        "checklist": [{"requirement": "the file has its line", "done": True}], "comments": [], "verdict": "approve"}))


def changing_coder(request: ModelRequest) -> ModelResponse:
    """:func:`coder`, and when the last message is the user's change request at the diff, rewrites its file as asked
    ("lowercase")."""
    last = request.messages[-1]
    if last.role == "user" and "The user reviewed your change" in last.content:
        text = "\n".join(m.content for m in request.messages if m.role in ("system", "user"))
        name, line = re.findall(r"create (\w+)\.txt with the line (\w+)", text)[0]
        line = line.lower() if "lowercase" in last.content else line
        return _reply("coder", request, json.dumps({"action": "write_file", "path": f"{name}.txt",
                                                    "content": line + "\n"}))
    return coder(request)
