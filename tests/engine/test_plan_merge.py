"""Small plans run as one coder step whose goal is the task (agents.plan_fixups), and the engine applies
it."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from agents.plan_fixups import merge_small_plan, repair_paths
from memory import build_memory
from orchestrator.api import Orchestrator, SessionEvents
from orchestrator.core.events import ListSink
from orchestrator.core.plan import Plan, Step
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings
from orchestrator.testing import ScriptedModel, gateway_for
from tests.engine.test_orchestrator_flow import EditingSteps, fixed_planner
from tests.support import make_repo

TASK = "Fix median in stats.py: for an even number of values return the mean of the two middle values."
SPLIT = Plan(summary="fix and test", steps=(
    Step(id="fix", role="coder", goal="Add a median function", files=("stats.py",)),
    Step(id="test", role="coder", goal="Write a test for median", files=("test_stats.py",), depends_on=("fix",)),
    Step(id="look", role="reviewer", goal="Review both", depends_on=("test",)),
))


def _merge(plan: Plan, root: Path, *, max_chars: int = 12000, max_files: int = 4) -> Plan | None:
    return merge_small_plan(plan, TASK, root=root, max_chars=max_chars, max_files=max_files)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "stats.py").write_text("def median(values):\n    return sorted(values)[len(values) // 2]\n")
    (root / "test_stats.py").write_text("from stats import median\n")
    return root


def test_a_small_split_plan_becomes_one_coder_step_with_the_task_as_its_goal(repo: Path) -> None:
    merged = _merge(SPLIT, repo)
    assert merged == Plan(summary="fix and test (3 planned steps over 2 short files run as one step; "
                                  "planner.merge_chars = 0 keeps them apart)",
                          steps=(Step(id="fix", role="coder", goal=TASK, files=("stats.py", "test_stats.py")),))


def test_a_one_step_plan_gets_the_task_word_for_word(repo: Path) -> None:
    paraphrased = Plan(steps=(Step(id="s1", role="coder", goal="Add a median function", files=("stats.py",)),))
    assert _merge(paraphrased, repo) == Plan(steps=(Step(id="s1", role="coder", goal=TASK, files=("stats.py",)),))
    assert _merge(_merge(paraphrased, repo) or paraphrased, repo) is None  # already merged: nothing to change


def test_files_still_to_create_count_as_empty(repo: Path) -> None:
    plan = Plan(steps=(Step(id="a", role="coder", goal="x", files=("new/module.py",)),
                       Step(id="b", role="coder", goal="y", files=("stats.py",))))
    merged = _merge(plan, repo)
    assert merged is not None and merged.steps[0].files == ("new/module.py", "stats.py")


@pytest.mark.parametrize("why", ["disabled", "too long", "too many files", "no files named", "outside", "directory",
                                 "no coder"])
def test_a_plan_that_is_not_small_stays_as_planned(repo: Path, why: str) -> None:
    (repo / "pkg").mkdir()
    plan, limits = SPLIT, {"max_chars": 12000, "max_files": 4}
    if why == "disabled":
        limits["max_chars"] = 0
    elif why == "too long":
        limits["max_chars"] = (repo / "stats.py").stat().st_size  # the test file tips it over
    elif why == "too many files":
        limits["max_files"] = 1
    elif why == "no files named":
        plan = Plan(steps=(*SPLIT.steps[:2], Step(id="more", role="coder", goal="and the rest")))
    elif why == "outside":
        plan = Plan(steps=(Step(id="a", role="coder", goal="x", files=("../elsewhere.py",)),))
    elif why == "directory":
        plan = Plan(steps=(Step(id="a", role="coder", goal="x", files=("pkg",)),))
    else:
        plan = Plan(steps=(Step(id="look", role="reviewer", goal="review the tree", files=("stats.py",)),))
    assert merge_small_plan(plan, TASK, root=repo, **limits) is None


def test_the_engine_runs_the_merged_plan_and_reports_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", {"bank.py": "def deposit(b, a):\n    return b + a\n",
                                            "test_bank.py": "from bank import deposit\n"})
    plan = Plan(steps=(Step(id="code", role="coder", goal="validate", files=("bank.py",)),
                       Step(id="tests", role="coder", goal="test it", files=("test_bank.py",), depends_on=("code",))))
    settings, home, sink = Settings(), Home(tmp_path / "home"), ListSink()
    steps = EditingSteps({"code": [lambda root: (root / "bank.py").write_text("def deposit(b, a):\n    return a\n")]})
    orch = Orchestrator(settings=settings, cwd=repo, home=home, gateway=gateway_for(settings, ScriptedModel([])),
                        memory=build_memory(settings, home), planner=fixed_planner(plan), run_step=steps,
                        events=SessionEvents(sink))

    async def run() -> None:
        try:
            await orch.run("make deposits validate their amount, with a test")
        finally:
            await orch.aclose()

    anyio.run(run)
    (created,) = [e for e in sink.events if e.type == "plan.created"]
    assert [(s.id, s.goal) for s in created.steps] == [  # type: ignore[attr-defined]
        ("code", "make deposits validate their amount, with a test")]
    assert created.summary.startswith("2 planned steps over 2 short files run as one step")  # type: ignore[attr-defined]
    assert steps.calls == ["code"]
    assert (repo / "bank.py").read_text() == "def deposit(b, a):\n    return a\n"


def test_a_planned_path_that_does_not_exist_becomes_the_one_file_of_that_name(tmp_path: Path) -> None:
    # Seen with the embedded model: "tests/test_temperature.py" for the project's test_temperature.py; the coder
    # created it, and pytest refused to collect two test modules of one name.
    known = ["temperature.py", "test_temperature.py", "a/util.py", "b/util.py"]
    for name in known:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "unlisted").mkdir()
    (tmp_path / "unlisted" / "temperature.py").write_text("")  # exists, though the listing left it out: kept
    plan = Plan(steps=(Step(id="s1", role="coder", goal="x", files=(
        "temperature.py", "tests/test_temperature.py", "util.py", "new.py", "unlisted/temperature.py")),))
    assert repair_paths(plan, known, root=tmp_path).steps[0].files == (
        "temperature.py", "test_temperature.py", "util.py", "new.py", "unlisted/temperature.py")
    dup = Plan(steps=(Step(id="s1", role="coder", goal="x", files=("test_temperature.py", "t/test_temperature.py")),))
    assert repair_paths(dup, known, root=tmp_path).steps[0].files == ("test_temperature.py",)
    assert repair_paths(SPLIT, ["stats.py"], root=tmp_path) is SPLIT  # nothing to repair: the same plan
