"""The events of ``orchestrate batch --json`` (one JSON object a line on stdout, each with ``type`` and ``ts``).

``batch.task.started {id}`` · ``batch.task.completed {result}`` (the task's ``results.jsonl`` line) ·
``batch.task.interrupted {id}`` (its session was saved; the next run resumes it) · ``batch.completed {summary}``.
"""

from __future__ import annotations

import json
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.core.contracts import Usage
from orchestrator.core.events import now_iso
from orchestrator.engine.batch.results import TaskResult

__all__ = ["BatchSummary", "BatchTaskStarted", "BatchTaskCompleted", "BatchTaskInterrupted", "BatchCompleted",
           "BatchEvent", "BatchSink"]


class BatchSummary(BaseModel):
    """The batch's totals over every task of the tasks file (results from earlier runs included).

    ``skipped``: tasks that already had a result and did not run again; ``not_run``: tasks left unstarted because
    ``--batch-budget-usd`` was reached or the batch was interrupted; ``usage`` and ``duration_s`` cover this run's
    tasks; ``tasks_per_minute`` is the tasks this run finished per minute of wall time.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    total: int
    succeeded: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    interrupted: int = 0
    not_run: int = 0
    budget_exhausted: bool = False
    usage: Usage = Field(default_factory=Usage)
    duration_s: float = 0.0
    tasks_per_minute: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 every task succeeded; 130 interrupted; 1 otherwise (a task failed or errored, or tasks did not run)."""
        if self.interrupted:
            return 130
        return 0 if self.succeeded == self.total else 1


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ts: str = Field(default_factory=now_iso)

    def to_json(self) -> str:
        """One compact JSON object, ``type`` first (as ``exec --json`` events)."""
        data = self.model_dump(mode="json")
        return json.dumps({"type": data.pop("type"), **data}, ensure_ascii=False, separators=(",", ":"))


class BatchTaskStarted(_Event):
    type: Literal["batch.task.started"] = "batch.task.started"
    id: str


class BatchTaskCompleted(_Event):
    type: Literal["batch.task.completed"] = "batch.task.completed"
    result: TaskResult


class BatchTaskInterrupted(_Event):
    type: Literal["batch.task.interrupted"] = "batch.task.interrupted"
    id: str


class BatchCompleted(_Event):
    type: Literal["batch.completed"] = "batch.completed"
    summary: BatchSummary


BatchEvent = BatchTaskStarted | BatchTaskCompleted | BatchTaskInterrupted | BatchCompleted


class BatchSink(Protocol):
    """Receives the batch's events, in the driver's thread, in order."""

    def emit(self, event: BatchEvent) -> None: ...
