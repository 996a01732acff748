"""What a running step reports (issue 14): ``step.phase`` events at the natural points of a real session, the
commands with their exit code and the tail of a failing one's output, a refused command's own ``command.refused``,
usage per step, and why a step failed or was skipped (``step.completed``'s ``reason``).

Real sessions: ``orchestrate exec --json`` as a subprocess with scripted models, on a real git repository, through
the real gate and sandbox; and the scheduler with a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.core.contracts import StepOutcome
from orchestrator.core.events import PHASES, FanoutSink, ListSink, StoreSink, parse_event
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.scheduler import Scheduler
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store
from orchestrator.testing import scripted_role_args
from tests.support import make_repo

ROOT = Path(__file__).resolve().parents[2]
BANK = "def deposit(balance, amount):\n    return balance + amount\n"
VALIDATED = ("def deposit(balance, amount):\n    if amount <= 0:\n        raise ValueError('amount must be positive')\n"
             "    return balance + amount\n")
APPROVE = {"checklist": [{"requirement": "reject non-positive deposits", "done": True}], "comments": [],
           "verdict": "approve"}
FAILING = "python3 -c 'print(1); print(\"boom: it broke\"); exit(3)'"


def _act(action: str, **fields: Any) -> str:
    return json.dumps({"action": action, **fields})


def _exec(repo: Path, home: Path, tmp: Path) -> list[Any]:
    scripts = {
        "planner": [json.dumps({"summary": "validate", "steps": [
            {"id": "s1", "role": "coder", "goal": "reject non-positive deposits", "files": ["bank.py"]},
            {"id": "r1", "role": "reviewer", "goal": "review the validation", "depends_on": ["s1"]}]})],
        # The first draft names no file (nothing written), then the action loop: a forbidden command, a failing
        # one, the edit, done.
        "coder": ["Nothing to draft: I will edit with actions.", _act("run", command="rm -rf /"),
                  _act("run", command=FAILING), _act("write_file", path="bank.py", content=VALIDATED),
                  _act("done", summary="validated deposits")],
        "reviewer": [json.dumps(APPROVE)] * 2,
    }
    args = scripted_role_args(tmp, scripts)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home),
           "ORCHESTRATE_FORBID_MODEL_REQUESTS": "1"}
    proc = subprocess.run([sys.executable, "-m", "orchestrator", "exec", "--json", "--full-auto", *args,
                           "-c", 'validate.commands=["python3 -c pass"]', "-c", "planner.merge_chars=0",
                           "add input validation to bank.py"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "bank.py").read_text() == VALIDATED
    return [parse_event(line) for line in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """One real session's event stream, shared by the tests that read it (it takes a few seconds)."""
    tmp = tmp_path_factory.mktemp("activity")
    home = tmp / "home"
    home.mkdir()
    return _exec(make_repo(tmp / "project", {"bank.py": BANK}), home, tmp)


def test_a_coder_step_reports_its_phases_in_order_with_each_action(events: list[Any]) -> None:
    phases = [(e.phase, e.detail) for e in events if e.type == "step.phase" and e.step_id == "s1"]
    assert phases[0] == ("drafting", "") and phases[-1] == ("applying", "bank.py")
    assert [d for p, d in phases if p == "acting"] == ["run rm -rf /", f"run {FAILING}", "write bank.py"]
    # the checks run after the coder's last action (whether the reviewer model looks first is the strategy's call)
    assert phases.index(("checking", "")) > phases.index(("acting", "write bank.py"))
    assert {p for p, _ in phases} <= set(PHASES) - {"planning", "waiting"}  # exec asks nobody: no waiting
    # a reviewer step reviews; every phase comes between its step's start and end
    assert [(e.phase, e.detail) for e in events if e.type == "step.phase" and e.step_id == "r1"] == [("reviewing", "")]
    for step_id in ("s1", "r1"):
        at = [i for i, e in enumerate(events) if getattr(e, "step_id", None) == step_id and e.type != "usage"]
        assert events[at[0]].type == "step.started" and events[at[-1]].type == "step.completed"
    types = [e.type for e in events]
    assert types[:2] == ["session.started", "plan.created"] or types[:3] == ["session.started", "usage",
                                                                                 "plan.created"]


