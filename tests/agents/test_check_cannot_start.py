"""A check that cannot start fails the step at once, without spending coder rounds on it; interactively the user may
name another command or skip the checks (run_step on a real repository, scripted coder and reviewer models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.checks import CheckFinder
from agents.pipeline import StepDeps
from orchestrator.core.events import ValidationCompleted
from orchestrator.core.plan import Plan, Step
from tests.agents.test_step_pipeline import Harness, act, approve, edit, repo

pytestmark = pytest.mark.anyio
__all__ = ["repo"]  # the fixture

FIXED = [edit("a - b", "a + b"), act("done", summary="add adds")]  # one coder round, and correct


class Fixer:
    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    async def fix_check(self, command: str, reason: str) -> str:
        self.asked.append((command, reason))
        return self.answer


def harness(repo: Path, *, fixer: Fixer | None = None, **config: Any) -> Harness:
    h = Harness(repo, list(FIXED), [approve()], validate={"commands": ["nosuch-runner-xyz -q"]}, **config)
    finder = CheckFinder(repo, h.settings, fixer=fixer)
    h.deps = StepDeps(settings=h.settings, gateway=h.deps.gateway, commands=h.deps.commands, memory=h.deps.memory,
                      events=h.events, cwd=repo, checks=finder)
    return h


async def test_a_check_that_cannot_start_fails_the_step_without_a_second_coder_round(repo: Path) -> None:
    h = harness(repo)
    outcome = await h.run()
    assert outcome.status == "failed"
    assert outcome.reason.startswith("check `nosuch-runner-xyz -q` cannot start: `nosuch-runner-xyz` was not found")
    assert "Fix:" in outcome.reason
    assert len(h.coder.requests) == 2  # the first round only: its edit and its done
    (validation,) = h.of(ValidationCompleted)
    assert not validation.passed and "cannot start" in validation.output_tail


async def test_without_a_finder_the_step_fails_at_once_too(repo: Path) -> None:
    h = Harness(repo, list(FIXED), [approve()], validate={"commands": ["nosuch-runner-xyz -q"]})
    outcome = await h.run()
    assert outcome.status == "failed" and "cannot start" in outcome.reason and len(h.coder.requests) == 2


async def test_the_user_names_another_command_and_the_change_is_checked_with_it(repo: Path) -> None:
    fixer = Fixer("python3 check.py")
    h = harness(repo, fixer=fixer)
    outcome = await h.run()
    assert outcome.status == "succeeded" and len(h.coder.requests) == 2
    assert [c for c, _ in fixer.asked] == ["nosuch-runner-xyz -q"] and "was not found" in fixer.asked[0][1]
    assert [e.passed for e in h.of(ValidationCompleted)] == [False, True]


async def test_an_empty_answer_skips_the_checks(repo: Path) -> None:
    fixer = Fixer("")
    h = harness(repo, fixer=fixer)
    outcome = await h.run()
    assert outcome.status == "succeeded" and len(fixer.asked) == 1
    assert [e.output_tail for e in h.of(ValidationCompleted)][-1] == "no checks configured or discovered"


async def test_a_validator_step_fails_at_once(repo: Path) -> None:
    step = Step(id="v", role="validator", goal="run the checks")
    h = harness(repo)
    outcome = await h.run(step, Plan(summary="check", steps=(step,)))
    assert outcome.status == "failed" and "cannot start" in outcome.reason
