"""The tasks file is validated before anything runs: a bad line is named (file:line), exit 2, nothing created; and
the results file survives a kill mid-write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.core.errors import InputError
from orchestrator.engine.batch.results import ResultsLog, TaskOutcome, TaskResult
from tests.engine.batch.conftest import run_batch
from tests.support import make_repo

GOOD = {"id": "ok", "repo": "repo", "task": "do it"}


@pytest.mark.parametrize(("bad", "says"), [
    ("{not json", "not a JSON object"),
    ("[1, 2]", "must be a JSON object"),
    (json.dumps({"id": "x", "repo": "repo"}), "missing field 'task'"),
    (json.dumps({**GOOD, "id": "../up"}), "bad id '../up'"),
    (json.dumps({**GOOD, "id": "y", "sett": "npm ci"}), "unknown field 'sett'"),
    (json.dumps({**GOOD, "id": "y", "repo": "nowhere"}), "repo nowhere is not a directory"),
    (json.dumps({**GOOD, "id": "y", "task": "   "}), "the task is blank"),
    (json.dumps({**GOOD, "id": "y", "config": {"a.b": {"nested": 1}}}), "field 'config.a.b"),
    (json.dumps(GOOD), "duplicate task id 'ok' (first on line 1)"),
])
def test_a_bad_line_is_named_and_nothing_runs(tmp_path: Path, bad: str, says: str) -> None:
    make_repo(tmp_path / "repo", {"a.py": "A = 1\n"})
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps(GOOD) + "\n\n" + bad + "\n")
    code, _, stderr = run_batch([str(tasks)], cwd=tmp_path)
    assert code == 2
    assert stderr.startswith(f"error: {tasks}:3: ") and says in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not (tmp_path / "tasks.batch").exists()


def test_an_empty_or_missing_tasks_file_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n")
    assert run_batch(["empty.jsonl"], cwd=tmp_path)[0] == 2
    code, _, stderr = run_batch(["missing.jsonl"], cwd=tmp_path)
    assert code == 2 and "cannot read the tasks file" in stderr


def test_a_torn_last_result_line_is_dropped_and_appending_goes_on_cleanly(tmp_path: Path) -> None:
    log = ResultsLog(tmp_path)
    log.record(TaskOutcome(result=TaskResult(id="a", status="succeeded"), patch=b"\x00binary"))
    with log.path.open("ab") as f:
        f.write(b'{"id": "b", "status": "succ')  # a SIGKILL in the middle of the write
    assert list(log.load()) == ["a"]
    log.record(TaskOutcome(result=TaskResult(id="b", status="failed")))
    assert list(log.load()) == ["a", "b"]
    assert (tmp_path / "patches" / "a.patch").read_bytes() == b"\x00binary"


def test_an_edited_result_line_in_the_middle_is_named(tmp_path: Path) -> None:
    log = ResultsLog(tmp_path)
    log.path.write_text('{"id": "a", "status": "succeeded"}\ngarbage\n{"id": "b", "status": "failed"}\n')
    with pytest.raises(InputError) as caught:
        log.load()
    assert caught.value.exit_code == 2 and str(caught.value).startswith(f"{log.path}:2: ")
