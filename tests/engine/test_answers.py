"""The user's answers that keep a step going: "change it: ..." at the diff, and retry / skip / stop when a step fails.

The engine is real (store, stagings, git, apply); the role pipeline is a small step function that records the
guidance it is given, so these tests pin what the engine does with each answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from memory import build_memory
from orchestrator.api import Orchestrator, SessionEvents
from orchestrator.core.contracts import DiffDecision, FailureDecision, MemoryContext, StepOutcome
from orchestrator.core.events import ListSink
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.session import PlanDecision
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings
from orchestrator.store.sessions import Store
from orchestrator.testing import ScriptedDiffReviewer, ScriptedFailureHandler, ScriptedModel, gateway_for
from orchestrator.workspace.staging import Staging

pytestmark = pytest.mark.anyio


class GuidedSteps:
    """A step function: call N of a step writes ``<step>.txt`` = ``versions[N]`` in its staging; a version None
    fails the step. Records (step id, guidance, what the staging held before) for every call."""

    def __init__(self, versions: dict[str, list[str | None]]) -> None:
        self.versions = versions
        self.calls: list[tuple[str, str, str]] = []

    async def __call__(self, step: Step, *, task: str, plan: Plan, staging: Staging, deps: Any,
                       checkpoint: Any = None, guidance: str = "") -> StepOutcome:
        path = staging.root / f"{step.id}.txt"
        self.calls.append((step.id, guidance, path.read_text() if path.exists() else ""))
        versions = self.versions.get(step.id, ["done\n"])
        text = versions[min(sum(c[0] == step.id for c in self.calls) - 1, len(versions) - 1)]
        if text is None:
            return StepOutcome(status="failed", reason=f"{step.id} could not do it")
        path.write_text(text)
        return StepOutcome(status="succeeded", summary="ok", diff=staging.diff())


def _planner(plan: Plan) -> Any:
    async def planner(task: str, *, gateway: Any, memory: MemoryContext, repo_summary: str, **_: Any) -> Plan:
        return plan

    return planner


def _plan(*steps: tuple[str, tuple[str, ...]]) -> Plan:
    return Plan(summary="p", steps=tuple(Step(id=i, role="coder", goal=f"write {i}", depends_on=d) for i, d in steps))


def _orch(repo: Path, home: Path, plan: Plan, steps: GuidedSteps, sink: ListSink, **extra: Any) -> Orchestrator:
    settings = Settings(max_parallel=1)
    return Orchestrator(settings=settings, cwd=repo, home=Home(home), gateway=gateway_for(settings, ScriptedModel([])),
                        memory=build_memory(settings, Home(home)), planner=_planner(plan), run_step=steps,
                        events=SessionEvents(sink), **extra)


async def test_change_it_sends_the_guidance_to_the_same_step_and_applies_the_next_diff(
        bank_repo: Path, orchestrate_home: Path) -> None:
    steps = GuidedSteps({"a": ["first\n", "second\n"]})
    reviewer = ScriptedDiffReviewer([DiffDecision(kind="change", guidance="say second"), True])
    orch = _orch(bank_repo, orchestrate_home, _plan(("a", ())), steps, ListSink(), diff_reviewer=reviewer)
    result = await orch.run("t")
    await orch.aclose()
    assert result.status == "succeeded"
    # the same staging: the second call found the first version there, and got the user's words
    assert steps.calls == [("a", "", ""), ("a", "say second", "first\n")]
    assert [d for _, d in reviewer.diffs][1].count("+second") == 1
    assert (bank_repo / "a.txt").read_text() == "second\n"


async def test_change_requests_are_bounded(bank_repo: Path, orchestrate_home: Path) -> None:
    steps = GuidedSteps({"a": ["v\n"]})
    reviewer = ScriptedDiffReviewer([DiffDecision(kind="change", guidance="again")] * 10)
    orch = _orch(bank_repo, orchestrate_home, _plan(("a", ())), steps, ListSink(), diff_reviewer=reviewer)
    result = await orch.run("t")
    await orch.aclose()
    assert result.status == "failed" and "max_change_requests = 3" in result.reasons["a"]
    assert len(reviewer.diffs) == 4 and len(steps.calls) == 4
    assert not (bank_repo / "a.txt").exists()


async def test_retry_with_guidance_runs_the_failed_step_again_with_it(bank_repo: Path, orchestrate_home: Path) -> None:
    steps = GuidedSteps({"a": [None, "fixed\n"]})
    handler = ScriptedFailureHandler([FailureDecision(kind="retry", guidance="try harder")])
    orch = _orch(bank_repo, orchestrate_home, _plan(("a", ()), ("b", ("a",))), steps, ListSink(),
                 failure_handler=handler)
    result = await orch.run("t")
    await orch.aclose()
    assert result.status == "succeeded", result.reasons
    assert [(c[0], c[1]) for c in steps.calls] == [("a", ""), ("a", "try harder"), ("b", "")]
    assert [(f.step_id, f.attempt, f.reason) for f in handler.failures] == [("a", 1, "a could not do it")]
    store = Store(Home(orchestrate_home))
    with store.open(result.session_id) as session:
        assert session.step("a").retries == 1 and session.step("a").status == "succeeded"
    store.close()


async def test_skip_fails_the_step_and_the_others_go_on(bank_repo: Path, orchestrate_home: Path) -> None:
    steps = GuidedSteps({"a": [None]})
    handler = ScriptedFailureHandler([FailureDecision(kind="skip")])
    orch = _orch(bank_repo, orchestrate_home, _plan(("a", ()), ("b", ("a",)), ("c", ())), steps, ListSink(),
                 failure_handler=handler)
    result = await orch.run("t")
    await orch.aclose()
    assert result.steps == {"a": "failed", "b": "skipped", "c": "succeeded"}
    assert len(handler.failures) == 1


async def test_stop_starts_no_other_step_and_a_resume_continues(bank_repo: Path, orchestrate_home: Path) -> None:
    steps = GuidedSteps({"a": [None]})
    handler = ScriptedFailureHandler([FailureDecision(kind="stop")])
    orch = _orch(bank_repo, orchestrate_home, _plan(("a", ()), ("c", ())), steps, ListSink(),
                 failure_handler=handler)
    result = await orch.run("t")
    await orch.aclose()
    assert result.status == "failed" and result.steps == {"a": "failed", "c": "pending"}
    assert [c[0] for c in steps.calls] == ["a"]
    again = _orch(bank_repo, orchestrate_home, _plan(("a", ()), ("c", ())), steps, ListSink())
    resumed = await again.resume(result.session_id)
    await again.aclose()
    assert resumed.steps == {"a": "failed", "c": "succeeded"}
    assert [c[0] for c in steps.calls] == ["a", "c"]


async def test_resume_retry_failed_gives_the_guidance_to_failed_and_skipped_steps(
        bank_repo: Path, orchestrate_home: Path) -> None:
    plan = _plan(("a", ()), ("b", ("a",)))
    steps = GuidedSteps({"a": [None, "ok\n"]})
    orch = _orch(bank_repo, orchestrate_home, plan, steps, ListSink())
    first = await orch.run("t")
    await orch.aclose()
    assert first.steps == {"a": "failed", "b": "skipped"}
    sink = ListSink()
    again = _orch(bank_repo, orchestrate_home, plan, steps, sink)
    resumed = await again.resume(first.session_id, retry_failed=True, guidance="use ok")
    await again.aclose()
    assert resumed.status == "succeeded" and not resumed.already_finished
    assert [(c[0], c[1]) for c in steps.calls] == [("a", ""), ("a", "use ok"), ("b", "use ok")]
    (event,) = sink.of_type("session.resumed")
    assert '"retry_failed":true' in event.to_json() and '"guidance":"use ok"' in event.to_json()


async def test_guidance_after_a_succeeded_session_plans_a_follow_up(bank_repo: Path, orchestrate_home: Path) -> None:
    seen: list[dict[str, Any]] = []
    plans = iter([_plan(("s1", ())), _plan(("s1", ()), ("s2", ("s1",)))])

    async def planner(task: str, *, gateway: Any, memory: MemoryContext, repo_summary: str, **kw: Any) -> Plan:
        seen.append({"task": task, **kw})
        return next(plans)

    settings = Settings()
    steps = GuidedSteps({})

    def orch(sink: ListSink) -> Orchestrator:
        return Orchestrator(settings=settings, cwd=bank_repo, home=Home(orchestrate_home),
                            gateway=gateway_for(settings, ScriptedModel([])), run_step=steps,
                            memory=build_memory(settings, Home(orchestrate_home)), planner=planner,
                            events=SessionEvents(sink))

    first = orch(ListSink())
    done = await first.run("write one file")
    await first.aclose()
    # the user commits the session's change and edits it: a follow-up starts on today's tree, without --force
    await anyio.run_process(["git", "add", "-A"], cwd=bank_repo)
    await anyio.run_process(["git", "commit", "-qm", "s1"], cwd=bank_repo)
    (bank_repo / "s1.txt").write_text("edited\n")
    sink = ListSink()
    follow = orch(sink)
    result = await follow.resume(done.session_id, guidance="now two more")
    await follow.aclose()
    assert result.status == "succeeded"
    assert result.steps == {"s1": "succeeded", "f1.s1": "succeeded", "f1.s2": "succeeded"}
    assert seen[1]["task"] == "now two more"
    assert "Original task: write one file" in seen[1]["history"] and "changed: s1.txt" in seen[1]["history"]
    (created,) = sink.of_type("plan.created")
    assert created.followup == 1 and [s.id for s in created.steps] == ["f1.s1", "f1.s2"]  # type: ignore[union-attr]
    assert (bank_repo / "f1.s2.txt").exists()
    store = Store(Home(orchestrate_home))
    with store.open(done.session_id) as session:
        assert session.meta.followups == ("now two more",)
    store.close()


async def test_a_change_the_user_rejected_is_not_asked_about_again(bank_repo: Path, orchestrate_home: Path) -> None:
    handler = ScriptedFailureHandler([FailureDecision(kind="retry")])
    orch = _orch(bank_repo, orchestrate_home, _plan(("a", ())), GuidedSteps({}), ListSink(),
                 diff_reviewer=ScriptedDiffReviewer([False]), failure_handler=handler)
    result = await orch.run("t")
    await orch.aclose()
    assert result.reasons["a"].startswith("the user rejected the change") and handler.failures == []


async def test_quitting_at_a_follow_ups_plan_leaves_the_session_as_it_was(bank_repo: Path,
                                                                          orchestrate_home: Path) -> None:
    class Quit:
        async def review_plan(self, plan: Plan, task: str) -> PlanDecision:
            return PlanDecision(action="quit")

    plan = _plan(("a", ()))
    first = _orch(bank_repo, orchestrate_home, plan, GuidedSteps({}), ListSink())
    done = await first.run("t")
    await first.aclose()
    again = _orch(bank_repo, orchestrate_home, plan, GuidedSteps({}), ListSink(), plan_reviewer=Quit())
    result = await again.resume(done.session_id, guidance="more")
    await again.aclose()
    assert result.status == "succeeded" and result.steps == {"a": "succeeded"}
    store = Store(Home(orchestrate_home))
    with store.open(done.session_id) as session:
        assert session.meta.followups == () and session.meta.status == "succeeded"
    store.close()
