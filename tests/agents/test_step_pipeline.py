"""run_step on a real git repository and real stagings: review and validation loops, failures, plan-step roles,
AGENTS.md docs — with scripted coder and reviewer models."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agents.pipeline import StepDeps, StepOutcome, run_step
from memory import build_memory
from orchestrator.core.events import ListSink, MemoryLoaded, ReviewCompleted, ValidationCompleted
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.commands import CommandRunner
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings
from orchestrator.testing import ScriptedModel, gateway_for
from orchestrator.workspace.staging import Staging, Workspace
from policies.amend import append_allow_rule
from policies.sandbox import policy_for
from tests.agents.doubles import HostSandbox, ScriptedApprover, WordGate

pytestmark = pytest.mark.anyio

CODER = Step(id="s1", role="coder", goal="make add() add", files=("calc.py",))
PLAN = Plan(summary="fix", steps=(CODER,))
BUGGY = "def add(a, b):\n    return a - b\n"


def act(action: str, **fields: Any) -> str:
    return json.dumps({"action": action, **fields})


def approve() -> str:
    done = [{"requirement": "add() adds", "done": True}]
    return json.dumps({"checklist": done, "comments": [], "verdict": "approve"})


def reject(*comments: str) -> str:
    return json.dumps({"checklist": [], "comments": list(comments), "verdict": "request_changes"})


def edit(search: str, replace: str) -> str:
    return act("edit", path="calc.py", search=search, replace=replace)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "lib").mkdir(parents=True)
    (root / "calc.py").write_text(BUGGY)
    (root / "check.py").write_text("from calc import add\nassert add(2, 3) == 5, f'add(2, 3) gave {add(2, 3)}'\n")
    (root / "AGENTS.md").write_text("Keep functions small.\n")
    (root / "lib" / "AGENTS.md").write_text("lib/ code must stay pure.\n")
    (root / "lib" / "util.py").write_text("X = 1\n")
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


class Harness:
    def __init__(self, repo: Path, coder: list[str], reviewer: list[str], /, **config: Any) -> None:
        # Scripted turn by turn: no first draft (tests/agents/test_coder_draft.py covers it).
        config["coder"] = {"draft": False, **config.get("coder", {})}
        self.settings = Settings.model_validate({"validate": {"commands": ["python3 check.py"]}, **config})
        self.coder = ScriptedModel(coder, name="coder")
        self.reviewer = ScriptedModel(reviewer, name="reviewer")
        self.events = ListSink()
        self.repo = repo
        runner = CommandRunner(gate=WordGate(), approver=ScriptedApprover(), sandbox=HostSandbox(),
                               settings=self.settings, events=self.events,
                               policy_for=policy_for, persist_rule=append_allow_rule)
        self.deps = StepDeps(settings=self.settings, gateway=gateway_for(self.settings, {"coder": self.coder,
                             "reviewer": self.reviewer}), commands=runner,
                             memory=build_memory(self.settings, Home.from_env()), events=self.events, cwd=repo)
        self.staging: Staging = Workspace(repo).create_staging(repo.parent / "stagings", "s1")

    async def run(self, step: Step = CODER, plan: Plan = PLAN) -> StepOutcome:
        return await run_step(step, task="fix the calculator", plan=plan, staging=self.staging, deps=self.deps)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events.events if isinstance(e, kind)]


async def test_approved_and_validated_change_is_the_outcome_and_the_tree_is_untouched(repo: Path) -> None:
    h = Harness(repo, [edit("a - b", "a + b"), act("done", summary="add adds")], [approve()])
    outcome = await h.run()
    assert outcome.status == "succeeded" and outcome.summary == "add adds" and outcome.files == ("calc.py",)
    assert "-    return a - b\n+    return a + b" in outcome.diff
    assert (repo / "calc.py").read_text() == BUGGY  # only the staging changed
    assert [(e.verdict, e.comments) for e in h.of(ReviewCompleted)] == [("approve", ())]
    assert [e.passed for e in h.of(ValidationCompleted)] == [True]
    assert [e.type for e in h.events.events if e.type.startswith("command.")] == ["command.decided", "command.executed"]
    review_request = h.reviewer.requests[0].messages
    assert "+    return a + b" in review_request[-1].content and "Keep functions small." in review_request[1].content


async def test_reviewer_rejection_goes_back_to_the_coder_with_its_comments(repo: Path) -> None:
    coder = [edit("a - b", "a + b + 0"), act("done", summary="v1"),
             edit("a + b + 0", "a + b"), act("done", summary="v2")]
    h = Harness(repo, coder, [reject("calc.py: drop the pointless + 0"), approve()])
    outcome = await h.run()
    assert outcome.status == "succeeded" and outcome.summary == "v2"
    assert "- calc.py: drop the pointless + 0" in h.coder.requests[2].messages[-1].content
    assert [e.verdict for e in h.of(ReviewCompleted)] == ["request_changes", "approve"]
    assert "+ 0" not in outcome.diff


async def test_failing_validation_goes_back_with_the_output_tail(repo: Path) -> None:
    coder = [edit("a - b", "a * b"), act("done", summary="v1"), edit("a * b", "a + b"), act("done", summary="v2")]
    h = Harness(repo, coder, [approve(), approve()])
    outcome = await h.run()
    assert outcome.status == "succeeded" and outcome.summary == "v2"
    feedback = h.coder.requests[2].messages[-1].content
    assert "python3 check.py" in feedback and "add(2, 3) gave 6" in feedback
    validations = h.of(ValidationCompleted)
    assert [e.passed for e in validations] == [False, True] and "add(2, 3) gave 6" in validations[0].output_tail
    assert len(h.reviewer.requests) == 2  # the diff changed after approval, so it was reviewed again


async def test_persistent_validation_failure_fails_the_step(repo: Path) -> None:
    coder = [edit("a - b", "a * b"), act("done", summary="v1"), act("done", summary="v2")]
    h = Harness(repo, coder, [approve()], validate={"commands": ["python3 check.py"], "max_rounds": 2})
    outcome = await h.run()
    assert outcome.status == "failed" and outcome.reason is not None
    first, *tail = outcome.reason.splitlines()  # the cause travels with the failure: the check's last output lines
    assert first == "checks still fail after 2 rounds: python3 check.py"
    assert 0 < len(tail) <= 5 and any("add(2, 3) gave 6" in line for line in tail), outcome.reason
    assert outcome.diff == "" and [e.passed for e in h.of(ValidationCompleted)] == [False, False]
    assert len(h.reviewer.requests) == 1  # an unchanged, already approved diff is not reviewed again


async def test_reviewer_that_never_approves_fails_the_step(repo: Path) -> None:
    coder = [edit("a - b", "a + b"), act("done", summary="v1"), act("done", summary="v2")]
    h = Harness(repo, coder, [reject("no"), reject("still no")], review={"max_rounds": 2})
    outcome = await h.run()
    assert outcome.status == "failed" and "after 2 rounds: still no" in outcome.reason
    assert h.of(ValidationCompleted) == []


async def test_coder_out_of_turns_fails_the_step(repo: Path) -> None:
    h = Harness(repo, [act("read_file", path="calc.py")] * 2, [], coder={"max_turns": 2})
    outcome = await h.run()
    assert outcome.status == "failed" and outcome.reason == "the coder did not finish within 2 turns"


async def test_reviewer_garbage_fails_the_step_with_one_line(repo: Path) -> None:
    coder = [edit("a - b", "a + b"), act("done", summary="v1")]
    h = Harness(repo, coder, ["looks fine to me!"], models={"structured_retries": 0})
    outcome = await h.run()
    assert outcome.status == "failed" and "no valid ReviewReply" in outcome.reason and "\n" not in outcome.reason


async def test_memory_docs_are_loaded_and_scoped_docs_follow_the_coder(repo: Path) -> None:
    coder = [act("read_file", path="lib/util.py"), act("read_file", path="lib/util.py"), edit("a - b", "a + b"),
             act("done", summary="ok")]
    h = Harness(repo, coder, [approve()])
    await h.run()
    loaded = h.of(MemoryLoaded)
    assert [tuple(Path(p).relative_to(repo).as_posix() for p in e.sources) for e in loaded] == [
        ("AGENTS.md",), ("lib/AGENTS.md",),
    ]
    first_observation = h.coder.requests[1].messages[-1].content
    assert "lib/ code must stay pure." in first_observation
    assert "lib/ code must stay pure." not in h.coder.requests[2].messages[-1].content  # shown once
    assert "Keep functions small." in h.coder.requests[0].messages[1].content


async def test_reviewer_step_judges_the_staged_changes(repo: Path) -> None:
    review = Step(id="r1", role="reviewer", goal="review the fix", depends_on=("s1",))
    plan = Plan(steps=(CODER, review))
    h = Harness(repo, [], [reject("calc.py: multiplication is not addition")])
    (h.staging.root / "calc.py").write_text("def add(a, b):\n    return a * b\n")
    outcome = await h.run(review, plan)
    assert outcome.status == "failed" and "multiplication" in outcome.reason and outcome.diff == ""
    request = h.reviewer.requests[0].messages[-1].content
    assert "+    return a * b" in request and "s1: make add() add" in request
    assert [e.step_id for e in h.of(ReviewCompleted)] == ["r1"]


async def test_validator_step_runs_the_checks(repo: Path) -> None:
    check = Step(id="v1", role="validator", goal="run the checks", depends_on=("s1",))
    h = Harness(repo, [], [])
    failed = await h.run(check, Plan(steps=(CODER, check)))
    assert failed.status == "failed" and failed.reason == "checks failed: python3 check.py"
    (h.staging.root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    passed = await h.run(check, Plan(steps=(CODER, check)))
    assert passed.status == "succeeded" and passed.diff == ""
    assert [e.passed for e in h.of(ValidationCompleted)] == [False, True]


async def test_a_stalled_coder_with_a_change_goes_to_review_and_checks(repo: Path) -> None:
    fix = edit("a - b", "a + b")
    h = Harness(repo, [fix, fix, fix, fix], [approve()])
    outcome = await h.run()
    assert outcome.status == "succeeded" and "repeating one action" in outcome.summary
    assert len(h.coder.requests) == 4
    assert "already applied" in h.coder.requests[2].messages[-1].content  # the repeat was explained
    assert "reply with the done action" in h.coder.requests[1].messages[-1].content  # the nudge after a change


async def test_a_stalled_coder_without_a_change_fails(repo: Path) -> None:
    h = Harness(repo, [act("read_file", path="calc.py")] * 6, [])  # told once to stop reading, then stalled again
    outcome = await h.run()
    assert outcome.status == "failed" and "without changing anything" in outcome.reason


async def test_an_unmet_requirement_in_the_checklist_overrides_an_approval(repo: Path) -> None:
    half_done = json.dumps({"checklist": [{"requirement": "add() adds", "done": True},
                                          {"requirement": "add() has a docstring", "done": False}],
                            "comments": [], "verdict": "approve"})
    coder = [edit("a - b", "a + b"), act("done", summary="v1"),
             edit("    return a + b", '    """Sum."""\n    return a + b'), act("done", summary="v2")]
    h = Harness(repo, coder, [half_done, approve()])
    outcome = await h.run()
    assert outcome.status == "succeeded" and outcome.summary == "v2"
    reviews = h.of(ReviewCompleted)
    assert [(e.verdict, e.comments) for e in reviews] == [
        ("request_changes", ("not done yet: add() has a docstring",)), ("approve", ()),
    ]
    assert "- not done yet: add() has a docstring" in h.coder.requests[2].messages[-1].content
