"""``--batch-budget-usd``: once the recorded tasks' cost reaches it, no further task starts (earlier runs count)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine.batch.conftest import MODEL_ARGS, results, run_batch
from tests.support import make_repo

pytestmark = pytest.mark.usefixtures("fake_models_importable")


def test_the_batch_budget_stops_new_tasks_and_counts_earlier_runs(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo", {"a.py": "A = 1\n"})
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps({"id": f"t{i}", "repo": "repo", "task": f"<<file f{i}.py>>{i}<<end>>"})
                             + "\n" for i in range(3)))
    argv = [str(tasks), "--json", "--max-concurrency", "1", "--batch-budget-usd", "0.01", *MODEL_ARGS,
            "--role-model", "planner=function:tests.engine.batch.fakes:costly_planner"]
    code, stdout, stderr = run_batch(argv, cwd=tmp_path)
    assert code == 1, stderr
    summary = json.loads(stdout.splitlines()[-1])["summary"]
    assert summary["budget_exhausted"] and summary["not_run"] == 2 and summary["succeeded"] == 1
    done = results(tmp_path / "tasks.batch")
    assert list(done) == ["t0"] and done["t0"]["usage"]["cost_usd"] > 0.01
    code, stdout, _ = run_batch(argv, cwd=tmp_path)  # the budget is the batch's, across runs
    assert code == 1 and "batch.task.started" not in stdout
