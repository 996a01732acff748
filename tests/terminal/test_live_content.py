"""What the live view, the start-up header and the end summary show (issue 14), rendered by a recording rich Console
at 80 and 160 columns: every step's whole title (never cut), its phase with a spinner while it runs, elapsed time,
tokens and cost, its last activity; the planning indicator; the lines printed above the table (reviewer comments,
commands with their exit code and failing output, refusals, failure and skip reasons); the header's facts; the
summary's files with line counts, steps, usage and next steps (from a real session store)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.core.events import (
    CommandDecided,
    CommandExecuted,
    CommandRefused,
    GitInfo,
    ListSink,
    PlanCreated,
    PlanStepInfo,
    ReviewCompleted,
    SessionResumed,
    SessionStarted,
    StepCompleted,
    StepPhase,
    StepStarted,
    UsageReported,
    UsageTotals,
)
from orchestrator.core.plan import Plan, Step
from orchestrator.core.records import JournalEntry
from orchestrator.engine.resume import plan_state
from orchestrator.engine.session import SessionResult
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store
from orchestrator.terminal.header import HeaderSink, RunHeader
from orchestrator.terminal.summary import count_changes, next_steps, read_summary
from orchestrator.terminal.view import DagView, event_line

LONG = ("Add input validation to bank.py so that negative deposits and withdrawals raise ValueError with a message "
        "naming the amount")
PLAN = PlanCreated(steps=(PlanStepInfo(id="s1", role="coder", goal=LONG),
                          PlanStepInfo(id="s2", role="coder", goal="Write tests for the validation"),
                          PlanStepInfo(id="s3", role="validator", goal="run the tests", depends_on=("s1", "s2"))))


def _render(renderable: object, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def _words(text: str) -> list[str]:
    return re.sub(r"[│╭╮╰╯─]", " ", text).split()


def _running_view() -> DagView:
    view = DagView()
    for event in (SessionStarted(session_id="x", cwd="/w"), PLAN,
                  StepStarted(step_id="s1", role="coder", model="m"),
                  StepStarted(step_id="s2", role="coder", model="m"),
                  StepPhase(step_id="s1", phase="acting", detail="edit bank.py"),
                  UsageReported(step_id="s1", role="coder", model="m", prompt_tokens=12000, completion_tokens=345,
                                cost_usd=0.0123),
                  CommandDecided(step_id="s2", argv=("bash", "-c", "git push --force"), decision="prompt")):
        view.update(event)
    return view


@pytest.mark.parametrize("width", [80, 160])
def test_every_title_is_shown_whole_with_phase_tokens_cost_and_activity(width: int) -> None:
    text = _render(_running_view(), width)
    assert all(len(line) <= width for line in text.splitlines())
    words = _words(text)
    goal = LONG.split()
    start = words.index(goal[0])
    assert words[start:start + len(goal)] == goal  # the whole title, in order, nothing cut
    assert "acting" in words and "edit bank.py" in text and "12.3k" in words and "$0.0123" in words
    assert "waiting for you" in text and "allow `git push --force`?" in text  # a command waiting for the user
    assert "pending" in words  # s3 has not started
    assert "12.3k tokens · $0.0123 so far" in text


def test_a_running_step_has_a_spinner_and_a_finished_one_its_reason() -> None:
    view = _running_view()
    spinner_frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    line = next(ln for ln in _render(view, 160).splitlines() if ln.startswith("s1"))
    assert any(ch in line for ch in spinner_frames)
    reason = "checks still fail after 3 rounds: pytest -q\nE  x"
    view.update(StepCompleted(step_id="s1", status="failed", reason=reason))
    text = _render(view, 80)
    s1 = text[text.index("s1"):text.index("s2")]
    assert "failed" in s1 and "checks still fail after 3 rounds: pytest -q" in s1
    assert not any(ch in s1 for ch in spinner_frames)


@pytest.mark.parametrize("width", [80, 160])
def test_the_planner_shows_while_there_is_no_plan(width: int) -> None:
    view = DagView()
    view.update(SessionStarted(session_id="x", cwd="/w"))
    text = _render(view, width)
    assert "planning" in text and "planner" in text
    view.update(PLAN)
    assert "planning" not in _render(view, width)


def test_lines_above_the_table_show_reviews_commands_refusals_and_reasons() -> None:
    review = event_line(ReviewCompleted(step_id="s1", verdict="request_changes",
                                        comments=("withdraw() must reject zero", "add a docstring")), terminal=True)
    assert review is not None and "request_changes" in review and "withdraw() must reject zero" in review
    failed = event_line(CommandExecuted(step_id="s2", argv=("bash", "-c", "pytest -q"), decision="allow",
                                        sandbox="landlock", exit_code=1, output_tail="E assert 1 == 2\n1 failed"),
                        terminal=True)
    assert failed is not None
    assert _words(_render_markup(failed))[:4] == ["s2", "$", "pytest", "-q"] and "exit 1" in failed
    assert "1 failed" in failed
    passed = event_line(CommandExecuted(step_id="s2", argv=("bash", "-c", "ls"), decision="allow", sandbox="none",
                                        exit_code=0), terminal=True)
    assert passed is not None and "exit 0" in passed and "\n" not in passed
    refused = event_line(CommandRefused(step_id="s1", argv=("bash", "-c", "rm -rf /"), by="policy",
                                        reason="forbidden by policy"), terminal=True)
    assert refused is not None and "rm -rf /" in refused and "refused by the policy" in refused
    skipped = event_line(StepCompleted(step_id="s3", status="skipped", reason="depends on s1 (failed)"), terminal=True)
    assert skipped is not None and "depends on s1 (failed)" in skipped
    assert event_line(StepCompleted(step_id="s2", status="succeeded"), terminal=True) is None


def _render_markup(markup: str) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None, record=True)
    console.print(markup, highlight=False)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 160])
def test_the_header_names_session_models_sandbox_approval_checks_and_workdir(width: int) -> None:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None, record=True)
    header = RunHeader(models=(("planner", "openai/gpt-4.1"), ("coder", "local"), ("reviewer", "local")),
                       sandbox="workspace-write", approval="on-request", workdir="/home/me/app",
                       checks=("python -m pytest -q",))
    after = ListSink()
    sink = HeaderSink(console, header, after)
    started = SessionStarted(session_id="20261129-2231-abc", cwd="/home/me/app", git=GitInfo(branch="main",
                                                                                           commit="1a2b3c4d5e"))
    sink.emit(started)
    sink.emit(started)  # printed once
    text = console.export_text()
    assert text.count("20261129-2231-abc") == 1 and "main @ 1a2b3c4" in text
    for fact in ("openai/gpt-4.1", "(planner)", "local", "(coder, reviewer)", "workspace-write", "on-request",
                 "python -m pytest -q", "/home/me/app"):
        assert fact in text, fact
    assert all(len(line) <= width for line in text.splitlines())
    assert after.events == [started, started]  # every event goes on to the live view


DIFF = ("diff --git a/bank.py b/bank.py\n--- a/bank.py\n+++ b/bank.py\n@@ -1,2 +1,4 @@\n def deposit(x):\n"
        "-    return x\n+    if x <= 0:\n+        raise ValueError(x)\n+    return x\n"
        "diff --git a/test_bank.py b/test_bank.py\nnew file mode 100644\n--- /dev/null\n+++ b/test_bank.py\n"
        "@@ -0,0 +1,2 @@\n+def test():\n+    pass\n")


def test_diff_line_counts_per_file() -> None:
    assert [(c.path, c.added, c.removed) for c in count_changes(DIFF)] == [("bank.py", 3, 1), ("test_bank.py", 2, 0)]


@pytest.mark.parametrize("width", [80, 160])
def test_the_summary_lists_files_steps_usage_and_next_steps(orchestrate_home: Path, tmp_path: Path,
                                                            width: int) -> None:
    store = Store(Home(orchestrate_home))
    with store.create(cwd=tmp_path, task="t") as session:
        session.save_plan(Plan(steps=(Step(id="s1", role="coder", goal=LONG),
                                      Step(id="s2", role="coder", goal="write tests", depends_on=("s1",)))))
        session.journal(JournalEntry(step_id="s1", state="done", diff=DIFF, files=("bank.py", "test_bank.py"),
                                     root=str(tmp_path)))
        result = SessionResult(session_id=session.id, status="failed", steps={"s1": "succeeded", "s2": "failed"},
                               usage=session.usage(), reasons={"s2": "the reviewer still requested changes"})
        summary = read_summary(session, result, elapsed_s=83.0, undo_hint=f"orchestrate undo {session.id}")
    store.close()
    text = _render(summary, width)
    assert all(len(line) <= width for line in text.splitlines())
    words = _words(text)
    assert words[words.index("bank.py"):words.index("bank.py") + 3] == ["bank.py", "+3", "-1"]
    assert words[words.index("test_bank.py"):words.index("test_bank.py") + 3] == ["test_bank.py", "+2", "-0"]
    assert "✓" in words and "✗" in words and "the reviewer still requested changes" in text
    goal = LONG.split()
    start = words.index(goal[0])
    assert words[start:start + len(goal)] == goal
    assert "1m23s" in text and "git diff" in text and f"orchestrate undo {result.session_id}" in text
    assert f"orchestrate resume {result.session_id}" in text


def test_a_resumed_session_shows_its_whole_plan_where_each_step_stands() -> None:
    view = DagView()
    view.update(SessionResumed(session_id="x", steps=PLAN.steps,
                               states={"s1": "succeeded", "s2": "running", "s3": "pending"}))
    assert [(r.step_id, r.status, r.title) for r in view.rows.values()] == [
        ("s1", "succeeded", LONG), ("s2", "pending", "Write tests for the validation"),
        ("s3", "pending", "run the tests")]
    assert view.planning_since is None and "planning" not in _render(view, 80)
    view.update(StepStarted(step_id="s2", role="coder", model="m"))
    assert view.rows["s2"].status == "running"


def test_session_resumed_carries_the_stored_plan_and_states(orchestrate_home: Path, tmp_path: Path) -> None:
    store = Store(Home(orchestrate_home))
    with store.create(cwd=tmp_path, task="t") as session:
        assert plan_state(session) == {}  # no plan yet: nothing to add to the event
        session.save_plan(Plan(steps=(Step(id="a", role="coder", goal="do a"),
                                      Step(id="b", role="reviewer", goal="look", depends_on=("a",)))))
        session.set_step(session.step("a").model_copy(update={"status": "failed"}))
        event = SessionResumed(session_id=session.id, **plan_state(session))
    store.close()
    assert [(s.id, s.role, s.goal, s.depends_on) for s in event.steps or ()] == [
        ("a", "coder", "do a", ()), ("b", "reviewer", "look", ("a",))]
    assert event.states == {"a": "failed", "b": "pending"}
    assert "steps" not in SessionResumed(session_id="x").to_json()  # absent unless known: the contract is unchanged


@pytest.mark.parametrize(("mode", "expected", "unexpected"), [
    ("worktree", ["git diff", "orchestrate undo"], ["git log"]),
    ("commit", ["git log -p", "git revert"], ["orchestrate undo", "git diff"]),
    ("branch", ["git log -p HEAD..orchestrate/x", "git merge orchestrate/x"], ["orchestrate undo", "git diff"]),
])
def test_next_steps_follow_how_the_session_delivered(mode: str, expected: list[str], unexpected: list[str]) -> None:
    result = SessionResult(session_id="x", status="succeeded", steps={"s1": "succeeded"}, usage=UsageTotals())
    hints = " | ".join(next_steps(result, changed=True, undo_hint="orchestrate undo x", mode=mode,
                                  branch="orchestrate/x" if mode == "branch" else None))
    assert all(text in hints for text in expected) and not any(text in hints for text in unexpected), hints
    assert next_steps(result, changed=False, undo_hint="orchestrate undo x") == ()  # nothing changed, nothing to do
