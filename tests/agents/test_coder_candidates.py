"""coder.candidates: several attempts at a coder step from the same base, selected by the checks, then reviewed —
on a real git repository and real stagings, with a scripted coder (one script consumed attempt after attempt)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agents.candidates import SAMPLING_TEMPERATURE, attempt_temperature, changed_lines
from agents.pipeline import StepDeps, StepOutcome, run_step
from memory import build_memory
from orchestrator.core.events import ListSink, ReviewCompleted, ValidationCompleted
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.commands import CommandRunner
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings
from orchestrator.testing import ScriptedModel, gateway_for
from orchestrator.workspace.staging import Workspace
from policies.amend import append_allow_rule
from policies.sandbox import policy_for
from tests.agents.doubles import HostSandbox, ScriptedApprover, WordGate

pytestmark = pytest.mark.anyio

STEP = Step(id="s1", role="coder", goal="make add() add", files=("calc.py",))
BUGGY = "def add(a, b):\n    return a - b\n"


def act(action: str, **fields: Any) -> str:
    return json.dumps({"action": action, **fields})


def edit(search: str, replace: str) -> str:
    return act("edit", path="calc.py", search=search, replace=replace)


def done(summary: str) -> str:
    return act("done", summary=summary)


APPROVE = json.dumps({"checklist": [{"requirement": "add() adds", "done": True}], "comments": [], "verdict": "approve"})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(BUGGY)
    (root / "check.py").write_text("from calc import add\nassert add(2, 3) == 5, f'add(2, 3) gave {add(2, 3)}'\n")
    (root / ".gitignore").write_text("__pycache__/\n")
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


class Run:
    def __init__(self, repo: Path, coder: list[str], reviewer: list[str], candidates: int, **config: Any) -> None:
        self.settings = Settings.model_validate(
            {"validate": {"commands": ["python3 check.py"]}, "coder": {"candidates": candidates, "draft": False},
             **config})  # scripted turn by turn: no first draft (tests/agents/test_coder_draft.py)
        self.coder = ScriptedModel(coder, name="coder")
        self.reviewer = ScriptedModel(reviewer, name="reviewer")
        self.events = ListSink()
        runner = CommandRunner(gate=WordGate(), approver=ScriptedApprover(), sandbox=HostSandbox(),
                               settings=self.settings, events=self.events,
                               policy_for=policy_for, persist_rule=append_allow_rule)
        gateway = gateway_for(self.settings, {"coder": self.coder, "reviewer": self.reviewer})
        self.deps = StepDeps(settings=self.settings, gateway=gateway, commands=runner,
                             memory=build_memory(self.settings, Home.from_env()), events=self.events, cwd=repo)
        self.staging = Workspace(repo).create_staging(repo.parent / "stagings", "s1")

    async def step(self) -> StepOutcome:
        return await run_step(STEP, task="fix add", plan=Plan(steps=(STEP,)), staging=self.staging, deps=self.deps)

    def validations(self) -> list[bool]:
        return [e.passed for e in self.events.events if isinstance(e, ValidationCompleted)]

    def reviews(self) -> list[str]:
        return [e.verdict for e in self.events.events if isinstance(e, ReviewCompleted)]


async def test_first_passing_candidate_wins_and_the_failed_ones_leave_nothing_behind(repo: Path) -> None:
    coder = [act("write_file", path="extra.py", content="X = 2\n"), edit("a - b", "a * b"), done("v1"),
             edit("a - b", "a + b"), done("v2"),
             edit("a - b", "b + a"), done("v3")]  # never asked: the second candidate passed
    run = Run(repo, coder, [APPROVE], candidates=3)
    outcome = await run.step()
    assert outcome.status == "succeeded" and outcome.summary == "v2" and outcome.files == ("calc.py",)
    assert "+    return a + b" in outcome.diff and "a * b" not in outcome.diff
    assert not (run.staging.root / "extra.py").exists() and "return a + b" in (run.staging.root / "calc.py").read_text()
    assert run.coder.remaining == 2
    assert run.validations() == [False, True]  # the winner is not checked again after its approval
    assert run.reviews() == ["approve"]
    temperatures = [r.temperature for r in run.coder.requests]
    assert temperatures[:3] == [None] * 3 and temperatures[3:] == [SAMPLING_TEMPERATURE] * 2
    # A sampled attempt's calls carry its own seed: attempts start from the same messages, and without a seed the
    # next one's calls were answered with this one's kept replies (engine.replay): the same candidate again.
    assert [r.seed for r in run.coder.requests] == [None] * 3 + [1] * 2
    second = run.coder.requests[3].messages  # a fresh conversation: the first attempt is not in it
    assert not any("a * b" in m.content for m in second)
    assert (repo / "calc.py").read_text() == BUGGY


async def test_without_a_passing_candidate_the_smallest_failing_one_gets_the_feedback(repo: Path) -> None:
    coder = [edit("    return a - b\n", "    c = a * b\n    return c\n"), done("big"),
             edit("a - b", "a * b"), done("small"),
             edit("a * b", "a + b"), done("fixed")]  # the continuation of the chosen ("small") attempt
    run = Run(repo, coder, [APPROVE], candidates=2)
    outcome = await run.step()
    assert outcome.status == "succeeded" and outcome.summary == "fixed"
    assert "+    return a + b" in outcome.diff and "c = " not in outcome.diff
    continuation = run.coder.requests[4].messages
    assert "add(2, 3) gave 6" in continuation[-1].content  # the chosen attempt's check output
    assert any("a * b" in m.content for m in continuation if m.role == "assistant")  # it continues its own history
    assert not any("c = a * b" in m.content for m in continuation)
    assert run.validations() == [False, False, True] and run.reviews() == ["approve"]


async def test_candidates_that_change_nothing_fail_the_step(repo: Path) -> None:
    run = Run(repo, [done("nothing to do"), done("still nothing")], [], candidates=2)
    outcome = await run.step()
    assert outcome.status == "failed" and outcome.reason == "the coder changed nothing"
    assert run.validations() == [] and run.reviews() == []


async def test_one_candidate_keeps_the_plain_pipeline(repo: Path) -> None:
    run = Run(repo, [edit("a - b", "a * b"), done("v1"), edit("a * b", "a + b"), done("v2")], [APPROVE, APPROVE],
              candidates=1)
    outcome = await run.step()
    assert outcome.status == "succeeded" and outcome.summary == "v2"
    assert run.reviews() == ["approve", "approve"] and run.validations() == [False, True]
    assert {r.temperature for r in run.coder.requests} == {None}


def test_attempt_temperatures_and_changed_lines() -> None:
    assert attempt_temperature(None, 0) is None and attempt_temperature(0.0, 1) == SAMPLING_TEMPERATURE
    assert attempt_temperature(1.1, 2) == 1.1
    diff = "--- a/x.py\n+++ b/x.py\n@@ -1 +1,2 @@\n-a\n+b\n+c\n context\n"
    assert changed_lines(diff) == 3 and changed_lines("") == 0
