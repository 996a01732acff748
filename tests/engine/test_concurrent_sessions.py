"""Two sessions in one repository: they run side by side (each its own store; edits to the shared working tree one
at a time, under the tree's apply lock), and one session never runs in two processes at once."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

from orchestrator.core.events import parse_event
from orchestrator.settings.home import Home
from orchestrator.store.locks import FileLock, tree_lock
from orchestrator.store.sessions import Store
from tests.engine.crash_consumer import MODELS, command, environ, events_of, new_repo, said, tree


def _named(*args: str) -> list[str]:
    return [*command(*args), "--role-model", f"planner=function:{MODELS}:named_planner"]


def test_two_sessions_started_at_once_in_one_repository_both_land(tmp_path: Path) -> None:
    repo, home = new_repo(tmp_path), tmp_path / "home"
    env = environ(home, tmp_path / "calls.log")
    procs = [subprocess.Popen(_named(f"write {a} and {b}"), cwd=repo, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for a, b in (("alpha", "beta"), ("gamma", "delta"))]
    outputs = [p.communicate(timeout=180) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    files = tree(repo)
    assert {name: files.get(f"{name}.txt") for name in ("alpha", "beta", "gamma", "delta")} == {
        name: name.upper() + "\n" for name in ("alpha", "beta", "gamma", "delta")}
    store = Store(Home(home))
    try:
        metas = store.list_sessions()
        assert sorted(m.status for m in metas) == ["succeeded", "succeeded"]
        for out, _ in outputs:
            with store.open(events_of(out)[0].session_id) as session:  # type: ignore[union-attr]
                stored = session.events()
            assert [e.to_json() for e in stored] == out.splitlines()  # each store has exactly its own stream
            assert Counter(e.type for e in stored)["edit.applied"] == 2
    finally:
        store.close()


def _blocked_on(path: Path) -> bool:
    """Whether some process waits for a flock on ``path`` (a ``->`` line of /proc/locks naming its inode)."""
    inode = f":{path.stat().st_ino} "
    return any("->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


def test_an_edit_waits_while_another_session_holds_the_tree(tmp_path: Path) -> None:
    repo, home = new_repo(tmp_path), tmp_path / "home"
    held = tree_lock(repo, home)
    held.acquire()  # another session, in the middle of applying an edit
    proc = subprocess.Popen(command("rename two files"), cwd=repo, env=environ(home, tmp_path / "calls.log"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # s1 passed its checks: the next thing it does is apply its edit
            if parse_event(line).type == "validation.completed":
                break
        while proc.poll() is None and not _blocked_on(held.path):
            os.sched_yield()
        assert proc.poll() is None, "exec applied its edit while another session held the tree's apply lock"
        assert "alpha.txt" not in tree(repo)
    finally:
        held.release()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert tree(repo)["alpha.txt"] == "ALPHA\n" and tree(repo)["beta.txt"] == "BETA\n"


def test_resuming_a_session_another_process_runs_is_refused_in_one_line(tmp_path: Path) -> None:
    repo, home = new_repo(tmp_path), tmp_path / "home"
    env = environ(home, tmp_path / "calls.log")
    slow = [*command("rename two files"), "--role-model", f"coder=function:{MODELS}:slow_coder"]
    running = subprocess.Popen(slow, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, start_new_session=True)
    try:
        assert running.stdout is not None
        for line in running.stdout:  # s1's coder now waits on its (slow) model
            if parse_event(line).type == "memory.loaded":
                break
        second = subprocess.run(command("resume", "--last"), cwd=repo, env=env, capture_output=True, text=True,
                                timeout=60, check=False)
    finally:
        os.killpg(running.pid, signal.SIGKILL)
        running.wait()
        assert running.stdout is not None
        running.stdout.close()
    assert second.returncode == 2, second.stderr
    (line,) = said(second.stderr)
    assert "is already running" in line and "Traceback" not in second.stderr
    assert events_of(second.stdout) == []
    # The killed process held the session: its lock went with it, and the session resumes now.
    lock = FileLock(next((home / "sessions").glob("2*/run.lock")))
    assert lock.try_acquire()
    lock.release()
