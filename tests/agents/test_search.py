"""The check-driven draft search (agents.search) on a real repository, real stagings and a real test runner
(unittest), with scripted models: candidates are selected by the checks, the feedback continues from the candidate
that passed the most tests, repeats are not checked again, the budget bounds the step, later checks are bounded by
the first one's time; and the test counts read from pytest, unittest and jest/vitest output (agents.scores)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from agents.crossover import definition_swaps
from agents.pipeline import run_step
from agents.scores import Score, score
from agents.search import MIN_CHECK_BOUND_S, SearchBudget, search
from agents.tools import ToolBox
from agents.validator import CheckResult, ValidationResult
from orchestrator.core.events import ValidationCompleted
from orchestrator.core.plan import Plan, Step
from orchestrator.settings.schema import Settings
from orchestrator.testing import ScriptedModel, gateway_for
from tests.agents.test_step_pipeline import Harness

pytestmark = pytest.mark.anyio

TASK = ("Implement add, sub and mul in calc.py. The tests in calc_test.py define success: make them pass without "
        "changing calc_test.py.")
STEP = Step(id="s1", role="coder", goal=TASK, files=("calc.py", "calc_test.py"))
STUB = "def add(a, b):\n    pass\n\n\ndef sub(a, b):\n    pass\n\n\ndef mul(a, b):\n    pass\n"
TESTS = """import unittest
from calc import add, sub, mul


class CalcTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)

    def test_sub(self):
        self.assertEqual(sub(2, 3), -1)

    def test_mul(self):
        self.assertEqual(mul(2, 3), 6)
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(STUB)
    (root / "calc_test.py").write_text(TESTS)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def draft(add: str, sub: str, mul: str) -> str:
    return (f"calc.py\n```python\ndef add(a, b):\n    return {add}\n\n\ndef sub(a, b):\n    return {sub}\n\n\n"
            f"def mul(a, b):\n    return {mul}\n```\n")


def harness(repo: Path, coder: list[str], **config: Any) -> Harness:
    return Harness(repo, coder, [], validate={"commands": ["python3 -m unittest -q calc_test"]},
                   coder={"draft": True, **config})


async def run(h: Harness) -> Any:
    return await run_step(STEP, task=TASK, plan=Plan(steps=(STEP,)), staging=h.staging, deps=h.deps)


async def test_each_new_best_candidates_failure_gets_one_answer_then_the_first_request_is_sampled(repo: Path) -> None:
    worse, best, worst = draft("a + b", "a + b", "a + b"), draft("a + b", "a - b", "a + b"), draft("0", "0", "0")
    h = harness(repo, [worse, best, worst, draft("a + b", "a - b", "a * b")])
    outcome = await run(h)
    assert outcome.status == "succeeded" and "a * b" in outcome.diff
    # 3 drafts, the worst one's three definitions swapped into the best one (agents.crossover), then the sample
    assert [e.passed for e in h.of(ValidationCompleted)] == [False] * 6 + [True]
    first, second, third, fourth = h.coder.requests
    assert second.messages[-2].content == worse and "FAILED (failures=2)" in second.messages[-1].content
    assert third.messages[-2].content == best  # the new best (2 of 3 passed) gets its answer, greedy
    assert second.temperature in (None, 0.0) and third.temperature in (None, 0.0)
    # the best stayed the same (the worst passed nothing): a fresh sample of the first request, with its own seed
    assert fourth.messages == first.messages and fourth.temperature is not None and fourth.temperature >= 0.7
    assert first.seed is None and fourth.seed == 4  # its own replay key too (engine.replay)


async def test_a_repeated_candidate_is_not_checked_again_and_the_budget_bounds_the_step(repo: Path) -> None:
    same = draft("a + b", "a + b", "a + b")
    h = harness(repo, [same, same, draft("a + b", "a - b", "0"), same, same], search_drafts=5)
    outcome = await run(h)
    assert outcome.status == "failed"
    # 2 drafts checked (the repeats were not), and the best one with the other's sub and mul (agents.crossover)
    assert outcome.reason.startswith("checks still fail after 4 candidates (5 drafts)")
    assert len(h.of(ValidationCompleted)) == 4
    assert "return a - b" in (h.staging.root / "calc.py").read_text()  # the best candidate is left for the branch


async def test_a_reply_without_a_usable_draft_is_skipped_and_the_next_one_sampled(repo: Path) -> None:
    h = harness(repo, ["I cannot help with that.", draft("a + b", "a - b", "a * b")])
    outcome = await run(h)
    assert outcome.status == "succeeded"
    assert [r.temperature for r in h.coder.requests][1] >= 0.7


