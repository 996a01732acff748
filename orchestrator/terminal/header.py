"""The start-up header of an interactive run (like Codex's): the session id, the working directory and its git branch,
the model of each role, the sandbox mode, the approval policy and the checks the validator will run.

:class:`HeaderSink` is an :class:`~orchestrator.core.events.EventSink` placed before the live view: it prints the
header once, when the session starts (``session.started``, or ``session.resumed``: the id is known only then).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.core.contracts import Role
from orchestrator.core.events import Event, EventSink

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console, ConsoleOptions, RenderableType

__all__ = ["RunHeader", "HeaderSink", "ROLES"]

# The roles that talk to a model (the validator runs commands).
ROLES: tuple[Role, ...] = ("planner", "coder", "reviewer")


@dataclass(frozen=True)
class RunHeader:
    """What a run is about to use. ``models`` maps each role to its model string; ``checks`` are the commands."""

    models: tuple[tuple[str, str], ...]
    sandbox: str
    approval: str
    workdir: str
    checks: tuple[str, ...] = ()
    session_id: str = ""
    branch: str = ""
    resumed: bool = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        if self.session_id:
            grid.add_row("session", Text(self.session_id + ("  (resumed)" if self.resumed else ""), style="bold"))
        grid.add_row("workdir", self.workdir + (f"  ({self.branch})" if self.branch else ""))
        grid.add_row("models", _models(self.models))
        grid.add_row("sandbox", self.sandbox)
        grid.add_row("approval", self.approval)
        grid.add_row("checks", "\n".join(self.checks) if self.checks else Text("none: review only", style="dim"))
        yield Panel(grid, title="orchestrate", title_align="left", expand=False, border_style="dim")


def _models(models: tuple[tuple[str, str], ...]) -> str:
    """``coder, reviewer  local`` lines: roles that share a model are listed together."""
    by_model: dict[str, list[str]] = {}
    for role, model in models:
        by_model.setdefault(model or "(none)", []).append(role)
    if len(by_model) == 1:
        return next(iter(by_model))
    return "\n".join(f"{model}  ({', '.join(roles)})" for model, roles in by_model.items())


class HeaderSink:
    """Prints ``header`` on ``console`` when the session starts (once), with the session's id and branch, then
    passes every event on to ``then`` (the live view)."""

    def __init__(self, console: Console, header: RunHeader, then: EventSink | None) -> None:
        self.console = console
        self.header = header
        self.then = then
        self._shown = False
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        if event.type in ("session.started", "session.resumed"):
            with self._lock:
                if not self._shown:
                    self._shown = True
                    self._print(event)
        if self.then is not None:
            self.then.emit(event)

    def _print(self, event: Event) -> None:
        from dataclasses import replace

        branch = ""
        if event.type == "session.started":
            git = event.git
            branch = " @ ".join(p for p in (git.branch or "", (git.commit or "")[:7]) if p)
        session_id = event.session_id if event.type in ("session.started", "session.resumed") else ""
        header = replace(self.header, session_id=session_id, branch=branch,
                         resumed=event.type == "session.resumed")
        self.console.print(header)
