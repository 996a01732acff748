"""The terminal's UI ports (issue 13): what :func:`terminal_ports` gives the CLI, and what
``Orchestrator.from_config(interactive=True, console=...)`` still builds for a Python caller without ports."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from orchestrator.api import Orchestrator
from orchestrator.compose import load_config
from orchestrator.core.events import FanoutSink, ListSink
from orchestrator.settings.home import Home
from orchestrator.terminal.approver import ConsoleApprover
from orchestrator.terminal.ports import caller_ports, terminal_ports
from orchestrator.terminal.questions import ConsoleReviewer
from orchestrator.terminal.screen import LiveView
from tests.support import make_repo


def _console() -> Console:
    return Console(file=io.StringIO(), force_terminal=False, width=100)


def test_one_reviewer_answers_every_question_on_the_live_view(tmp_path: Path, orchestrate_home: Path) -> None:
    console = _console()
    view = LiveView(console)
    ports = terminal_ports(console, home=Home(orchestrate_home), project_root=tmp_path, view=view)
    assert isinstance(ports.approver, ConsoleApprover) and ports.approver.screen is view
    assert ports.approver.project_root == tmp_path  # "always allow" writes this project's rules
    reviewer = ports.plan_reviewer
    assert isinstance(reviewer, ConsoleReviewer) and reviewer.view is view
    assert ports.diff_reviewer is reviewer and ports.failure_handler is reviewer and ports.check_fixer is reviewer
    assert ports.events is view


def test_without_a_console_only_commands_are_asked_about(tmp_path: Path, orchestrate_home: Path) -> None:
    ports = terminal_ports(None, home=Home(orchestrate_home), project_root=tmp_path)
    assert isinstance(ports.approver, ConsoleApprover)
    assert (ports.plan_reviewer, ports.diff_reviewer, ports.failure_handler, ports.check_fixer) == (None,) * 4


def test_a_callers_live_view_is_found_and_not_given_the_events_twice(tmp_path: Path,
                                                                       orchestrate_home: Path) -> None:
    console = _console()
    view = LiveView(console)
    ports = caller_ports(console, FanoutSink(ListSink(), view), environ={"ORCHESTRATE_HOME": str(orchestrate_home)},
                         project_root=tmp_path)
    assert isinstance(ports.plan_reviewer, ConsoleReviewer) and ports.plan_reviewer.view is view
    assert ports.events is None


def test_from_config_with_a_console_still_asks_at_the_terminal(tmp_path: Path, orchestrate_home: Path) -> None:
    """The documented Python API: ``from_config(interactive=True, console=...)`` without ports."""
    repo = make_repo(tmp_path / "repo", {"README.md": "demo\n"})
    env = {"ORCHESTRATE_HOME": str(orchestrate_home), "PATH": "/usr/bin:/bin"}
    loaded = load_config(cwd=repo, home=Home(orchestrate_home), environ=env)
    sink = ListSink()
    orch = Orchestrator.from_config(loaded, interactive=True, console=_console(), events=sink, cwd=repo, environ=env)
    assert isinstance(orch._plan_reviewer, ConsoleReviewer) and isinstance(orch._diff_reviewer, ConsoleReviewer)
    assert orch.events.user is sink
    quiet = Orchestrator.from_config(loaded, interactive=False, console=_console(), cwd=repo, environ=env)
    assert quiet._plan_reviewer is None and quiet._diff_reviewer is None and quiet._failure_handler is None
