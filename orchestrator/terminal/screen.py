"""The screen: the live region at the bottom of the terminal, and the lines printed above it.

:class:`LiveView` is an :class:`~orchestrator.core.events.EventSink`: it keeps a :class:`DagView` up to date from the
events, shows it live (rich ``Live``) on a terminal, and prints notable events (:func:`event_line`) above it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from orchestrator.core.events import Event
from orchestrator.terminal.view import DagView, event_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

__all__ = ["LiveView"]


class LiveView:
    """An event sink that shows the DAG live on ``console`` and prints edits, reviews, warnings and errors."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.view = DagView()
        self._live: Live | None = None
        self._lock = threading.RLock()

    def emit(self, event: Event) -> None:
        with self._lock:
            self.view.update(event)
            line = event_line(event, terminal=self.console.is_terminal)
            if line:
                # A log (file, pipe, CI) keeps each line whole; only a terminal wraps to its width.
                self.console.print(line, highlight=False, soft_wrap=not self.console.is_terminal)
            # The planner's spinner from the session's start; a resumed session's table from its first step (its
            # drift question, if any, is asked before that).
            if event.type in ("session.started", "plan.created", "step.started"):
                self._start()
            elif event.type == "session.completed":
                self.stop()
            elif self._live is not None:
                self._live.refresh()

    def _start(self) -> None:
        from rich.live import Live

        if self._live is None and self.console.is_terminal:
            self._live = Live(self.view, console=self.console, refresh_per_second=4, transient=False)
            self._live.start()

    def stop(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None
        if self.view.rows and not self.console.is_terminal:
            self.console.print(self.view)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop redrawing while the user answers a prompt."""
        with self._lock:
            live = self._live
            if live is not None:
                live.stop()
            try:
                yield
            finally:
                if live is not None:
                    live.start()
