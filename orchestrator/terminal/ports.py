"""The terminal's :class:`~orchestrator.core.ports.UiPorts`: the person at the terminal answers the run's questions.

:func:`terminal_ports` is what the CLI passes to :meth:`orchestrator.api.Orchestrator.from_config` (``ports=``) for
an interactive run, and what ``from_config`` builds itself for a Python caller that gives ``interactive=True`` and a
``console`` but no ports. Every question takes its turn on the run's live view (``view``) when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.core.events import EventSink, FanoutSink
from orchestrator.core.ports import UiPorts

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.settings.home import Home
    from orchestrator.terminal.screen import LiveView

__all__ = ["terminal_ports", "caller_ports", "find_live_view"]


def terminal_ports(console: Console | None, *, home: Home, project_root: Path,
                   view: LiveView | None = None) -> UiPorts:
    """The terminal's ports on ``console``: the :class:`~orchestrator.terminal.approver.ConsoleApprover` (its "always
    allow" appends to the user's or ``project_root``'s rules file, hence the project root the config was loaded
    for), and one :class:`~orchestrator.terminal.questions.ConsoleReviewer` as plan reviewer, diff reviewer, failed
    step handler and check fixer. ``view``, the run's live view, is the ports' event sink too.

    Without a console only commands are asked about (on stderr): the behaviour of ``from_config(interactive=True)``
    without a console, kept for the Python API."""
    from orchestrator.terminal.approver import ConsoleApprover

    approver = ConsoleApprover(console, home=home, project_root=project_root, screen=view)
    if console is None:
        return UiPorts(approver=approver, events=view)
    from orchestrator.terminal.questions import ConsoleReviewer

    reviewer = ConsoleReviewer(console, view)
    return UiPorts(approver=approver, plan_reviewer=reviewer, diff_reviewer=reviewer, failure_handler=reviewer,
                   check_fixer=reviewer, events=view)


def caller_ports(console: Console | None, events: EventSink | None, *, environ: Mapping[str, str],
                 project_root: Path) -> UiPorts:
    """:func:`terminal_ports` for a Python caller's interactive run without ports (``from_config(interactive=True,
    console=...)``): asking on the live view among the caller's ``events``, which already gets every event; the home
    is ``environ``'s."""
    from orchestrator.settings.home import Home as HomeType

    ports = terminal_ports(console, home=HomeType.from_env(environ), project_root=project_root,
                           view=find_live_view(events))
    return replace(ports, events=None)


def find_live_view(sink: EventSink | None) -> LiveView | None:
    """The live view among a caller's sinks (a Python caller may have wrapped it in a :class:`FanoutSink`): the
    questions pause its redraws while they ask."""
    from orchestrator.terminal.screen import LiveView

    if isinstance(sink, LiveView):
        return sink
    if isinstance(sink, FanoutSink):
        return next((view for view in map(find_live_view, sink.sinks) if view is not None), None)
    return None