def test_commands_report_exit_codes_the_failing_ones_tail_and_refusals(events: list[Any]) -> None:
    executed = [e for e in events if e.type == "command.executed"]
    failing = next(e for e in executed if e.argv[-1] == FAILING)
    assert failing.exit_code == 3 and failing.output_tail.splitlines()[-1] == "boom: it broke"
    passing = next(e for e in executed if e.argv[-1] == "python3 -c pass")
    assert passing.exit_code == 0 and passing.output_tail is None and "output_tail" not in passing.to_json()
    (refused,) = [e for e in events if e.type == "command.refused"]
    assert refused.argv[-1] == "rm -rf /" and refused.by == "policy" and refused.step_id == "s1"
    decided = [e for e in events if e.type == "command.decided" and e.argv[-1] == "rm -rf /"]
    assert [d.decision for d in decided] == ["forbidden"]
    assert events.index(decided[0]) < events.index(refused)
    assert not any(e.argv[-1] == "rm -rf /" for e in executed)


def test_usage_is_reported_per_step(events: list[Any]) -> None:
    usage = [e for e in events if e.type == "usage"]
    by_step = {(e.role, e.step_id) for e in usage}
    assert {("planner", None), ("coder", "s1"), ("reviewer", "r1")} <= by_step
    assert sum(e.prompt_tokens + e.completion_tokens for e in usage if e.step_id == "s1") > 0
    completed = next(e for e in events if e.type == "step.completed")
    assert completed.step_id == "s1" and completed.status == "succeeded"
    assert completed.reason is None and "reason" not in completed.to_json()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_a_failed_step_and_the_steps_it_skips_say_why(orchestrate_home: Path, tmp_path: Path) -> None:
    plan = Plan(steps=(Step(id="a", role="coder", goal="a"), Step(id="b", role="coder", goal="b", depends_on=("a",))))

    async def runner(step: Step) -> StepOutcome:
        return StepOutcome(status="failed", reason="checks still fail after 3 rounds: pytest -q")

    store = Store(Home(orchestrate_home))
    sink = ListSink()
    with store.create(cwd=tmp_path, task="t") as session:
        await Scheduler(plan, runner=runner, store=session, events=FanoutSink(sink, StoreSink(session)),
                        max_parallel=2).run()
    store.close()
    completed = {e.step_id: (e.status, e.reason) for e in sink.of_type("step.completed")}  # type: ignore[union-attr]
    assert completed == {"a": ("failed", "checks still fail after 3 rounds: pytest -q"),
                         "b": ("skipped", "depends on a (failed)")}


@pytest.mark.anyio
@pytest.mark.parametrize("approve", [True, False])
async def test_a_step_waits_for_the_user_then_applies(bank_repo: Path, orchestrate_home: Path, approve: bool) -> None:
    """Interactive: the step is ``waiting`` while its diff is shown, then ``applying`` (only when approved)."""
    from tests.engine.test_orchestrator_flow import EditingSteps, Reviewer, _orchestrator, _plan, replace

    sink = ListSink()
    orch = _orchestrator(bank_repo, orchestrate_home, _plan(("a", ())),
                         EditingSteps({"a": [replace("return x\n", "return abs(x)\n")]}), sink,
                         diff_reviewer=Reviewer(bank_repo, approve))
    await orch.run("t")
    await orch.aclose()
    phases = [(e.phase, e.detail) for e in sink.of_type("step.phase")]  # type: ignore[union-attr]
    assert phases == [("waiting", "your review of the change")] + ([("applying", "bank.py")] if approve else [])
    types = [e.type for e in sink.events]
    if approve:
        assert types.index("step.phase") < types.index("edit.applied") < types.index("step.completed")
