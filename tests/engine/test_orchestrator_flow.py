"""The Orchestrator flow with injected collaborators: a fixed planner and a step function that edits its staging.

The model layer is real (a gateway over a scripted fake); the role pipeline is replaced by a small step function so
these tests pin the engine's own behaviour: stagings, approval, apply, conflicts, events, store.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from memory import build_memory
from orchestrator.api import Orchestrator, SessionEvents
from orchestrator.core.contracts import MemoryContext, StepOutcome
from orchestrator.core.errors import InputError, TaskFailedError
from orchestrator.core.events import ListSink
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.session import PlanDecision, StoreCheckpoint
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings
from orchestrator.store.sessions import Store
from orchestrator.testing import ScriptedModel, gateway_for
from orchestrator.workspace.staging import Staging

pytestmark = pytest.mark.anyio


Edit = Callable[[Path], None]


class EditingSteps:
    """A step function: applies ``edits[step_id]`` (one per attempt) to the staging root and reports the diff."""

    def __init__(self, edits: dict[str, list[Edit]], on_start: Callable[[Step, Staging], Any] | None = None) -> None:
        self.edits = edits
        self.calls: list[str] = []
        self.on_start = on_start

    async def __call__(self, step: Step, *, task: str, plan: Plan, staging: Staging, deps: Any,
                       checkpoint: StoreCheckpoint | None = None) -> StepOutcome:
        self.calls.append(step.id)
        if self.on_start is not None:
            await self.on_start(step, staging)
        attempt = self.calls.count(step.id) - 1
        edits = self.edits.get(step.id, [])
        if edits:
            edits[min(attempt, len(edits) - 1)](staging.root)
        return StepOutcome(status="succeeded", summary=f"{step.id} done", diff=staging.diff())


def fixed_planner(plan: Plan) -> Any:
    async def planner(task: str, *, gateway: Any, memory: MemoryContext, repo_summary: str,
                      cwd: Path | None = None) -> Plan:
        assert "bank.py" in repo_summary
        return plan

    return planner


def _orchestrator(repo: Path, home: Path, plan: Plan, steps: EditingSteps, sink: ListSink,
                  **extra: Any) -> Orchestrator:
    settings = Settings()
    return Orchestrator(settings=settings, cwd=repo, home=Home(home), gateway=gateway_for(settings, ScriptedModel([])),
                        memory=build_memory(settings, Home(home)), planner=fixed_planner(plan), run_step=steps,
                        events=SessionEvents(sink), **extra)


def replace(old: str, new: str) -> Edit:
    def edit(root: Path) -> None:
        path = root / "bank.py"
        path.write_text(path.read_text().replace(old, new))

    return edit


def _plan(*steps: tuple[str, tuple[str, ...]]) -> Plan:
    return Plan(summary="p", steps=tuple(Step(id=i, role="coder", goal=i, depends_on=d) for i, d in steps))


async def test_a_run_applies_each_approved_step_and_records_everything(bank_repo: Path, orchestrate_home: Path) -> None:
    plan = _plan(("abs", ()), ("neg", ("abs",)))
    steps = EditingSteps({"abs": [replace("return x\n", "return abs(x)\n")],
                          "neg": [replace("return -x\n", "return -abs(x)\n")]})
    sink = ListSink()
    orch = _orchestrator(bank_repo, orchestrate_home, plan, steps, sink)
    result = await orch.run("validate amounts")
    await orch.aclose()
    assert result.status == "succeeded" and result.exit_code == 0
    text = (bank_repo / "bank.py").read_text()
    assert "return abs(x)" in text and "return -abs(x)" in text
    types = [e.type for e in sink.events]
    assert types[:2] == ["session.started", "plan.created"] and types[-1] == "session.completed"
    assert [e.files for e in sink.of_type("edit.applied")] == [("bank.py",), ("bank.py",)]  # type: ignore[union-attr]
    store = Store(Home(orchestrate_home))
    with store.open(result.session_id) as s:
        assert s.meta.status == "succeeded" and s.load_plan() == plan
        assert [e.type for e in s.events()] == types
        assert not any(s.stagings_dir.iterdir())  # every staging removed
    store.close()
    assert "stagings" not in (await anyio.run_process(["git", "worktree", "list"], cwd=bank_repo)).stdout.decode()


class Reviewer:
    def __init__(self, repo: Path, answer: bool) -> None:
        self.repo, self.answer = repo, answer
        self.seen: list[str] = []

    async def review_diff(self, step: Step, diff: str) -> bool:
        # what the user is shown is not in their tree yet
        assert "return x\n" in (self.repo / "bank.py").read_text()
        self.seen.append(diff)
        return self.answer


@pytest.mark.parametrize("approve", [True, False])
async def test_nothing_touches_the_tree_before_the_user_approves(bank_repo: Path, orchestrate_home: Path,
                                                                  approve: bool) -> None:
    plan = _plan(("a", ()), ("b", ("a",)))
    steps = EditingSteps({"a": [replace("return x\n", "return abs(x)\n")]})
    reviewer = Reviewer(bank_repo, approve)
    sink = ListSink()
    orch = _orchestrator(bank_repo, orchestrate_home, plan, steps, sink, diff_reviewer=reviewer)
    result = await orch.run("t")
    await orch.aclose()
    assert len(reviewer.seen) == 1 and "+    return abs(x)" in reviewer.seen[0]
    assert ("return abs(x)" in (bank_repo / "bank.py").read_text()) is approve
    assert result.steps == ({"a": "succeeded", "b": "succeeded"} if approve else {"a": "failed", "b": "skipped"})
    assert result.exit_code == (0 if approve else 1)
    if approve:
        result.raise_for_status()
    else:
        with pytest.raises(TaskFailedError, match=rf"^session {result.session_id} failed \(step a: .+\)$") as caught:
            result.raise_for_status()
        assert caught.value.exit_code == 1


async def test_parallel_conflicting_edits_are_caught_and_the_later_step_reruns(bank_repo: Path,
                                                                               orchestrate_home: Path) -> None:
    plan = _plan(("one", ()), ("two", ()))
    both_staged = anyio.Event()
    started: set[str] = set()

    async def together(step: Step, staging: Staging) -> None:
        started.add(step.id)
        if started >= {"one", "two"}:
            both_staged.set()
        with anyio.fail_after(30):
            await both_staged.wait()  # both stagings exist before either applies: they share a base

    def rerun_edit(root: Path) -> None:  # the re-run sees the other step's edit and builds on it
        path = root / "bank.py"
        path.write_text(path.read_text().replace("return abs(x)\n", "return max(abs(x), 0)\n")
                        .replace("return max(x, 0)\n", "return max(abs(x), 0)\n"))

    steps = EditingSteps({"one": [replace("return x\n", "return abs(x)\n"), rerun_edit],
                          "two": [replace("return x\n", "return max(x, 0)\n"), rerun_edit]}, on_start=together)
    sink = ListSink()
    orch = _orchestrator(bank_repo, orchestrate_home, plan, steps, sink)
    result = await orch.run("t")
    await orch.aclose()
    assert result.status == "succeeded"
    warnings = sink.of_type("warning")
    assert len(warnings) == 1 and "conflicts" in warnings[0].message  # type: ignore[union-attr]
    loser = warnings[0].step_id  # type: ignore[union-attr]
    assert steps.calls.count(loser) == 2 and len(steps.calls) == 3
    assert "return max(abs(x), 0)" in (bank_repo / "bank.py").read_text()
    assert len(sink.of_type("edit.applied")) == 2


async def test_plan_review_can_edit_the_task_or_quit(bank_repo: Path, orchestrate_home: Path) -> None:
    class PlanReview:
        def __init__(self) -> None:
            self.tasks: list[str] = []

        async def review_plan(self, plan: Plan, task: str) -> PlanDecision:
            self.tasks.append(task)
            return PlanDecision("edit", "better task") if len(self.tasks) == 1 else PlanDecision("quit")

    review = PlanReview()
    steps = EditingSteps({"a": [replace("return x\n", "return 0\n")]})
    orch = _orchestrator(bank_repo, orchestrate_home, _plan(("a", ())), steps, ListSink(), plan_reviewer=review)
    result = await orch.run("first task")
    await orch.aclose()
    assert review.tasks == ["first task", "better task"]
    assert steps.calls == [] and result.exit_code == 0 and result.status == "interrupted"
    assert "return x\n" in (bank_repo / "bank.py").read_text()


async def test_an_empty_task_is_an_input_error(bank_repo: Path, orchestrate_home: Path) -> None:
    orch = _orchestrator(bank_repo, orchestrate_home, _plan(("a", ())), EditingSteps({}), ListSink())
    with pytest.raises(InputError, match="empty"):
        await orch.run("   ")
    await orch.aclose()


async def test_resume_after_an_interruption_continues_without_rerunning(bank_repo: Path,
                                                                        orchestrate_home: Path) -> None:
    plan = _plan(("a", ()), ("b", ("a",)), ("c", ("b",)))
    in_b = anyio.Event()

    async def hang_in_b(step: Step, staging: Staging) -> None:
        if step.id == "b":
            (staging.root / "wip.txt").write_text("half of b\n")
            in_b.set()
            await anyio.sleep_forever()

    steps = EditingSteps({"a": [replace("return x\n", "return abs(x)\n")]}, on_start=hang_in_b)
    sink = ListSink()
    orch = _orchestrator(bank_repo, orchestrate_home, plan, steps, sink)
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(orch.run, "t")
            await in_b.wait()
            scope.cancel()
    await orch.aclose()
    assert orch.session_id is not None
    last = sink.events[-1]
    assert last.type == "session.completed" and last.status == "interrupted"  # type: ignore[union-attr]
    assert not (bank_repo / "wip.txt").exists()

    seen: list[str] = []

    async def record(step: Step, staging: Staging) -> None:
        seen.append((staging.root / "wip.txt").read_text() if step.id == "b" else "")

    again = EditingSteps({}, on_start=record)
    sink2 = ListSink()
    orch2 = _orchestrator(bank_repo, orchestrate_home, plan, again, sink2)
    result = await orch2.resume(orch.session_id[:17])
    await orch2.aclose()
    assert result.status == "succeeded" and again.calls == ["b", "c"]
    assert seen[0] == "half of b\n"  # b's interrupted work came back in its new staging
    assert (bank_repo / "wip.txt").read_text() == "half of b\n"
    assert sink2.events[0].type == "session.resumed"
    assert "return abs(x)" in (bank_repo / "bank.py").read_text()
