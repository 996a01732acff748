"""Function models for batch tests, selected as ``--role-model ROLE=function:tests.engine.batch.fakes:ROLE``.

They answer from the task text, not from a fixed script, so a resumed session (which asks again from wherever it
stopped) gets the right reply. A task ``... <<file NAME>>TEXT<<end>>`` makes the coder write TEXT to NAME; a task
holding ``<<no plan>>`` makes the planner answer garbage, so the session fails.
"""

from __future__ import annotations

import json
import re

from orchestrator.core.contracts import ModelRequest
from orchestrator.testing import FunctionModel

_FILE = re.compile(r"<<file (?P<name>[^>]+)>>(?P<text>.*?)<<end>>", re.S)
_APPROVE = {"checklist": [{"requirement": "the task", "done": True}], "comments": [], "verdict": "approve"}


def _text(request: ModelRequest) -> str:
    return "\n".join(m.content for m in request.messages)


def _file(request: ModelRequest) -> tuple[str, str]:
    match = _FILE.search(_text(request))
    if match is None:
        return "NOTES.md", "nothing asked\n"
    text = match["text"].replace("\\n", "\n")
    return match["name"], text if text.endswith("\n") else text + "\n"


def planner(request: ModelRequest) -> str:
    if "<<no plan>>" in _text(request):
        return "not a plan"
    name, _ = _file(request)
    return json.dumps({"summary": "write one file", "steps": [
        {"id": "write", "role": "coder", "goal": "write the file the task names", "files": [name]}]})


def coder(request: ModelRequest) -> str:
    name, text = _file(request)
    if request.response_schema is not None:  # the action loop, after the draft: nothing left to do
        return json.dumps({"action": "finish", "summary": "written"})
    return f"{name}\n```\n{text}```"


def reviewer(request: ModelRequest) -> str:
    return json.dumps(_APPROVE)


def validator(request: ModelRequest) -> str:
    return json.dumps({"action": "finish", "summary": "nothing to check"})


# The planner again, at a price: 0.001 dollars a word (prompt and reply), for the budget tests.
costly_planner = FunctionModel(planner, name="costly-planner", cost_per_token=0.001)
