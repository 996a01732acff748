"""The batch driver: run every task of the tasks file that has no result yet, at most N at once, on a backend, and
record each outcome as it arrives (:class:`~orchestrator.engine.batch.results.ResultsLog`).

Tasks start in file order. Before each start the batch budget is checked against the cost of every result recorded
so far (earlier runs included); once reached, no further task starts and the running ones finish. An interrupted
task (its session saved) gets no result, so running the batch again resumes it; a finished one never runs again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from orchestrator.core.contracts import Usage
from orchestrator.engine.batch.events import (
    BatchCompleted,
    BatchSink,
    BatchSummary,
    BatchTaskCompleted,
    BatchTaskInterrupted,
    BatchTaskStarted,
)
from orchestrator.engine.batch.results import ResultsLog, TaskOutcome, TaskResult
from orchestrator.engine.batch.tasks import BatchTask
from orchestrator.engine.batch.worker import WorkerSpec

if TYPE_CHECKING:
    from anyio import Semaphore

__all__ = ["Backend", "BatchRun", "run_batch"]


class Backend(Protocol):
    """Where tasks run. ``run`` returns the task's outcome (a task's own failure is an outcome, never raised)."""

    name: str

    async def run(self, task: BatchTask, spec: WorkerSpec) -> TaskOutcome: ...

    async def aclose(self) -> None: ...


@dataclass
class BatchRun:
    """One run of a batch: what to run, where, and how much at once."""

    tasks: Sequence[BatchTask]
    backend: Backend
    spec: WorkerSpec
    log: ResultsLog
    max_concurrency: int = 2
    batch_budget_usd: float = 0.0  # 0: none


@dataclass
class _Tally:
    """What a run has so far: every result (earlier runs' included), interrupted tasks, this run's usage."""

    results: dict[str, TaskResult]
    interrupted: int = 0
    usage: Usage = field(default_factory=Usage)

    def spent(self) -> float:
        return sum(r.usage.cost_usd for r in self.results.values())


async def run_batch(run: BatchRun, sink: BatchSink) -> BatchSummary:
    """Run ``run`` to the end (see the module docstring); emits every event on ``sink``, ``batch.completed`` last."""
    import anyio

    started = time.monotonic()
    earlier = {k: v for k, v in run.log.load().items() if k in {t.id for t in run.tasks}}
    tally = _Tally(results=dict(earlier))
    slots = anyio.Semaphore(max(1, run.max_concurrency))
    launched = 0
    try:
        async with anyio.create_task_group() as group:
            for task in (t for t in run.tasks if t.id not in earlier):
                await slots.acquire()
                if _budget_reached(run, tally):
                    slots.release()
                    break
                launched += 1
                sink.emit(BatchTaskStarted(id=task.id))
                group.start_soon(_one, run, tally, task, slots, sink)
    finally:
        await run.backend.aclose()
    summary = _summary(run, tally, len(earlier), launched, time.monotonic() - started)
    sink.emit(BatchCompleted(summary=summary))
    return summary


async def _one(run: BatchRun, tally: _Tally, task: BatchTask, slots: Semaphore, sink: BatchSink) -> None:
    try:
        outcome = await run.backend.run(task, run.spec)
        if outcome.interrupted:
            tally.interrupted += 1
            sink.emit(BatchTaskInterrupted(id=task.id))
            return
        run.log.record(outcome)
        tally.results[task.id] = outcome.result
        tally.usage = tally.usage + outcome.result.usage
        sink.emit(BatchTaskCompleted(result=outcome.result))
    finally:
        slots.release()


def _budget_reached(run: BatchRun, tally: _Tally) -> bool:
    return run.batch_budget_usd > 0 and tally.spent() >= run.batch_budget_usd


def _summary(run: BatchRun, tally: _Tally, earlier: int, launched: int, duration_s: float) -> BatchSummary:
    statuses = [r.status for r in tally.results.values()]
    finished = len(tally.results) - earlier
    return BatchSummary(
        total=len(run.tasks), succeeded=statuses.count("succeeded"), failed=statuses.count("failed"),
        errors=statuses.count("error"), skipped=earlier, interrupted=tally.interrupted,
        not_run=len(run.tasks) - earlier - launched, budget_exhausted=_budget_reached(run, tally),
        usage=tally.usage, duration_s=round(duration_s, 3),
        tasks_per_minute=round(finished / duration_s * 60, 2) if duration_s > 0 else 0.0)
