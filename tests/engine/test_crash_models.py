"""Model functions for the crash tests (``function:tests.engine.test_crash_models:NAME``; no tests here).

They answer from the request alone, so a resumed process gets the same answers: the planner returns :data:`PLAN`
(alpha and beta in parallel, then gamma; each writes its own file; ``chain_planner`` returns :data:`CHAIN`, two steps
in turn, ``named_planner`` the same for the names the task gives), the coder writes the file its goal names and, once
its conversation has a reply of its own, says done; the reviewer approves. Every call costs :data:`CALL_USAGE` and,
when it returns, appends its role to the file named by ``$CRASH_TEST_CALLS``.
"""

from __future__ import annotations

import json
import os
import re

from orchestrator.core.contracts import ModelRequest, ModelResponse, Usage

# The scheduler tests need this three-step plan as planned: small plans are otherwise merged into one coder step.
NO_MERGE = "planner.merge_chars=0"
CALL_USAGE = Usage(prompt_tokens=10, completion_tokens=2, cost_usd=0.001)
PLAN = {"summary": "three files", "steps": [
    {"id": "alpha", "role": "coder", "goal": "create alpha.txt with the line ALPHA", "files": ["alpha.txt"]},
    {"id": "beta", "role": "coder", "goal": "create beta.txt with the line BETA", "files": ["beta.txt"]},
    {"id": "gamma", "role": "coder", "goal": "create gamma.txt with the line GAMMA", "files": ["gamma.txt"],
     "depends_on": ["alpha", "beta"]},
]}


# Two steps in a chain (the shape: s2 starts only once s1 completed), each writing its own file.
CHAIN = {"summary": "two files in turn", "steps": [
    {"id": "s1", "role": "coder", "goal": "create alpha.txt with the line ALPHA", "files": ["alpha.txt"]},
    {"id": "s2", "role": "coder", "goal": "create beta.txt with the line BETA", "files": ["beta.txt"],
     "depends_on": ["s1"]},
]}


def _reply(role: str, content: str) -> ModelResponse:
    log = os.environ.get("CRASH_TEST_CALLS")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(role + "\n")
    return ModelResponse(content=content, usage=CALL_USAGE)


def planner(request: ModelRequest) -> ModelResponse:
    return _reply("planner", json.dumps(PLAN))


def chain_planner(request: ModelRequest) -> ModelResponse:
    return _reply("planner", json.dumps(CHAIN))


def named_planner(request: ModelRequest) -> ModelResponse:
    """:data:`CHAIN` for the two file names the task gives ("write NAME and NAME"): NAME.txt holds NAME upper-cased."""
    task = "\n".join(m.content for m in request.messages if m.role == "user")
    first, second = re.findall(r"write (\w+) and (\w+)", task)[0]
    steps = [{"id": f"s{i}", "role": "coder", "goal": f"create {n}.txt with the line {n.upper()}",
              "files": [f"{n}.txt"], "depends_on": [f"s{i - 1}"] if i > 1 else []}
             for i, n in enumerate((first, second), 1)]
    return _reply("planner", json.dumps({"summary": "two named files", "steps": steps}))


def coder(request: ModelRequest) -> ModelResponse:
    """Writes the file its goal names; once it has acted (its conversation has a reply of its own), is done."""
    text = "\n".join(m.content for m in request.messages if m.role in ("system", "user"))
    name, line = re.findall(r"create (\w+)\.txt with the line (\w+)", text)[0]
    if any(m.role == "assistant" for m in request.messages):
        return _reply("coder", json.dumps({"action": "done", "summary": f"wrote {name}.txt"}))
    return _reply("coder", json.dumps({"action": "write_file", "path": f"{name}.txt", "content": line + "\n"}))


def reviewer(request: ModelRequest) -> ModelResponse:
    return _reply("reviewer", json.dumps({"checklist": [{"requirement": "the file has its line", "done": True}],
                                          "comments": [], "verdict": "approve"}))


async def slow_coder(request: ModelRequest) -> ModelResponse:
    """A coder that takes a minute to answer (the SIGINT test interrupts it)."""
    import anyio

    await anyio.sleep(60)
    return coder(request)
