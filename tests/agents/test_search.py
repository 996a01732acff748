"""The check-driven draft search (agents.search) on a real repository, real stagings and a real test runner
(unittest), with scripted models: candidates are selected by the checks, the feedback continues from the candidate
that passed the most tests, repeats are not checked again, the budget bounds the step, later checks are bounded by
the first one's time; and the test counts read from pytest, unittest and jest/vitest output (agents.scores)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import anyio
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
from orchestrator.testing import FunctionModel, ScriptedModel, gateway_for
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
    return make_repo(tmp_path, TESTS)


def make_repo(tmp_path: Path, tests: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(STUB)
    (root / "calc_test.py").write_text(tests)
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


async def test_each_new_best_candidate_gets_a_sampled_repair_then_the_first_request_is_sampled(repo: Path) -> None:
    worse, best, worst = draft("a + b", "a + b", "a + b"), draft("a + b", "a - b", "a + b"), draft("0", "0", "0")
    h = harness(repo, [worse, best, worst, draft("a + b", "a - b", "a * b")])
    outcome = await run(h)
    assert outcome.status == "succeeded" and "a * b" in outcome.diff
    # 3 drafts, the worst one's three definitions swapped into the best one (agents.crossover), then the sample
    assert [e.passed for e in h.of(ValidationCompleted)] == [False] * 6 + [True]
    first, second, third, fourth = h.coder.requests
    # a repair is a request of its own (system prompt, then the goal, the files, the failing output), not a turn
    assert [m.role for m in second.messages] == ["system", "user"] and second.messages[0] == first.messages[0]
    repair = second.messages[-1].content
    # it starts as the first request does (the server's prompt cache reuses that part)
    assert repair.split("\n", 1)[0] == first.messages[-1].content.split("\n", 1)[0] and TASK in repair
    assert "return a + b" in repair and "FAILED (failures=2)" in repair
    assert "return a - b" in third.messages[-1].content  # the new best (2 of 3 passed) gets its repair
    # sampled, each with its seed (greedy repairs copied the candidate they were asked to fix)
    assert (second.temperature, second.seed, third.temperature, third.seed) == (0.7, 2, 0.7, 3)
    # the best stayed the same (the worst passed nothing): a fresh sample of the first request, with its own seed
    assert fourth.messages == first.messages and fourth.temperature is not None and fourth.temperature >= 0.7
    assert first.seed is None and fourth.seed == 4  # its own replay key too (engine.replay)


async def test_the_feedback_shows_the_failing_tests_source(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, TESTS.replace("self.assertEqual(sub(2, 3), -1)",
                                             "self.assertEqual(\n            sub(2, 3),\n            -1)"))
    h = harness(repo, [draft("a + b", "a + b", "a * b"), draft("a + b", "a - b", "a * b")])
    outcome = await run(h)
    assert outcome.status == "succeeded"
    feedback = h.coder.requests[1].messages[-1].content
    # the test the runner reports, in full, with its file and line (its traceback shows only the first line of
    # the failing call); the passing ones are left out
    assert "calc_test.py:9\ndef test_sub(self):\n    self.assertEqual(\n        sub(2, 3),\n        -1)" in feedback
    assert "def test_add" not in feedback and "def test_mul" not in feedback


async def test_a_repair_that_gives_only_the_fixed_definition_is_merged_into_the_best_candidate(repo: Path) -> None:
    fixed_mul = "calc.py\n```python\ndef mul(a, b):\n    return a * b\n```\n"
    h = harness(repo, [draft("a + b", "a - b", "0"), fixed_mul])
    outcome = await run(h)
    assert outcome.status == "succeeded" and len(h.coder.requests) == 2
    text = (h.staging.root / "calc.py").read_text()
    assert "return a - b" in text and "return a * b" in text


async def test_a_repair_that_only_explains_is_asked_for_its_code_within_the_same_try(repo: Path) -> None:
    explained = "mul multiplies nothing: it returns 0 instead of the product."
    h = harness(repo, [draft("a + b", "a - b", "0"), explained, draft("a + b", "a - b", "a * b")], search_drafts=2)
    outcome = await run(h)
    assert outcome.status == "succeeded" and "(candidate 2 of 2 passed" in outcome.summary
    more = h.coder.requests[2].messages
    assert more[-2].content == explained and more[-1].role == "user" and "calc.py" in more[-1].content


async def test_a_repair_cut_off_in_its_code_is_not_continued(repo: Path) -> None:
    cut = "mul returns 0.\n\ncalc.py\n```python\ndef add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n"
    h = harness(repo, [draft("a + b", "a - b", "0"), cut, draft("a + b", "a - b", "a * b")], search_drafts=3)
    assert (await run(h)).status == "succeeded"
    assert all(len(r.messages) == 2 for r in h.coder.requests)  # no request continues a conversation


async def test_answers_after_the_first_are_bounded_by_its_length(repo: Path) -> None:
    from agents.search import ANSWER_TOKENS_FACTOR, MIN_ANSWER_TOKENS

    h = Harness(repo, [draft("a + b", "0", "0"), draft("a + b", "a - b", "a * b")], [],
                validate={"commands": ["python3 -m unittest -q calc_test"]}, coder={"draft": True},
                roles={"coder": {"max_tokens": 4096}})
    assert (await run(h)).status == "succeeded"
    first, second = h.coder.requests
    assert first.max_tokens == 4096  # the role's own bound
    assert second.max_tokens == max(MIN_ANSWER_TOKENS, ANSWER_TOKENS_FACTOR * len(draft("a + b", "0", "0").split()))


async def test_a_repeated_candidate_is_not_checked_again_and_the_budget_bounds_the_step(repo: Path) -> None:
    same = draft("a + b", "a + b", "a + b")
    h = harness(repo, [same, same, draft("a + b", "a - b", "0"), same, same], search_drafts=5)
    outcome = await run(h)
    assert outcome.status == "failed"
    # 2 drafts checked (the repeats were not), and the best one with the other's sub and mul (agents.crossover)
    assert outcome.reason.startswith("checks still fail after 4 candidates (5 drafts)")
    assert len(h.of(ValidationCompleted)) == 4
    assert "return a - b" in (h.staging.root / "calc.py").read_text()  # the best candidate is left for the branch


@pytest.mark.parametrize(("patience", "status", "asked"), [(2, "failed", 6), (0, "succeeded", 7)])
async def test_the_search_stops_when_answers_stop_improving_the_best_candidate(
        repo: Path, patience: int, status: str, asked: int) -> None:
    one, two = draft("a + b", "0", "0"), draft("a + b", "a - b", "0")
    worse, worst = draft("0", "a - b", "0"), draft("0", "0", "a - b")
    # answer 2 improves on answer 1; answers 3 and 4 do not (nor do their recombinations), and the repeats between
    # them are not counted: with patience 2 the passing answer is never asked for
    h = harness(repo, [one, two, two, worse, one, worst, draft("a + b", "a - b", "a * b")], search_patience=patience)
    assert (await run(h)).status == status
    assert len(h.coder.requests) == asked


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


async def test_a_baseline_slowed_by_the_model_drafting_beside_it_does_not_loosen_the_bound(repo: Path) -> None:
    bounds: list[float | None] = []

    async def checks(bound: float | None) -> ValidationResult:
        bounds.append(bound)
        return ValidationResult(passed=True, checks=(CheckResult(command="t", passed=True, exit_code=0, output=""),),
                                output_tail="")

    async def baseline() -> None:
        await anyio.sleep(1.0)  # waiting, as a check starved of the cores by the model does: no CPU time of its own

    async def slow_draft(request: Any) -> str:
        await anyio.sleep(1.5)
        return draft("a + b", "a - b", "a * b")

    tools = ToolBox(root=repo, step_id="s1", commands=None)  # type: ignore[arg-type]  # no command is run here
    gateway = gateway_for(Settings.model_validate({}), {"coder": FunctionModel(slow_draft, name="coder")})
    found = await search(gateway=gateway, tools=tools, goal=TASK, contents="", files=["calc.py"], instructions=None,
                         run_checks=checks, baseline=baseline, budget=SearchBudget(most=1, temperature=0.7))
    assert found.passed
    # a quarter of its wall time: the bound stays at its floor, not ten times the starved baseline's second
    assert bounds == [MIN_CHECK_BOUND_S]


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
