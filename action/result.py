"""The Action's result step (modes ``run`` and ``pr``): read the ``exec --json`` events of the run, set the outputs
``status`` and ``session-id``, write the job summary, and leave ``$RUNNER_TEMP/orchestrate-result.json`` (status,
session_id, files, branch) and ``orchestrate-summary.md`` (the summary again: the pull request's body) for the
``pr`` step.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from github import main, set_output, summary


def _events(path: str) -> list[dict[str, Any]]:
    events = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                events.append(value)
    return events


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _read(events: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {"status": "error", "session_id": "", "errors": [], "roles": {}, "steps": {},
                              "files": [], "branch": "",
                              "usage": {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}}
    for event in events:
        kind = event.get("type")
        if kind in ("session.started", "session.resumed"):
            result["session_id"] = event.get("session_id", "")
        elif kind == "plan.created":
            result["roles"] = {s["id"]: s["role"] for s in event.get("steps", [])}
        elif kind == "step.completed":
            result["steps"][event["step_id"]] = event["status"]
        elif kind == "edit.applied":
            result["files"] += [f for f in event.get("files", []) if f not in result["files"]]
        elif kind == "error":
            result["errors"].append(event.get("message", ""))
        elif kind == "session.completed":
            result["status"] = event.get("status", "error")
            result["usage"] = event.get("usage") or result["usage"]
            result["branch"] = event.get("branch") or ""
    return result


def _summary(result: dict[str, Any], task: str) -> str:
    status, session_id, steps = result["status"], result["session_id"], result["steps"]
    lines = ["## orchestrate", "", f"**Task:** {_cell(task)[:500]}", "",
             f"**Status:** {status}" + (f" · session `{session_id}`" if session_id else ""), ""]
    if steps:
        lines += ["| step | role | status |", "| --- | --- | --- |"]
        lines += [f"| {_cell(s)} | {result['roles'].get(s, '')} | {st} |" for s, st in steps.items()] + [""]
    if result["files"]:
        lines += ["**Files changed:** " + ", ".join(f"`{_cell(f)}`" for f in result["files"]), ""]
    usage = result["usage"]
    tokens = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
    lines += [f"**Usage:** {tokens} tokens, ${usage.get('cost_usd', 0.0):.4f}", ""]
    lines += [f"> error: {_cell(e)}" for e in result["errors"]]
    return "\n".join(lines) + "\n"


def run() -> None:
    result = _read(_events(os.environ["EVENTS"]))
    set_output("status", result["status"])
    set_output("session-id", result["session_id"])
    text = _summary(result, os.environ.get("TASK", ""))
    summary(text)
    temp = Path(os.environ.get("RUNNER_TEMP") or Path(os.environ["EVENTS"]).parent)
    (temp / "orchestrate-summary.md").write_text(text, encoding="utf-8")
    keep = {key: result[key] for key in ("status", "session_id", "files", "branch")}
    (temp / "orchestrate-result.json").write_text(json.dumps(keep), encoding="utf-8")


if __name__ == "__main__":
    main(run)
