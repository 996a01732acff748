"""The scheduler: runs every ready step of a plan concurrently (up to ``max_parallel``), persisting each transition.

``pending → running → succeeded | failed``; a failed step marks every step depending on it ``skipped``. Each
transition is written to the session store together with its event, in one transaction, before the next action; the
session's emitter (``orchestrator.api.SessionEvents``) shows the event to its consumers only once that transaction
has committed, so a step whose ``step.completed`` anyone saw is final in the store.
Steps already final in the store (succeeded, failed, skipped) are never run again, so calling :meth:`Scheduler.run`
on a resumed session continues where it stopped; steps that were ``running`` when the process died start again
(their runner resumes them from their checkpoint).

Cancellation (Ctrl-C) propagates: in-flight steps stay ``running`` in the store, their runners clean up, and the
cancellation is re-raised for the session to report as interrupted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager
from typing import Protocol

import anyio
from anyio.abc import TaskGroup

from orchestrator.core.contracts import StepOutcome
from orchestrator.core.errors import BudgetExceededError, OrchestrateError, UsageError
from orchestrator.core.events import EventSink, StepCompleted, StepStarted, now_iso
from orchestrator.core.plan import Plan, Step, StepStatus, ancestors, build_dag, descendants, ready_steps
from orchestrator.store.sessions import StepRecord

__all__ = ["StepRunner", "Transitions", "Scheduler", "FATAL_ERRORS", "first_error"]


StepRunner = Callable[[Step], Awaitable[StepOutcome]]


class Transitions(Protocol):
    """Where transitions are persisted (``orchestrator.store.sessions.SessionStore``)."""

    def step(self, step_id: str) -> StepRecord: ...

    def set_step(self, record: StepRecord) -> None: ...

    def transaction(self) -> AbstractContextManager[None]: ...


# These end the whole run (no later step could do better); any other OrchestrateError fails just its step.
FATAL_ERRORS: tuple[type[OrchestrateError], ...] = (BudgetExceededError, UsageError)


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report from a task group that failed: our own errors first, then whatever came first."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            pending[:0] = exc.exceptions
        else:
            leaves.append(exc)
    ours = [e for e in leaves if isinstance(e, OrchestrateError)]
    return (ours or leaves)[0]


class Scheduler:
    """Runs a validated plan's steps through ``runner``, at most ``max_parallel`` at a time."""

    def __init__(self, plan: Plan, *, runner: StepRunner, store: Transitions, events: EventSink, max_parallel: int,
                 model_for: Callable[[Step], str] = lambda step: "",
                 stopped: Callable[[], bool] = lambda: False) -> None:
        self.plan = plan
        self._dag = build_dag(plan)
        self._runner = runner
        self._store = store
        self._events = events
        self._limiter = anyio.CapacityLimiter(max(1, max_parallel))
        self._model_for = model_for
        self._stopped = stopped  # the user stopped the session: no other step starts (they stay pending: resumable)
        self._records = {s.id: store.step(s.id) for s in plan.steps}
        self._launched: set[str] = set()

    @property
    def states(self) -> dict[str, StepStatus]:
        return {step_id: record.status for step_id, record in self._records.items()}

    async def run(self) -> dict[str, StepStatus]:
        """Run until no step can make progress; returns every step's final status."""
        for step_id, record in self._records.items():
            if record.status == "running":  # in flight when the last process died: runs again (from its checkpoint)
                self._records[step_id] = record.model_copy(update={"status": "pending"})
        self._skip_after(step_id for step_id, s in self.states.items() if s in ("failed", "skipped"))
        try:
            async with anyio.create_task_group() as group:
                self._launch_ready(group)
        except BaseExceptionGroup as exc:
            raise first_error(exc) from None
        return self.states

    def _launch_ready(self, group: TaskGroup) -> None:
        if self._stopped():
            return
        for step in ready_steps(self._dag, self.states):
            if step.id not in self._launched:
                self._launched.add(step.id)
                group.start_soon(self._run_one, step, group, name=f"step {step.id}")

    async def _run_one(self, step: Step, group: TaskGroup) -> None:
        async with self._limiter:
            if self._stopped():  # it waited for a free slot meanwhile
                return
            record = self._records[step.id]
            self._transition(
                record.model_copy(update={"status": "running", "attempt": record.attempt + 1,
                                          "started_at": now_iso(), "finished_at": None}),
                StepStarted(step_id=step.id, role=step.role, model=self._model_for(step)),
            )
            try:
                result = await self._runner(step)
            except FATAL_ERRORS:
                raise
            except OrchestrateError as exc:
                result = StepOutcome(status="failed", reason=exc.render())
        self._finish(step, result)
        self._launch_ready(group)

    def _finish(self, step: Step, result: StepOutcome) -> None:
        stored = self._store.step(step.id)  # the runner may have recorded the user's retries and guidance meanwhile
        record = self._records[step.id].model_copy(update={
            "status": result.status, "finished_at": now_iso(), "summary": result.summary,
            "reason": result.reason, "files": result.files, "retries": stored.retries, "guidance": stored.guidance})
        self._transition(record, StepCompleted(step_id=step.id, status=result.status, reason=result.reason or None))
        if result.status == "failed":
            self._skip_after([step.id])

    def _skip_after(self, failed: Iterable[str]) -> None:
        roots = list(failed)
        if not roots:
            return
        for step_id in sorted(descendants(self._dag, roots), key=list(self._records).index):
            record = self._records[step_id]
            if record.status == "pending":
                blockers = [r for r in roots if r in ancestors(self._dag, step_id)]  # say why: which step failed
                reason = "depends on " + ", ".join(f"{r} ({self._records[r].status})" for r in blockers)
                self._transition(record.model_copy(update={"status": "skipped", "finished_at": now_iso(),
                                                           "reason": reason}),
                                 StepCompleted(step_id=step_id, status="skipped", reason=reason))

    def _transition(self, record: StepRecord, event: StepStarted | StepCompleted) -> None:
        with self._store.transaction():
            self._store.set_step(record)
            self._events.emit(event)
        self._records[record.step_id] = record
