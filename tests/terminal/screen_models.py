"""Function models for the terminal tests and the README captures (``-m function:tests.terminal.screen_models:NAME``).

``parallel``: the planner plans two independent coder steps, ``slow`` (writes slow.txt) and ``quick`` (writes
quick.txt); each coder writes its file and says done; the reviewer approves. The ``slow`` coder first waits until
the file named by ``$SCREEN_GATE`` exists (when the variable is set), so a test decides when that step may finish:
e.g. while the other step's question is open. Each model call for ``slow`` after the gate appends its kind to
``$SCREEN_GATE.log``, so a test can see that step progress without looking at the screen.

They answer by what is asked (schema, the step's goal in the messages), never by call count.
"""

from __future__ import annotations

import json
import os
from typing import Any

import anyio

from orchestrator.core.contracts import ModelRequest

APPROVE: dict[str, Any] = {"verdict": "approve", "comments": []}


async def parallel(request: ModelRequest) -> str:
    """Every role of the two-step parallel run (see the module docstring)."""
    if request.schema_name == "Plan":
        return json.dumps({"summary": "two files, in parallel", "steps": [
            {"id": "slow", "role": "coder", "goal": "write slow.txt", "files": ["slow.txt"]},
            {"id": "quick", "role": "coder", "goal": "write quick.txt", "files": ["quick.txt"]}]})
    name = "slow" if any("slow.txt" in m.content for m in request.messages) else "quick"
    if name == "slow":
        await _wait_for_gate()
    if request.schema_name == "ReviewReply":
        _note(name, "review")
        reply = dict(APPROVE)
        if "checklist" in (request.response_schema or {}).get("properties", {}):
            reply["checklist"] = [{"requirement": f"write {name}.txt", "done": True}]
        return json.dumps(reply)
    _note(name, "code")
    wrote = any("write_file" in m.content for m in request.messages if m.role == "assistant")
    if not wrote:
        return json.dumps({"action": "write_file", "path": f"{name}.txt", "content": f"{name}\n"})
    return json.dumps({"action": "done", "summary": f"wrote {name}.txt"})


async def _wait_for_gate() -> None:
    gate = os.environ.get("SCREEN_GATE")
    # The gate is a file another process creates: there is no event to wait on. The other steps go on meanwhile.
    while gate and not await anyio.Path(gate).exists():  # noqa: ASYNC110
        await anyio.sleep(0.05)


def _note(name: str, kind: str) -> None:
    gate = os.environ.get("SCREEN_GATE")
    if gate and name == "slow":
        with open(f"{gate}.log", "a", encoding="utf-8") as log:
            log.write(kind + "\n")


async def changeable(request: ModelRequest) -> str:
    """One step that writes note.txt: ``hello``, or ``HELLO`` once the user's change request says "louder"; and
    ok.txt too once the user's guidance after a failure names it. The reviewer approves."""
    if request.schema_name == "Plan":
        return json.dumps({"summary": "a note", "steps": [
            {"id": "note", "role": "coder", "goal": "write note.txt", "files": ["note.txt"]}]})
    if request.schema_name == "ReviewReply":
        reply = dict(APPROVE)
        if "checklist" in (request.response_schema or {}).get("properties", {}):
            reply["checklist"] = [{"requirement": "write note.txt", "done": True}]
        return json.dumps(reply)
    told = [m.content for m in request.messages if m.role == "user"]
    loud = any("The user reviewed your change" in t and "louder" in t for t in told)
    wanted = {"note.txt": "HELLO\n" if loud else "hello\n"}
    if any("Guidance from the user" in t and "ok.txt" in t for t in told):
        wanted["ok.txt"] = "ok\n"
    for path, content in wanted.items():
        if (path, content) not in _written(request):
            return json.dumps({"action": "write_file", "path": path, "content": content})
    return json.dumps({"action": "done", "summary": "wrote " + ", ".join(wanted)})


def _written(request: ModelRequest) -> set[tuple[str, str]]:
    """(path, content) of every write_file action the coder sent in this conversation."""
    written = set()
    for message in request.messages:
        if message.role != "assistant":
            continue
        try:
            action = json.loads(message.content)
        except ValueError:
            continue
        if isinstance(action, dict) and action.get("action") == "write_file":
            written.add((str(action.get("path")), str(action.get("content"))))
    return written
