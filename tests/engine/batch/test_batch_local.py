"""``orchestrate batch`` on the local backend, for real: real clones, real ``orchestrate exec`` children with function
models, real checks in the real sandbox, real ``git apply`` of the patches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.engine.batch.tasks import BatchTask
from orchestrator.engine.batch.worker import RunOptions, WorkerSpec, run_task
from tests.engine.batch.conftest import EXPECTED, MODEL_ARGS, ROOT, results, run_batch, six_tasks

pytestmark = pytest.mark.usefixtures("fake_models_importable")


def test_six_tasks_over_three_repos(tmp_path: Path) -> None:
    tasks = six_tasks(tmp_path)
    code, stdout, stderr = run_batch([str(tasks), "--json", "--max-concurrency", "2", *MODEL_ARGS], cwd=tmp_path)
    assert code == 1, stderr  # some tasks failed
    events = [json.loads(line) for line in stdout.splitlines()]
    assert all(list(e)[:2] == ["type", "ts"] for e in events)
    assert sorted(e["id"] for e in events if e["type"] == "batch.task.started") == sorted(EXPECTED)
    completed = {e["result"]["id"]: e["result"] for e in events if e["type"] == "batch.task.completed"}
    out = tmp_path / "tasks.batch"
    assert completed == results(out)
    assert {k: (r["status"], r["check_passed"], r["files_changed"]) for k, r in completed.items()} == {
        k: (s, c, f) for k, (s, c, f) in EXPECTED.items()}
    assert "no-such-ref" in completed["b2"]["error"] and "plan" in completed["c1"]["error"]
    assert completed["b1"]["error"] == "the check failed" and completed["a1"]["usage"]["prompt_tokens"] > 0
    summary = events[-1]
    assert summary["type"] == "batch.completed"
    assert {k: summary["summary"][k] for k in ("total", "succeeded", "failed", "errors", "skipped")} == {
        "total": 6, "succeeded": 3, "failed": 2, "errors": 1, "skipped": 0}
    # the setup ran in the clone, before the start snapshot: its output is not in the patch
    assert (out / "work" / "a2" / "repo" / "build.log").read_text() == "built\n"
    # every patch applies to a fresh clone and gives the session's files
    for task_id, repo in (("a1", "alpha"), ("b1", "beta"), ("c2", "gamma")):
        fresh = tmp_path / f"fresh-{task_id}"
        subprocess.run(["git", "clone", "-q", str(tmp_path / repo), str(fresh)], check=True)
        subprocess.run(["git", "apply", str(out / "patches" / f"{task_id}.patch")], cwd=fresh, check=True)
        for name in EXPECTED[task_id][2]:
            assert (fresh / name).read_text() == (out / "work" / task_id / "repo" / name).read_text()
    assert (out / "patches" / "b2.patch").read_bytes() == b""
    assert "check failed" not in (out / "logs" / "a1.log").read_text()


def test_a_rerun_skips_every_task_with_a_result_and_prints_the_table(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    six_tasks(tmp_path)
    lines = tasks.read_text().splitlines()
    tasks.write_text(lines[0] + "\n")  # a1 only
    code, _, stderr = run_batch([str(tasks), "--out", "o", *MODEL_ARGS], cwd=tmp_path)
    assert code == 0, (stderr, (tmp_path / "o" / "logs" / "a1.log").read_text())
    first = results(tmp_path / "o")
    tasks.write_text(lines[0] + "\n" + lines[1] + "\n")
    code, stdout, stderr = run_batch([str(tasks), "--out", "o", *MODEL_ARGS], cwd=tmp_path)
    assert code == 0, stderr
    again = results(tmp_path / "o")
    assert again["a1"] == first["a1"] and again["a2"]["status"] == "succeeded"
    assert "a1" in stdout and "a2" in stdout and "2/2 succeeded" in stdout
    assert "✓ a2 succeeded" in stderr and "a1 succeeded" not in stderr  # only a2 ran


def test_sigkill_loses_no_finished_task_and_the_rerun_runs_none_again(tmp_path: Path) -> None:
    six_tasks(tmp_path)
    tasks = tmp_path / "three.jsonl"
    tasks.write_text("".join(json.dumps({"id": f"t{i}", "repo": "alpha", "task": f"<<file f{i}.py>>{i}<<end>>"})
                             + "\n" for i in range(3)))
    argv = [sys.executable, "-m", "orchestrator", "batch", str(tasks), "--json", "--max-concurrency", "1",
            "--out", str(tmp_path / "o"), *MODEL_ARGS]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if json.loads(line)["type"] == "batch.task.completed":
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
    finished = results(tmp_path / "o")
    assert finished and len(finished) < 3
    rerun = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert rerun.returncode == 0, rerun.stderr
    started = {json.loads(line)["id"] for line in rerun.stdout.splitlines() if "batch.task.started" in line}
    assert started == {"t0", "t1", "t2"} - set(finished)
    final = results(tmp_path / "o")
    assert set(final) == {"t0", "t1", "t2"} and all(r["status"] == "succeeded" for r in final.values())
    assert all(final[k] == v for k, v in finished.items())
    for task_id in final:  # each task's home holds its one session: nothing ran twice from scratch
        sessions = (tmp_path / "o" / "work" / task_id / "home" / "sessions").iterdir()
        assert [p.name for p in sessions if not p.name.startswith(".")] == [final[task_id]["session_id"]]


def test_a_work_directory_with_a_session_is_resumed_not_cloned_again(tmp_path: Path) -> None:
    six_tasks(tmp_path)
    task = BatchTask(id="r", repo=str(tmp_path / "alpha"), task="<<file r.py>>R = 1<<end>>")
    spec = WorkerSpec(work_root=str(tmp_path / "work"), options=RunOptions(
        role_models=tuple(MODEL_ARGS[i + 1] for i in range(0, 8, 2)), overrides=("validate.discover=false",)))
    first = run_task(task, spec)
    assert first.result.status == "succeeded", first.log
    marker = tmp_path / "work" / "r" / "repo" / "kept.txt"
    marker.write_text("a fresh clone would not have me")
    again = run_task(task, spec)
    assert again.result.session_id == first.result.session_id and marker.exists()
    assert again.result.status == "succeeded" and b"kept.txt" in again.patch


def test_without_the_ray_extra_the_ray_backend_is_one_line_and_exit_2(tmp_path: Path) -> None:
    tasks = six_tasks(tmp_path)
    code = ("import sys; sys.modules['ray'] = None\n"  # what an install without the [ray] extra looks like
            "from orchestrator.cli.main import cli\n"
            f"sys.exit(cli(['batch', {str(tasks)!r}, '--backend', 'ray']))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'orchestrate[ray]'" in lines[0], proc.stderr
    assert not (tmp_path / "tasks.batch" / "results.jsonl").exists()


def test_ctrl_c_saves_running_tasks_without_a_result_and_the_rerun_finishes_them(tmp_path: Path) -> None:
    six_tasks(tmp_path)
    tasks = tmp_path / "two.jsonl"
    tasks.write_text("".join(json.dumps({"id": f"t{i}", "repo": "alpha", "task": f"<<file f{i}.py>>{i}<<end>>"})
                             + "\n" for i in range(2)))
    argv = [sys.executable, "-m", "orchestrator", "batch", str(tasks), "--json", "--out", str(tmp_path / "o"),
            *MODEL_ARGS]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Ctrl-C on a terminal reaches the whole foreground process group: the batch and its sessions.
    with subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stdout:
            if json.loads(line)["type"] == "batch.task.started":
                os.killpg(proc.pid, signal.SIGINT)
                break
        proc.wait(timeout=120)
        stderr = proc.stderr.read()
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in stderr and "Traceback" not in stderr
    saved = results(tmp_path / "o") if (tmp_path / "o" / "results.jsonl").exists() else {}
    rerun = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert rerun.returncode == 0, rerun.stderr
    final = results(tmp_path / "o")
    assert set(final) == {"t0", "t1"} and all(final[k] == v for k, v in saved.items())
    for task_id, result in final.items():
        sessions = (tmp_path / "o" / "work" / task_id / "home" / "sessions").iterdir()
        assert [p.name for p in sessions if not p.name.startswith(".")] == [result["session_id"]]
