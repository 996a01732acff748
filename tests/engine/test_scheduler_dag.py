"""The scheduler with a trivial step runner: concurrency, skip propagation, persistence, resume, cancellation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from orchestrator.core.contracts import StepOutcome
from orchestrator.core.errors import BudgetExceededError, ModelOutputError
from orchestrator.core.events import FanoutSink, ListSink, StoreSink
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.scheduler import Scheduler
from orchestrator.settings.home import Home
from orchestrator.store.sessions import SessionStore, Store

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def session(orchestrate_home: Path, tmp_path: Path) -> Iterator[SessionStore]:
    store = Store(Home(orchestrate_home))
    with store.create(cwd=tmp_path, task="t") as s:
        yield s
    store.close()


def _plan(*steps: tuple[str, tuple[str, ...]]) -> Plan:
    return Plan(steps=tuple(Step(id=i, role="coder", goal=i, depends_on=d) for i, d in steps))


DIAMOND = _plan(("a", ()), ("b", ("a",)), ("c", ("a",)), ("d", ("b", "c")))


def _scheduler(plan: Plan, session: SessionStore, runner, sink: ListSink, max_parallel: int = 4) -> Scheduler:  # type: ignore[no-untyped-def]
    return Scheduler(plan, runner=runner, store=session, events=FanoutSink(sink, StoreSink(session)),
                     max_parallel=max_parallel, model_for=lambda step: "fake")


async def test_the_middle_steps_of_a_diamond_run_concurrently(session: SessionStore) -> None:
    started = {k: anyio.Event() for k in "abcd"}
    ran: list[str] = []

    async def runner(step: Step) -> StepOutcome:
        started[step.id].set()
        ran.append(step.id)
        other = {"b": "c", "c": "b"}.get(step.id)
        if other:  # each middle step waits until the other one is running too: only possible if they overlap
            with anyio.fail_after(30):
                await started[other].wait()
        return StepOutcome(status="succeeded", summary=f"did {step.id}")

    sink = ListSink()
    states = await _scheduler(DIAMOND, session, runner, sink).run()
    assert states == dict.fromkeys("abcd", "succeeded")
    assert ran[0] == "a" and ran[-1] == "d"
    kinds = [(e.type, e.step_id) for e in sink.events]  # type: ignore[union-attr]
    # both middle steps started before either completed
    assert kinds.index(("step.started", "c")) < kinds.index(("step.completed", "b"))
    assert kinds.index(("step.started", "b")) < kinds.index(("step.completed", "c"))
    assert [e.model for e in sink.of_type("step.started")] == ["fake"] * 4  # type: ignore[union-attr]
    # every transition is in the store, events included
    assert session.step("d").status == "succeeded" and session.step("b").summary == "did b"
    assert [e.type for e in session.events()] == [e.type for e in sink.events]


async def test_max_parallel_bounds_concurrency(session: SessionStore) -> None:
    running, peak = 0, 0

    async def runner(step: Step) -> StepOutcome:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.lowlevel.checkpoint()
        await anyio.lowlevel.checkpoint()
        running -= 1
        return StepOutcome(status="succeeded")

    wide = _plan(*((f"s{i}", ()) for i in range(6)))
    await _scheduler(wide, session, runner, ListSink(), max_parallel=2).run()
    assert peak == 2


async def test_a_failed_step_skips_its_dependents_only(session: SessionStore) -> None:
    plan = _plan(("a", ()), ("b", ("a",)), ("c", ("b",)), ("x", ()), ("y", ("x", "c")))
    calls: list[str] = []

    async def runner(step: Step) -> StepOutcome:
        calls.append(step.id)
        if step.id == "a":
            raise ModelOutputError("the model kept returning garbage")
        return StepOutcome(status="succeeded")

    sink = ListSink()
    states = await _scheduler(plan, session, runner, sink).run()
    assert states == {"a": "failed", "b": "skipped", "c": "skipped", "x": "succeeded", "y": "skipped"}
    assert sorted(calls) == ["a", "x"]
    assert session.step("a").reason == "the model kept returning garbage"
    assert session.step("b").reason == "depends on a (failed)" and session.step("y").reason == "depends on a (failed)"
    completed = [(e.step_id, e.status) for e in sink.of_type("step.completed")]  # type: ignore[union-attr]
    assert sorted(completed) == [("a", "failed"), ("b", "skipped"), ("c", "skipped"), ("x", "succeeded"),
                                 ("y", "skipped")]


async def test_a_fatal_error_ends_the_run(session: SessionStore) -> None:
    async def runner(step: Step) -> StepOutcome:
        raise BudgetExceededError("budget of $1.00 reached")

    with pytest.raises(BudgetExceededError):
        await _scheduler(_plan(("a", ())), session, runner, ListSink()).run()
    assert session.step("a").status == "running"  # resumable: it never completed


async def test_resume_never_reruns_completed_steps(session: SessionStore) -> None:
    calls: list[str] = []

    async def flaky(step: Step) -> StepOutcome:
        calls.append(step.id)
        if step.id == "c":
            raise BudgetExceededError("out of money")
        return StepOutcome(status="succeeded")

    with pytest.raises(BudgetExceededError):
        await _scheduler(DIAMOND, session, flaky, ListSink(), max_parallel=1).run()
    assert session.step("c").status == "running" and session.step("d").status == "pending"

    calls.clear()

    async def fine(step: Step) -> StepOutcome:
        calls.append(step.id)
        return StepOutcome(status="succeeded")

    sink = ListSink()
    states = await _scheduler(DIAMOND, session, fine, sink).run()
    assert states == dict.fromkeys("abcd", "succeeded")
    assert calls == ["c", "d"]
    assert session.step("c").attempt == 2
    completed = [e.step_id for e in session.events() if e.type == "step.completed"]  # type: ignore[union-attr]
    assert sorted(completed) == ["a", "b", "c", "d"]  # no step completed twice


async def test_cancellation_leaves_in_flight_steps_running_and_propagates(session: SessionStore) -> None:
    gate = anyio.Event()

    async def runner(step: Step) -> StepOutcome:
        if step.id == "b":
            gate.set()
            await anyio.sleep_forever()
        return StepOutcome(status="succeeded")

    scheduler = _scheduler(DIAMOND, session, runner, ListSink(), max_parallel=1)
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(scheduler.run)
            await gate.wait()
            scope.cancel()
    assert scope.cancelled_caught
    assert session.step("a").status == "succeeded" and session.step("b").status == "running"
    assert session.step("d").status == "pending"
