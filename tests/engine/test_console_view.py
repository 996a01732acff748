"""The human view of a run: the DAG table's bookkeeping, and the progress lines a non-terminal console (CI logs,
pipes) gets instead of the live table."""

from __future__ import annotations

import io

from rich.console import Console

from orchestrator.core.events import (
    CommandExecuted,
    EditApplied,
    PlanCreated,
    PlanStepInfo,
    SessionCompleted,
    StepCompleted,
    StepStarted,
    UsageReported,
)
from orchestrator.terminal.screen import LiveView
from orchestrator.terminal.view import DagView

PLAN = PlanCreated(steps=(PlanStepInfo(id="code", role="coder", goal="add [validation]"),
                          PlanStepInfo(id="check", role="validator", goal="run the tests", depends_on=("code",))))


def _console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=200, color_system=None), buffer


def test_dag_view_tracks_status_model_and_tokens_per_step() -> None:
    view = DagView()
    view.update(PLAN)
    view.update(StepStarted(step_id="code", role="coder", model="local"))
    view.update(UsageReported(step_id="code", role="coder", model="local", prompt_tokens=100, completion_tokens=20,
                              cost_usd=0.5))
    view.update(StepCompleted(step_id="code", status="succeeded"))
    row = view.rows["code"]
    assert (row.status, row.model, row.tokens) == ("succeeded", "local", 120)
    assert row.finished is not None and row.started is not None
    assert view.rows["check"].status == "pending" and view.cost_usd == 0.5


def test_a_log_console_gets_one_line_per_transition_and_the_final_table() -> None:
    console, buffer = _console(terminal=False)
    sink = LiveView(console)
    for event in (PLAN, StepStarted(step_id="code", role="coder", model="local"),
                  CommandExecuted(step_id="code", argv=("bash", "-lc", "pytest -q"), decision="allow",
                                  sandbox="landlock", exit_code=0),
                  EditApplied(step_id="code", files=("bank.py",)), StepCompleted(step_id="code", status="succeeded"),
                  SessionCompleted(status="succeeded")):
        sink.emit(event)
    lines = buffer.getvalue().splitlines()
    assert lines[:3] == ["plan, 2 steps:", "  code (coder): add [validation]",
                         "  check (validator, after code): run the tests"]
    assert "▶ code (coder, local)" in lines
    assert "$ bash -lc 'pytest -q' → allow, exit 0" in lines  # as a shell would take it back
    assert "✓ code: applied bank.py" in lines
    assert "■ code: succeeded" in lines
    assert any(line.split()[:3] == ["check", "validator", "pending"] for line in lines)  # the final table


def test_a_terminal_console_leaves_progress_to_the_live_table() -> None:
    console, buffer = _console(terminal=True)
    sink = LiveView(console)
    sink.emit(PLAN)
    sink.emit(StepStarted(step_id="code", role="coder", model="local"))
    sink.stop()
    assert "plan:" not in buffer.getvalue() and "▶" not in buffer.getvalue()


def test_the_plan_line_carries_the_planners_summary_such_as_a_merge_note() -> None:
    console, buffer = _console(terminal=False)
    summary = "validate (2 planned steps over 1 short files run as one step; planner.merge_chars = 0 keeps them apart)"
    LiveView(console).emit(PLAN.model_copy(update={"summary": summary}))
    assert buffer.getvalue().splitlines()[:2] == [f"plan, 2 steps: {summary}", "  code (coder): add [validation]"]


def test_log_lines_are_never_wrapped_at_the_consoles_width() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=80, color_system=None)
    goal = "add [validation] " + "and more words " * 12
    LiveView(console).emit(PLAN.model_copy(update={"steps": (PLAN.steps[0].model_copy(update={"goal": goal}),)}))
    assert f"  code (coder): {goal}" in buffer.getvalue().splitlines()
