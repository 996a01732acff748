"""``orchestrate sessions rm ID [ID...]``, and the automatic pruning of old finished sessions
(``sessions.keep_days``)."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store


@pytest.fixture
def store(orchestrate_home: Path) -> Iterator[Store]:
    s = Store(Home(orchestrate_home))
    yield s
    s.close()


def _session(store: Store, cwd: Path, *, status: str = "succeeded", pid: int | None = None) -> str:
    with store.create(cwd=cwd, task="t") as s:
        s.update_meta(status=status, **({"pid": pid} if pid else {}))
        return s.id


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(out=Console(file=out, width=200), err=Console(file=err, width=200))
    return cli(list(argv), ctx), out.getvalue(), err.getvalue()


def test_rm_removes_by_id_and_unique_prefix_and_says_so(store: Store, tmp_path: Path) -> None:
    first, second, kept = (_session(store, tmp_path) for _ in range(3))
    code, out, _ = _cli("sessions", "rm", first, second[:-2])
    assert code == 0
    assert out.splitlines() == [f"removed {first}", f"removed {second}"]
    assert [m.id for m in store.list_sessions()] == [kept]
    assert not (store.root / first).exists() and not (store.root / second).exists()


def test_rm_of_an_unknown_or_ambiguous_id_exits_2_and_removes_nothing(store: Store, tmp_path: Path) -> None:
    made = _session(store, tmp_path)
    code, _, err = _cli("sessions", "rm", made, "nope")
    assert code == 2 and "no session 'nope'" in err
    other = _session(store, tmp_path)
    code, _, err = _cli("sessions", "rm", made[:4])  # the year: both match
    assert code == 2 and "matches 2 sessions" in err
    assert {m.id for m in store.list_sessions()} == {made, other}


def test_rm_refuses_a_session_whose_process_is_alive(store: Store, tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = _session(store, tmp_path, status="running", pid=sleeper.pid)
        done = _session(store, tmp_path)
        code, out, err = _cli("sessions", "rm", done, live)
        assert code == 2 and f"session {live} is running (pid {sleeper.pid})" in err
        assert out == "" and {m.id for m in store.list_sessions()} == {live, done}  # all or nothing
    finally:
        sleeper.kill()
        sleeper.wait()
    code, out, _ = _cli("sessions", "rm", live)  # its process died: it reads as interrupted and can go
    assert code == 0 and out.strip() == f"removed {live}"


def test_creating_a_session_prunes_old_finished_ones_at_most_once_a_day(store: Store, tmp_path: Path) -> None:
    old = _session(store, tmp_path)
    now = datetime.now(UTC) + timedelta(days=40)
    assert store.prune_daily(0, now=now) == []  # 0 disables
    assert store.prune_daily(30, now=now) == [old]
    second = _session(store, tmp_path)
    assert store.prune_daily(30, now=now + timedelta(hours=23)) == []  # stale, but pruned less than a day ago
    assert store.prune_daily(30, now=now + timedelta(hours=25)) == [second]
    # the record of the last pruning is not a session
    assert store.list_sessions() == []
    code, out, _ = _cli("sessions", "--all", "--json")
    assert code == 0 and out.strip() == "[]"


def _age(store: Store, session_id: str, days: int) -> None:
    """Make a session look ``days`` old in the index (what listing and pruning read)."""
    meta = store.meta(session_id)
    assert meta is not None
    stamp = (datetime.now(UTC) - timedelta(days=days)).isoformat().replace("+00:00", "Z")
    store.index_put(session_id, meta.model_copy(update={"updated": stamp}).model_dump_json())


def test_creating_a_session_with_keep_days_prunes(store: Store, tmp_path: Path) -> None:
    old, recent = _session(store, tmp_path, status="failed"), _session(store, tmp_path)
    _age(store, old, 3)
    _age(store, recent, 1)
    with store.create(cwd=tmp_path, task="t", keep_days=0) as s:  # 0: keep everything
        first = s.id
    assert {m.id for m in store.list_sessions()} == {old, recent, first}
    with store.create(cwd=tmp_path, task="t", keep_days=2) as s:
        second = s.id
    assert {m.id for m in store.list_sessions()} == {recent, first, second}
    assert not (store.root / old).exists()
    _age(store, recent, 5)
    with store.create(cwd=tmp_path, task="t", keep_days=2) as s:  # pruned minutes ago: not again today
        third = s.id
    assert {m.id for m in store.list_sessions()} == {recent, first, second, third}


def test_rm_also_unregisters_the_sessions_staging_worktrees(store: Store, bank_repo: Path) -> None:
    from orchestrator.workspace.staging import Workspace

    def worktrees() -> str:
        return subprocess.run(["git", "worktree", "list"], cwd=bank_repo, capture_output=True, text=True,
                              check=True).stdout

    with store.create(cwd=bank_repo, task="t") as s:  # as a killed run leaves it: a step's worktree on disk
        staging = Workspace(bank_repo).create_staging(s.stagings_dir, "a")
        s.update_meta(status="interrupted")
        session_id = s.id
    assert str(staging.tree) in worktrees()
    assert _cli("sessions", "rm", session_id)[0] == 0
    assert str(staging.tree) not in worktrees() and not staging.tree.exists()
