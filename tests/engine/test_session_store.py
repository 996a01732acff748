"""The session store: durable meta, plan, step records, events, checkpoints, journal; lookup and listing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.core.contracts import Message
from orchestrator.core.errors import SessionNotFoundError
from orchestrator.core.events import GitInfo, StepCompleted, UsageReported
from orchestrator.core.plan import Plan, Step
from orchestrator.settings.home import Home
from orchestrator.store.sessions import JournalEntry, StagingRecord, StepRecord, Store


@pytest.fixture
def store(orchestrate_home: Path) -> Store:
    s = Store(Home(orchestrate_home))
    yield s
    s.close()


def test_a_session_round_trips_through_a_fresh_store(store: Store, orchestrate_home: Path, tmp_path: Path) -> None:
    plan = Plan(summary="s", steps=(Step(id="a", role="coder", goal="g"),))
    with store.create(cwd=tmp_path, task="do it", profile="fast", git=GitInfo(branch="main", commit="abc")) as s:
        session_id = s.id
        s.save_plan(plan)
        s.set_step(StepRecord(step_id="a", status="running", attempt=1))
        s.append_event(StepCompleted(step_id="a", status="succeeded"))
        s.append_event(UsageReported(role="coder", model="m", prompt_tokens=10, completion_tokens=5, cost_usd=0.5))
        s.append_event(UsageReported(role="coder", model="m", prompt_tokens=1, completion_tokens=1))
        s.save_messages("a", [Message(role="user", content="hi")])
        s.set_staging("a", StagingRecord(kind="worktree", path="/x", base="deadbeef"))
        s.journal(JournalEntry(step_id="a", state="intent", diff="d", files=("f",), root="/r", preimages={"f": None}))
        s.add_session_approval(["git", "status"])
        s.update_meta(status="failed")
    reopened = Store(Home(orchestrate_home))
    with reopened.open(session_id[:17]) as s:
        assert s.meta.task == "do it" and s.meta.status == "failed" and s.meta.git.branch == "main"
        assert s.load_plan() == plan
        assert s.step("a").status == "running" and s.step("b").status == "pending"
        assert [e.type for e in s.events()] == ["step.completed", "usage", "usage"]
        usage = s.usage()
        assert (usage.prompt_tokens, usage.completion_tokens, usage.cost_usd) == (11, 6, 0.5)
        assert s.load_messages("a") == [Message(role="user", content="hi")] and s.load_messages("b") is None
        assert s.staging("a") is not None and s.staging("a").base == "deadbeef"  # type: ignore[union-attr]
        assert [e.step_id for e in s.open_journal()] == ["a"]
        s.journal(s.open_journal()[0].model_copy(update={"state": "done"}))
        assert s.open_journal() == []
        assert s.session_approvals() == [["git", "status"]]
    reopened.close()


def test_ids_sort_by_time_and_resolve_by_unique_prefix(store: Store, tmp_path: Path) -> None:
    ids = []
    for _ in range(3):
        with store.create(cwd=tmp_path, task="t") as s:
            ids.append(s.id)
    assert store.resolve(ids[1]) == ids[1]
    assert store.resolve(ids[1][:-1]) == ids[1]
    with pytest.raises(SessionNotFoundError, match="matches 3 sessions"):
        store.resolve(ids[0][:8])
    with pytest.raises(SessionNotFoundError, match="no session"):
        store.open("nope")
    with pytest.raises(SessionNotFoundError):
        store.resolve("")


def test_listing_is_newest_first_and_filtered_by_cwd(store: Store, tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    made = []
    for cwd in (here, there, here):
        with store.create(cwd=cwd, task="t") as s:
            made.append(s.id)
            s.update_meta(status="succeeded")
    assert [m.id for m in store.list_sessions()] == made[::-1]
    assert {m.id for m in store.list_sessions(cwd=here)} == {made[0], made[2]}
    assert store.latest(cwd=there) is not None and store.latest(cwd=there).id == made[1]  # type: ignore[union-attr]
    assert store.remove(made[1]) == made[1]
    assert store.latest(cwd=there) is None


def test_a_running_session_whose_process_died_reads_as_interrupted(store: Store, tmp_path: Path) -> None:
    code = "import os; print(os.getpid())"
    dead = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    with store.create(cwd=tmp_path, task="t") as s:
        assert s.meta.effective_status == "running"  # this process is alive
        s.update_meta(pid=int(dead.stdout))
    assert store.list_sessions()[0].effective_status == "interrupted"


def test_prune_removes_only_old_finished_sessions(store: Store, tmp_path: Path) -> None:
    with store.create(cwd=tmp_path, task="old") as s:
        s.update_meta(status="succeeded")
        old = s.id
    with store.create(cwd=tmp_path, task="live") as s:
        live = s.id  # running, this process: never pruned
    later = datetime.now(UTC) + timedelta(days=31)
    assert store.prune(0, now=later) == []
    assert store.prune(30, now=later) == [old]
    assert [m.id for m in store.list_sessions()] == [live]
    assert not (store.root / old).exists()
    assert os.path.isdir(store.root / live)