async def test_checks_after_the_first_are_bounded_by_its_time(repo: Path) -> None:
    bounds: list[float | None] = []

    async def checks(bound: float | None) -> ValidationResult:
        bounds.append(bound)
        return ValidationResult(passed=False, checks=(CheckResult(command="t", passed=False, exit_code=1,
                                                                  output="1 failed"),), output_tail="1 failed")

    settings = Settings.model_validate({})
    model = ScriptedModel([draft("a", "b", str(n)) for n in range(4)], name="coder")
    tools = ToolBox(root=repo, step_id="s1", commands=None)  # type: ignore[arg-type]  # no command is run here
    found = await search(gateway=gateway_for(settings, {"coder": model}), tools=tools, goal=TASK, contents="",
                         files=["calc.py"], instructions=None, run_checks=checks,
                         budget=SearchBudget(most=4, temperature=0.7))
    assert found.checked == 4 and not found.passed
    assert bounds[0] is None and all(b is not None and b >= MIN_CHECK_BOUND_S for b in bounds[1:])
    baselines: list[str] = []

    async def baseline() -> None:
        baselines.append((repo / "calc.py").read_text())

    bounds.clear()
    before = (repo / "calc.py").read_text()  # the first search left its best candidate
    model = ScriptedModel([draft("a", "b", str(n)) for n in range(2)], name="coder")
    await search(gateway=gateway_for(settings, {"coder": model}), tools=tools, goal=TASK, contents="",
                 files=["calc.py"], instructions=None, run_checks=checks, baseline=baseline,
                 budget=SearchBudget(most=2, temperature=0.7))
    assert baselines == [before]  # the files as they were, while the first draft was asked for
    assert all(b is not None and b >= MIN_CHECK_BOUND_S for b in bounds)  # the first candidate is bounded too


@pytest.mark.parametrize(("output", "passed", "failed"), [
    ("....F.\n1 failed, 5 passed in 0.12s", 5, 1),
    ("E\n1 error in 0.05s", 0, 1),
    ("Ran 7 tests in 0.001s\n\nFAILED (failures=2, errors=1)", 4, 3),
    ("Tests:       1 failed, 4 passed, 5 total", 4, 1),
    ("Tests  2 failed | 3 passed (5)", 3, 2),
    ("Segmentation fault", 0, 1),
])
def test_test_counts_are_read_from_the_runners_summary(output: str, passed: int, failed: int) -> None:
    result = ValidationResult(passed=False, checks=(CheckResult(command="t", passed=False, exit_code=1,
                                                                output=output),))
    assert score(result) == Score(False, passed, -failed)
    assert score(result) < Score(True, 0, 0)  # passing beats any count


async def test_the_best_candidate_with_another_ones_definition_is_checked_too(repo: Path) -> None:
    # Two drafts failing different tests: the first gets add and sub right, the second only mul. No third answer is
    # needed: the first with the second's mul passes (agents.crossover), and the model is not asked again.
    h = harness(repo, [draft("a + b", "a - b", "0"), draft("0", "0", "a * b"), draft("0", "0", "0")])
    outcome = await run(h)
    assert outcome.status == "succeeded"
    assert "return a + b" in outcome.diff and "return a - b" in outcome.diff and "return a * b" in outcome.diff
    assert len(h.coder.requests) == 2 and h.coder.remaining == 1
    assert [e.passed for e in h.of(ValidationCompleted)][-1] is True


def test_definition_swaps_take_one_definition_and_its_imports_at_a_time() -> None:
    base = {"m.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n", "notes.txt": "x\n"}
    donor = {"m.py": "import math\n\n\ndef f():\n    return math.floor(1.5)\n\n\ndef g():\n    return 2\n"}
    (swapped,) = definition_swaps(base, donor)  # g is the same in both: one variant
    assert swapped["m.py"].startswith("import math\n") and "math.floor(1.5)" in swapped["m.py"]
    assert "return 2" in swapped["m.py"] and swapped["notes.txt"] == "x\n"
    assert definition_swaps(base, {"m.py": "def f(:\n"}) == []  # a donor that does not parse


async def test_a_candidate_whose_checks_timed_out_gives_no_definitions(repo: Path) -> None:
    slow = ValidationResult(passed=False, output_tail="timed out", checks=(CheckResult(
        command="t", passed=False, exit_code=124, output="1 passed, 2 failed", timed_out=True),))
    results = iter([ValidationResult(passed=False, output_tail="2 passed, 1 failed", checks=(CheckResult(
        command="t", passed=False, exit_code=1, output="2 passed, 1 failed"),)), slow])

    async def checks(bound: float | None) -> ValidationResult:
        return next(results)  # a third check (a swap from the timed-out candidate) would raise StopIteration

    model = ScriptedModel([draft("a + b", "a - b", "0"), draft("0", "0", "a * b")], name="coder")
    tools = ToolBox(root=repo, step_id="s1", commands=None)  # type: ignore[arg-type]  # no command is run here
    found = await search(gateway=gateway_for(Settings.model_validate({}), {"coder": model}), tools=tools, goal=TASK,
                         contents="", files=["calc.py"], instructions=None, run_checks=checks,
                         budget=SearchBudget(most=2, temperature=0.7))
    assert found.checked == 2 and found.best is not None and found.best.index == 1
