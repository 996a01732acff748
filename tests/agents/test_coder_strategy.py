"""The coder strategies (agents.strategy) on a real repository and real stagings, with scripted models: the draft
strategy answers a failing check with a redraft, samples when the same failure comes back, and lets the task's own
tests judge without a reviewer; the one-step plan of a small task skips the planner model."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from agents.pipeline import run_step
from agents.plan_fixups import one_step_plan
from agents.strategy import ActionsStrategy, DraftStrategy, choose_strategy
from orchestrator.core.events import ReviewCompleted, ValidationCompleted
from orchestrator.core.plan import Plan, Step
from orchestrator.settings.schema import PlannerConfig
from tests.agents.test_step_pipeline import BUGGY, Harness, approve

pytestmark = pytest.mark.anyio

TASK = "Fix add() in calc.py. The tests in calc_test.py define success: make them pass without changing calc_test.py."
STEP = Step(id="s1", role="coder", goal=TASK, files=("calc.py", "calc_test.py"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(BUGGY)
    (root / "calc_test.py").write_text("from calc import add\nassert add(2, 3) == 5, f'add(2, 3) gave {add(2, 3)}'\n")
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def draft(body: str) -> str:
    return f"calc.py\n```python\ndef add(a, b):\n    return {body}\n```\n"


def harness(repo: Path, coder: list[str], **config: Any) -> Harness:
    return Harness(repo, coder, [], validate={"commands": ["python3 calc_test.py"], "max_rounds": 4},
                   coder={"draft": True, **config})


async def run(h: Harness) -> Any:
    return await run_step(STEP, task=TASK, plan=Plan(steps=(STEP,)), staging=h.staging, deps=h.deps)


def test_auto_chooses_by_native_tool_calls_and_the_older_draft_key() -> None:
    assert isinstance(choose_strategy("auto", native_tools=False), DraftStrategy)
    assert isinstance(choose_strategy("auto", native_tools=True), ActionsStrategy)
    assert isinstance(choose_strategy("auto", native_tools=False, draft=False), ActionsStrategy)
    assert isinstance(choose_strategy("draft", native_tools=True), DraftStrategy)
    assert isinstance(choose_strategy("actions", native_tools=False), ActionsStrategy)


async def test_a_failing_check_is_answered_by_a_repair_and_the_tests_judge_without_a_reviewer(repo: Path) -> None:
    h = harness(repo, [draft("a * b"), draft("a + b")])
    outcome = await run(h)
    assert outcome.status == "succeeded" and outcome.files == ("calc.py",)
    assert [e.passed for e in h.of(ValidationCompleted)] == [False, True]
    assert h.of(ReviewCompleted) == [] and h.reviewer.requests == []  # the task's own tests were the judge
    first, redraft = h.coder.requests
    assert "calc_test.py:\n```\nfrom calc import add" in first.messages[-1].content  # the tests, shown up front
    # the search's repair (agents.search): the files as they are now, then the failing output, in one request
    repair = redraft.messages[-1].content
    assert repair.index("def add(a, b):\n    return a * b") < repair.index("add(2, 3) gave 6")
    assert redraft.temperature is not None and redraft.temperature >= 0.7  # sampled: greedy repairs copied


async def test_the_same_failure_twice_makes_the_next_redraft_a_sampled_one(repo: Path) -> None:
    # Without the search (no test file is named by the check or by a task saying the tests define success): the
    # draft strategy's redraft loop.
    h = Harness(repo, [draft("a * b"), draft("b * a"), draft("a + b")], [approve()] * 3,
                validate={"commands": ["python3 -c 'import calc_test'"], "max_rounds": 4}, coder={"draft": True})
    task = "Fix add() in calc.py."
    outcome = await run_step(STEP, task=task, plan=Plan(steps=(STEP,)), staging=h.staging, deps=h.deps)
    assert outcome.status == "succeeded"
    assert [e.passed for e in h.of(ValidationCompleted)] == [False, False, True]
    temperatures = [r.temperature for r in h.coder.requests]
    assert temperatures[1] in (None, 0.0) and temperatures[2] is not None and temperatures[2] >= 0.7


async def test_a_redraft_that_changes_nothing_is_sampled_again_at_once(repo: Path) -> None:
    h = harness(repo, [draft("a * b"), draft("a * b"), draft("a + b")])
    outcome = await run(h)
    assert outcome.status == "succeeded" and len(h.coder.requests) == 3
    assert h.coder.requests[2].temperature is not None and h.coder.requests[2].temperature >= 0.7


async def test_a_draft_never_rewrites_the_protected_tests(repo: Path) -> None:
    weakened = "calc_test.py\n```python\nassert True\n```\n" + draft("a + b")
    h = harness(repo, [weakened])
    outcome = await run(h)
    assert outcome.status == "succeeded" and outcome.files == ("calc.py",)
    assert (h.staging.root / "calc_test.py").read_text().startswith("from calc import add")


def test_a_small_task_that_names_its_files_is_one_step_without_the_planner(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "calc_test.py").write_text("x" * 100)
    (tmp_path / "big.py").write_text("x" * 20000)
    known = ["calc.py", "calc_test.py", "big.py"]
    plan = one_step_plan(TASK, known=known, root=tmp_path, limits=PlannerConfig())
    assert plan is not None and [(s.goal, s.files) for s in plan.steps] == [(TASK, ("calc.py", "calc_test.py"))]
    assert "planner model was not asked" in plan.summary
    assert one_step_plan("Refactor the project", known=known, root=tmp_path, limits=PlannerConfig()) is None
    assert one_step_plan("Split big.py", known=known, root=tmp_path, limits=PlannerConfig()) is None
    off = PlannerConfig(skip_small=False)
    assert one_step_plan(TASK, known=known, root=tmp_path, limits=off) is None
