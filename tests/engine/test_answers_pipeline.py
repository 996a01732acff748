""""Change it: ..." at the diff with the real step pipeline (coder loop, review, checks) and function models: the same
coder continues its conversation with the user's words, and its second diff is the one applied."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from orchestrator.api import Orchestrator, SessionEvents
from orchestrator.compose import build_collaborators, load_config
from orchestrator.core.contracts import DiffDecision
from orchestrator.core.events import ListSink
from orchestrator.settings.config import CliOverrides
from orchestrator.settings.home import Home
from orchestrator.testing import ScriptedDiffReviewer
from tests.support import make_repo

pytestmark = pytest.mark.anyio
MODELS = "tests.engine.followup_models"


async def test_change_it_continues_the_coders_conversation_and_applies_its_new_diff(
        tmp_path: Path, orchestrate_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "x\n"})
    monkeypatch.setenv("FOLLOWUP_LOG", str(tmp_path / "calls.jsonl"))  # the function models run in this process
    env = {**os.environ, "ORCHESTRATE_HOME": str(orchestrate_home), "FOLLOWUP_LOG": str(tmp_path / "calls.jsonl")}
    roles = {"planner": "planner", "coder": "changing_coder", "reviewer": "reviewer", "validator": "reviewer"}
    cli = CliOverrides(full_auto=True, role_models=tuple(f"{r}=function:{MODELS}:{f}" for r, f in roles.items()),
                       overrides=('validate.commands=["true"]', "planner.merge_chars=0"))
    loaded = load_config(cwd=repo, cli=cli, home=Home(orchestrate_home), environ=env)
    sink = ListSink()
    events = SessionEvents(sink)
    parts = build_collaborators(loaded, cwd=repo, events=events, environ=env)
    reviewer = ScriptedDiffReviewer([DiffDecision(kind="change", guidance="make it lowercase"), True, True])
    parts["diff_reviewer"] = reviewer  # what an interactive run's ConsoleReviewer is
    orch = Orchestrator(events=events, **parts)
    result = await orch.run("write alpha and beta")
    await orch.aclose()
    assert result.status == "succeeded", result.reasons
    assert (repo / "alpha.txt").read_text() == "alpha\n" and (repo / "beta.txt").read_text() == "BETA\n"
    assert [step for step, _ in reviewer.diffs] == ["s1", "s1", "s2"]
    assert "+ALPHA" in reviewer.diffs[0][1] and "+alpha" in reviewer.diffs[1][1]
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    asked = next(c for c in calls if c["role"] == "coder" and "The user reviewed your change" in c["user"][-1])
    assert "make it lowercase" in asked["user"][-1]
    assert any("create alpha.txt" in u for u in asked["user"])  # the same conversation, continued
