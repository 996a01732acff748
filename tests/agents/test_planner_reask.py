"""make_plan: structured plan, graph validation, re-asks with the problem, then one clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.planner import make_plan
from agents.repo import summarize_tree
from orchestrator.core.contracts import MemoryContext, MemorySource
from orchestrator.core.errors import ModelOutputError
from orchestrator.settings.schema import Settings
from orchestrator.testing import ScriptedModel, gateway_for

pytestmark = pytest.mark.anyio


def plan(*steps: dict[str, Any]) -> str:
    return json.dumps({"summary": "s", "steps": list(steps)})


def step(step_id: str, *deps: str, role: str = "coder") -> dict[str, Any]:
    return {"id": step_id, "role": role, "goal": f"do {step_id}", "files": [], "depends_on": list(deps)}


GOOD = plan(step("s1"), step("s2", "s1"))
CYCLE = plan(step("a", "b"), step("b", "a"))
DANGLING = plan(step("s1", "s9"))


async def test_valid_plan_is_returned_with_task_tree_and_docs_in_the_prompt(tmp_path: Path) -> None:
    model = ScriptedModel([GOOD])
    memory = MemoryContext(sources=(MemorySource(path=tmp_path / "AGENTS.md", scope="project", bytes=9),),
                           text="Use tabs.")
    result = await make_plan("add a feature", gateway=gateway_for(Settings(), model), memory=memory,
                             repo_summary="bank.py\ntests/test_bank.py")
    assert [s.id for s in result.steps] == ["s1", "s2"] and result.steps[1].depends_on == ("s1",)
    request = model.requests[0]
    assert request.response_schema is not None and request.schema_name == "Plan"
    texts = [m.content for m in request.messages]
    assert texts[0].startswith("You plan a coding task")
    assert "Use tabs." in texts[1] and str(tmp_path) in texts[1]
    assert "add a feature" in texts[2] and "tests/test_bank.py" in texts[2]


async def test_cyclic_then_dangling_plans_are_reasked_with_the_problem(tmp_path: Path) -> None:
    model = ScriptedModel([CYCLE, DANGLING, GOOD])
    result = await make_plan("t", gateway=gateway_for(Settings(), model), memory=MemoryContext(), repo_summary="x")
    assert [s.id for s in result.steps] == ["s1", "s2"]
    second, third = model.requests[1].messages, model.requests[2].messages
    assert "dependency cycle" in second[-1].content and second[-2].role == "assistant"
    assert "depends on unknown step 's9'" in third[-1].content


async def test_persistently_invalid_plans_raise_one_clear_error() -> None:
    model = ScriptedModel([CYCLE, CYCLE, DANGLING])
    with pytest.raises(ModelOutputError) as info:
        await make_plan("t", gateway=gateway_for(Settings(), model), memory=MemoryContext(), repo_summary="x")
    message = str(info.value)
    assert "gave no valid plan in 3 attempts" in message and "depends on unknown step 's9'" in message
    assert "\n" not in message and len(model.requests) == 3


async def test_output_that_is_not_a_plan_raises_after_the_gateways_reasks() -> None:
    model = ScriptedModel(["here is my plan: do it", "{}"])
    settings = Settings.model_validate({"models": {"structured_retries": 1}})
    with pytest.raises(ModelOutputError, match="no valid Plan"):
        await make_plan("t", gateway=gateway_for(settings, model), memory=MemoryContext(), repo_summary="x")


def test_repo_summary_lists_files_and_folds_big_trees(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "README.md").write_text("x")
    for i in range(30):
        (tmp_path / "src" / "pkg" / f"m{i:02}.py").write_text("")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("x")
    assert summarize_tree(tmp_path, max_entries=100).splitlines()[:2] == ["README.md", "src/pkg/m00.py"]
    assert summarize_tree(tmp_path, max_entries=10).splitlines() == ["README.md", "src/pkg/ (30 files)"]
    assert summarize_tree(tmp_path / "nothing-here-yet") == "(no files)"
