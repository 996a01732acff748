"""Crash safety, end to end: ``orchestrate exec --json`` (a subprocess, on a real temporary git repository) is killed
with SIGKILL right after each kind of transition in turn (the ``ORCHESTRATE_CRASH_AT`` hook of the store), then
``exec resume --last --json`` finishes it. Checked against an uninterrupted run of the same plan: the same final
tree, no step completed twice, no edit applied twice, and every model call's usage counted exactly once.

The models are functions of the request (below, selected with ``function:tests.engine.test_crash_models:NAME``), so
they answer the same way in the resumed process: the planner returns the plan, the coder writes its file then says
done, the reviewer approves. Each call costs a fixed usage and is logged to ``$CRASH_TEST_CALLS`` when it returns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.core.events import SessionCompleted, parse_event
from tests.engine.crash_consumer import new_repo, stored_events, tree
from tests.engine.test_crash_models import CALL_USAGE, NO_MERGE

ROOT = Path(__file__).resolve().parents[2]
FILES = ("alpha", "beta", "gamma")
TRANSITIONS = ["plan.created", "step.started", "command.executed", "review.completed", "validation.completed",
               "edit.intent", "edit.applied", "step.completed"]


# ------------------------------------------------------------------------------------------ harness
def _orchestrate(repo: Path, home: Path, calls: Path, *args: str, crash_at: str | None = None,
                 ) -> subprocess.CompletedProcess[str]:
    models = [a for role in ("planner", "coder", "reviewer", "validator")
              for a in ("--role-model", f"{role}=function:tests.engine.test_crash_models:"
                                        f"{'reviewer' if role == 'validator' else role}")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home), "CRASH_TEST_CALLS": str(calls)}
    env.pop("ORCHESTRATE_CRASH_AT", None)
    if crash_at:
        env["ORCHESTRATE_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "orchestrator", "exec", *args, "--json", *models,
                           "--max-parallel", "2", "-c", 'validate.commands=["python3 check.py"]', "-c", NO_MERGE],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120, check=False)


def _completed(stdout: str) -> SessionCompleted:
    last = parse_event(stdout.splitlines()[-1])
    assert isinstance(last, SessionCompleted)
    return last


@dataclass(frozen=True)
class Scenario:
    """One run of the plan: killed after ``crash_at`` (unless None) and resumed, in its own repository and home."""

    repo: Path
    home: Path
    calls: Path  # one line per model call made, by either process
    crashed: subprocess.CompletedProcess[str] | None
    finished: subprocess.CompletedProcess[str]

    @property
    def made(self) -> int:
        return len(self.calls.read_text().splitlines())


def _scenario(base: Path, crash_at: str | None) -> Scenario:
    repo, home, calls = new_repo(base), base / "home", base / "calls.log"
    if crash_at is None:
        return Scenario(repo, home, calls, None, _orchestrate(repo, home, calls, "make three files"))
    crashed = _orchestrate(repo, home, calls, "make three files", crash_at=crash_at)
    if crashed.returncode != -signal.SIGKILL:
        return Scenario(repo, home, calls, crashed, crashed)
    return Scenario(repo, home, calls, crashed, _orchestrate(repo, home, calls, "resume", "--last"))


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str | None, Future[Scenario]]]:
    """Every scenario (None: the uninterrupted reference), started at once a few at a time: the runs mostly wait on
    subprocesses, so this keeps the module quick; each test then checks its own."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield {t: pool.submit(_scenario, tmp_path_factory.mktemp(f"crash-{t}"), t) for t in [None, *TRANSITIONS]}


@pytest.mark.parametrize("transition", TRANSITIONS)
def test_a_run_killed_after_any_transition_resumes_to_the_same_result(
        transition: str, scenarios: dict[str | None, Future[Scenario]]) -> None:
    reference = scenarios[None].result()
    assert reference.finished.returncode == 0, reference.finished.stderr
    reference_tree, reference_end = tree(reference.repo), _completed(reference.finished.stdout)
    assert reference_tree["gamma.txt"] == "GAMMA\n"
    run = scenarios[transition].result()
    assert run.crashed is not None and run.crashed.returncode == -signal.SIGKILL, run.crashed.stderr
    home = run.home
    resumed = run.finished
    assert resumed.returncode == 0, resumed.stderr
    assert tree(run.repo) == reference_tree

    events = stored_events(home)  # both processes' events, as the store has them
    before = events[:[e.type for e in events].index("session.resumed")]  # the killed process's
    if transition != "edit.intent":  # killed right after the store committed it (before it reached stdout)
        at = max(i for i, e in enumerate(before) if e.type == transition)
        # With two steps in parallel, the other step's next event can commit between this commit and the kill
        # landing (seen in CI: a command.executed after edit.applied); the killed step itself did nothing more.
        step = getattr(before[at], "step_id", None)
        assert all(getattr(e, "step_id", None) != step for e in before[at + 1:]) if step else at == len(before) - 1
    completed = Counter(e.step_id for e in events if e.type == "step.completed")  # type: ignore[union-attr]
    assert completed == dict.fromkeys(FILES, 1)
    applied = Counter(e.step_id for e in events if e.type == "edit.applied")  # type: ignore[union-attr]
    assert applied == dict.fromkeys(FILES, 1)

    end = _completed(resumed.stdout)
    assert end.status == "succeeded"
    usage_events: list[Any] = [e for e in events if e.type == "usage"]
    made = run.made  # every model call, in either process
    assert len(usage_events) == made
    assert end.usage.prompt_tokens == made * CALL_USAGE.prompt_tokens
    assert end.usage.completion_tokens == made * CALL_USAGE.completion_tokens
    assert end.usage.cost_usd == pytest.approx(made * CALL_USAGE.cost_usd)
    # Every call was counted once. A clean cut (nothing in flight) repeats no call: the usage equals the clean run's.
    # After a step completes, a parallel step that was in flight restarts from its checkpointed conversation, and
    # the calls made since that checkpoint are made (and paid) again: the coder's next turn and the review, for each
    # of the (at most 2) steps in flight.
    if transition in ("plan.created", "step.started"):
        assert made == reference.made and end.usage == reference_end.usage
    else:
        assert reference.made <= made <= reference.made + 2 * 2, (made, reference.made)
