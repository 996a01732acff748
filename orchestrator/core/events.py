"""Events: what a session reports, one pydantic model per ``type`` (DESIGN.md "Events", plus compatible extensions).

Every event has ``type`` and ``ts`` (ISO-8601 UTC, milliseconds). ``exec --json`` writes them one compact JSON object
a line (:class:`JsonlSink`); the store keeps them with the session (:class:`StoreSink`). Producers only know the
:class:`EventSink` protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import IO, Annotated, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from orchestrator.core.event_fields import CheckInfo, GitInfo, PlanStepInfo, UsageTotals

__all__ = [
    "BaseEvent",
    "GitInfo",
    "PlanStepInfo",
    "CheckInfo",
    "UsageTotals",
    "SessionStarted",
    "SessionResumed",
    "PlanCreated",
    "StepStarted",
    "CommandDecided",
    "CommandExecuted",
    "CommandRefused",
    "StepPhase",
    "PHASES",
    "ReviewCompleted",
    "ValidationCompleted",
    "EditApplied",
    "UndoApplied",
    "StepCompleted",
    "UsageReported",
    "SessionCompleted",
    "ErrorEvent",
    "WarningEvent",
    "MemoryLoaded",
    "Event",
    "parse_event",
    "now_iso",
    "EventSink",
    "JsonlSink",
    "FanoutSink",
    "ListSink",
    "EventLog",
    "StoreSink",
]


def now_iso() -> str:
    """The current time as ISO-8601 UTC with milliseconds: ``2025-01-31T12:00:00.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BaseEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str  # each event narrows it to its Literal; declared here so JSON puts it first
    ts: str = Field(default_factory=now_iso)
    # Fields left out of the JSON when None (the "?" fields of DESIGN.md); all others are always present.
    _optional: ClassVar[frozenset[str]] = frozenset()

    def to_json(self) -> str:
        """One compact JSON object, ``type`` first."""
        skip = {name for name in self._optional if getattr(self, name) is None}
        return self.model_dump_json(exclude=skip or None)


class SessionStarted(BaseEvent):
    type: Literal["session.started"] = "session.started"
    session_id: str
    cwd: str
    git: GitInfo = Field(default_factory=GitInfo)


class SessionResumed(BaseEvent):
    type: Literal["session.resumed"] = "session.resumed"
    session_id: str
    # Extensions, absent unless given: ``resume --retry-failed`` and the user's guidance (for the retried steps, or
    # a follow-up request after a session that succeeded).
    retry_failed: bool | None = None
    guidance: str | None = None
    # Extension, absent when the session had no plan yet: its steps, and each one's state when it resumed
    # (pending | running | succeeded | failed | skipped), so a view shows the whole plan before any step starts.
    steps: tuple[PlanStepInfo, ...] | None = None
    states: dict[str, str] | None = None
    _optional: ClassVar[frozenset[str]] = frozenset({"retry_failed", "guidance", "steps", "states"})


class PlanCreated(BaseEvent):
    type: Literal["plan.created"] = "plan.created"
    steps: tuple[PlanStepInfo, ...]
    summary: str = ""  # the planner's one sentence (an extension of the contract's {steps})
    checks: tuple[CheckInfo, ...] = ()  # the checks found for the project, and why (an extension too)
    followup: int | None = None  # extension: N for the plan of follow-up N (its steps are "fN.*"); absent otherwise
    _optional: ClassVar[frozenset[str]] = frozenset({"followup"})


class StepStarted(BaseEvent):
    type: Literal["step.started"] = "step.started"
    step_id: str
    role: str
    model: str


class CommandDecided(BaseEvent):
    type: Literal["command.decided"] = "command.decided"
    step_id: str
    argv: tuple[str, ...]
    decision: str
    rules: tuple[Any, ...] = ()
    reason: str = ""


class CommandExecuted(BaseEvent):
    type: Literal["command.executed"] = "command.executed"
    step_id: str
    argv: tuple[str, ...]
    decision: str
    sandbox: str
    exit_code: int | None
    # Extension: the last lines of the output of a command that failed (exit code not 0); absent when it passed.
    output_tail: str | None = None
    _optional: ClassVar[frozenset[str]] = frozenset({"output_tail"})


class CommandRefused(BaseEvent):
    """A command that did not run: the policy forbade it (``by: "policy"``) or the user declined (``by: "user"``).
    Follows its ``command.decided``; no ``command.executed`` comes for it."""

    type: Literal["command.refused"] = "command.refused"
    step_id: str
    argv: tuple[str, ...]
    by: Literal["policy", "user"]
    reason: str = ""


