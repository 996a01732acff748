"""Model functions for the undo tests (``function:tests.engine.undo_models:NAME``; no tests here).

The planner returns :data:`PLAN`: ``s1`` changes the tree through one shell command (creates, deletes, renames into a
new directory, a mode change, an append), then ``s2`` (after it) rewrites ``mod.txt`` again and creates ``s2.txt``.
The coder takes its step's actions (:data:`ACTIONS`) one a turn, then says done; the reviewer approves. Answers come
from the request alone, so a resumed process gets the same ones.
"""

from __future__ import annotations

import json

from orchestrator.core.contracts import ModelRequest, ModelResponse

S1_COMMAND = ("mkdir -p sub && mv old_name.txt sub/new_name.txt && rm gone.txt && chmod +x tool.sh"
              " && printf 'two\\n' >> mod.txt && printf 'made\\n' > created.txt && chmod -x run.sh")
ACTIONS = {
    "S1GOAL": [{"action": "run", "command": S1_COMMAND}],
    "S2GOAL": [{"action": "write_file", "path": "mod.txt", "content": "three\n"},
               {"action": "write_file", "path": "s2.txt", "content": "s2\n"}],
}
PLAN = {"summary": "two steps", "steps": [
    {"id": "s1", "role": "coder", "goal": "S1GOAL: reorganise the files", "files": ["mod.txt"]},
    {"id": "s2", "role": "coder", "goal": "S2GOAL: rewrite mod.txt and add s2.txt", "files": ["mod.txt", "s2.txt"],
     "depends_on": ["s1"]},
]}


def planner(request: ModelRequest) -> ModelResponse:
    return ModelResponse(content=json.dumps(PLAN))


def coder(request: ModelRequest) -> ModelResponse:
    text = "\n".join(m.content for m in request.messages if m.role in ("system", "user"))
    actions = next(acts for key, acts in ACTIONS.items() if key in text)
    turn = sum(m.role == "assistant" for m in request.messages)
    reply = actions[turn] if turn < len(actions) else {"action": "done", "summary": "done"}
    return ModelResponse(content=json.dumps(reply))


def reviewer(request: ModelRequest) -> ModelResponse:
    return ModelResponse(content=json.dumps({"checklist": [{"requirement": "done", "done": True}], "comments": [],
                                             "verdict": "approve"}))
