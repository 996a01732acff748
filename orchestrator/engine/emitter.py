"""The run's one emitter (:class:`SessionEvents`: persist, then announce) and what the engine needs of the gateway
and of the check finder (:class:`GatewayLike`, :class:`CheckSource`)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol

from orchestrator.core.contracts import Role
from orchestrator.core.events import CheckInfo, Event, EventSink, UsageReported

if TYPE_CHECKING:
    from orchestrator.engine.resume import BudgetGuard
    from orchestrator.store.session_store import SessionStore

__all__ = ["SessionEvents", "GatewayLike", "CheckSource"]


class GatewayLike(Protocol):
    """What the engine needs of ``orchestrator.models.gateway.ModelGateway``."""

    def model_for(self, role: Role) -> str: ...

    async def aclose(self) -> None: ...


class CheckSource(Protocol):
    """What the engine needs of ``agents.checks.CheckFinder``: the project's checks, and a check of the config."""

    def infos(self) -> tuple[CheckInfo, ...]: ...

    def preflight(self) -> None: ...


class SessionEvents:
    """The run's one emitter: every event goes to the active session's store (attached while it runs), then to the
    caller's sink (the JSONL stream, the live view, the MCP result, the Python API's callbacks).

    Persist before announcing: an event reaches the caller's sink only once the store has committed it together with
    the transition it announces (an emit inside a store transaction is announced when that transaction commits), so
    a consumer never acts on something a resumed session does not know. With a ``budget``, a ``usage`` event that
    brings the session's total cost (over every process that ran it) to the budget raises
    :class:`~orchestrator.core.errors.BudgetExceededError` once it is recorded and shown.
    """

    def __init__(self, user: EventSink | None = None, *, budget: BudgetGuard | None = None) -> None:
        self.user = user
        self.session: SessionStore | None = None
        self.budget = budget

    def emit(self, event: Event) -> None:
        self._record(event, None)

    def emit_usage(self, event: UsageReported, reply: tuple[str, str] | None) -> None:
        """A ``usage`` event, with the model reply it paid for (``(key, reply JSON)``,
        :mod:`orchestrator.engine.replay`) kept in the same transaction: the reply is kept exactly when its usage is."""
        self._record(event, reply)

    def _record(self, event: Event, reply: tuple[str, str] | None) -> None:
        session = self.session
        if session is None:
            self._announce(event, None)
            return
        with session.transaction():
            session.append_event(event, reply=reply)
            session.after_commit(partial(self._announce, event, session))

    def take_reply(self, key: str) -> str | None:
        """A kept model reply of the running session (:mod:`orchestrator.engine.replay`), None if none is left."""
        return None if self.session is None else self.session.take_reply(key)

    def _announce(self, event: Event, session: SessionStore | None) -> None:
        if self.user is not None:
            self.user.emit(event)
        if self.budget is not None and session is not None and isinstance(event, UsageReported):
            self.budget.check(session)