# What a running step is doing (``step.phase``): ``drafting`` the coder writes (a model turn, the first draft),
# ``acting`` it ran an action (``detail``: which, e.g. ``edit bank.py``), ``reviewing``, ``checking`` (the checks
# run), ``waiting`` for the user (the diff question), ``applying`` its change to the working tree. ``planning`` is the
# session's phase between ``session.started`` and ``plan.created`` (the view shows it; no event is sent for it).
PHASES = ("planning", "drafting", "acting", "reviewing", "checking", "waiting", "applying")
Phase = Literal["planning", "drafting", "acting", "reviewing", "checking", "waiting", "applying"]


class StepPhase(BaseEvent):
    """Extension: a running step entered ``phase`` (see :data:`PHASES`); ``detail`` says what it is doing."""

    type: Literal["step.phase"] = "step.phase"
    step_id: str
    phase: Phase
    detail: str = ""


class ReviewCompleted(BaseEvent):
    type: Literal["review.completed"] = "review.completed"
    step_id: str
    verdict: str
    comments: tuple[str, ...] = ()


class ValidationCompleted(BaseEvent):
    type: Literal["validation.completed"] = "validation.completed"
    step_id: str
    passed: bool
    output_tail: str = ""


class EditApplied(BaseEvent):
    type: Literal["edit.applied"] = "edit.applied"
    step_id: str
    files: tuple[str, ...]


class UndoApplied(BaseEvent):
    """Extension: ``orchestrate undo`` put ``files`` back as before ``step_id`` (``forced``: over later changes)."""
    type: Literal["undo"] = "undo"
    session_id: str
    step_id: str
    files: tuple[str, ...]
    forced: bool = False


class StepCompleted(BaseEvent):
    type: Literal["step.completed"] = "step.completed"
    step_id: str
    status: Literal["succeeded", "failed", "skipped"]
    reason: str | None = None  # extension: why a step failed or was skipped (absent when it succeeded)
    _optional: ClassVar[frozenset[str]] = frozenset({"reason"})


class UsageReported(BaseEvent):
    type: Literal["usage"] = "usage"
    role: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    step_id: str | None = None  # extension: the step whose call it was (absent for the planner)
    _optional: ClassVar[frozenset[str]] = frozenset({"step_id"})


class SessionCompleted(BaseEvent):
    type: Literal["session.completed"] = "session.completed"
    status: Literal["succeeded", "failed", "interrupted"]
    usage: UsageTotals = Field(default_factory=UsageTotals)
    branch: str | None = None  # extension: apply.mode "branch", the branch holding the session's commits
    _optional: ClassVar[frozenset[str]] = frozenset({"branch"})


class ErrorEvent(BaseEvent):
    type: Literal["error"] = "error"
    message: str


class WarningEvent(BaseEvent):
    type: Literal["warning"] = "warning"
    message: str
    step_id: str | None = None
    _optional: ClassVar[frozenset[str]] = frozenset({"step_id"})


class MemoryLoaded(BaseEvent):
    type: Literal["memory.loaded"] = "memory.loaded"
    step_id: str
    sources: tuple[str, ...] = ()


Event = Annotated[
    SessionStarted
    | SessionResumed
    | PlanCreated
    | StepStarted
    | CommandDecided
    | CommandExecuted
    | CommandRefused
    | StepPhase
    | ReviewCompleted
    | ValidationCompleted
    | EditApplied
    | UndoApplied
    | StepCompleted
    | UsageReported
    | SessionCompleted
    | ErrorEvent
    | WarningEvent
    | MemoryLoaded,
    Field(discriminator="type"),
]


@cache
def _adapter() -> TypeAdapter[Event]:
    return TypeAdapter(Event)


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """The typed event for one JSON line (or its dict). Raises ``pydantic.ValidationError`` on an unknown shape."""
    if isinstance(data, dict):
        return _adapter().validate_python(data)
    return _adapter().validate_json(data)


class EventSink(Protocol):
    """Receives every event of a session. Must not raise for ordinary events; must be cheap (called inline)."""

    def emit(self, event: Event) -> None: ...


class JsonlSink:
    """Writes one compact JSON object per line to ``stream`` and flushes after each (``exec --json``)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()  # usage callbacks may arrive from worker threads

    def emit(self, event: Event) -> None:
        line = event.to_json() + "\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()


class FanoutSink:
    """Forwards every event to each sink, in order."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks: Sequence[EventSink] = sinks

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink.emit(event)


class ListSink:
    """Collects events in memory (``.events``): for Python API users and tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, type_: str) -> list[Event]:
        return [e for e in self.events if e.type == type_]


class EventLog(Protocol):
    """Where a session's events are persisted (``orchestrator.store.sessions.SessionStore``)."""

    def append_event(self, event: Event) -> None: ...


class StoreSink:
    """Persists every event with the session, durably, before the next action."""

    def __init__(self, log: EventLog) -> None:
        self._log = log

    def emit(self, event: Event) -> None:
        self._log.append_event(event)
