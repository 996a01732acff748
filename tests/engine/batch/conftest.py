"""Batch fixtures: three small repositories, a tasks file of six tasks over them (succeeding, failing its check,
erroring, failing its plan), and the batch CLI run in-process with function models from ``fakes``."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli
from tests.support import make_repo

ROOT = Path(__file__).resolve().parents[3]
ROLES = ("planner", "coder", "reviewer", "validator")
# Every role answers from the task text (tests/engine/batch/fakes.py); discovery off: no check the task did not ask.
MODEL_ARGS = (*(a for role in ROLES for a in ("--role-model", f"{role}=function:tests.engine.batch.fakes:{role}")),
              "-c", "validate.discover=false")


HELLO_TEST = ("import subprocess, sys\n\n\ndef test_hello():\n"
              "    run = subprocess.run([sys.executable, 'hello.py'], capture_output=True, text=True)\n"
              "    assert run.stdout == '1\\n'\n")


def six_tasks(root: Path) -> Path:
    """``root/tasks.jsonl``: 6 tasks over 3 repositories (alpha, beta, gamma, made here)."""
    for name in ("alpha", "beta", "gamma"):
        make_repo(root / name, {"main.py": f"print({name!r})\n", "test_hello.py": HELLO_TEST})
    (root / "alpha" / "data.bin").write_bytes(b"\x00\x01")  # untracked in the source repo: not in a clone
    tasks = [
        # a check like the solve-rate benchmark's: the exercise's test file, run by pytest, in the sandbox
        {"id": "a1", "repo": "alpha", "task": "<<file hello.py>>print(1)\\n<<end>>",
         "check": f"{sys.executable} -m pytest -q -p no:cacheprovider test_hello.py"},
        {"id": "a2", "repo": "alpha", "task": "<<file data.txt>>x\\n<<end>>", "setup": "echo built > build.log"},
        {"id": "b1", "repo": "beta", "task": "<<file main.py>>print('changed')\\n<<end>>", "check": "exit 3"},
        {"id": "b2", "repo": "beta", "ref": "no-such-ref", "task": "<<file x.py>>1\\n<<end>>"},
        {"id": "c1", "repo": "gamma", "task": "<<no plan>>"},
        {"id": "c2", "repo": "gamma", "task": "<<file pkg/m.py>>A = 1\\n<<end>>",
         "config": {"planner.merge_chars": 12000}},
    ]
    path = root / "tasks.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    return path


EXPECTED = {  # id → (status, check_passed, files_changed)
    "a1": ("succeeded", True, ["hello.py"]),
    "a2": ("succeeded", None, ["data.txt"]),
    "b1": ("failed", False, ["main.py"]),
    "b2": ("error", None, []),
    "c1": ("failed", None, []),
    "c2": ("succeeded", None, ["pkg/m.py"]),
}


def run_batch(args: Sequence[str], *, cwd: Path) -> tuple[int, str, str]:
    """``orchestrate batch ARGS`` in-process (``-C cwd``): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(out=Console(file=out, width=200), err=Console(file=err, width=200), environ=dict(os.environ))
    code = cli(["batch", "-C", str(cwd), *args], ctx=ctx)
    return code, out.getvalue(), err.getvalue()


def results(out: Path) -> dict[str, dict[str, Any]]:
    lines = (out / "results.jsonl").read_text().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert len({r["id"] for r in parsed}) == len(parsed), "a task was recorded twice"
    return {r["id"]: r for r in parsed}


def comparable(out: Path) -> dict[str, Any]:
    """The results minus what differs between runs (timings, session ids), and the patches byte for byte."""
    rows = {k: {f: v for f, v in r.items() if f not in ("duration_s", "session_id")} for k, r in results(out).items()}
    patches = {p.name: p.read_bytes() for p in sorted((out / "patches").iterdir())}
    return {"results": rows, "patches": patches}


@pytest.fixture
def fake_models_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sessions' children import ``tests.engine.batch.fakes``."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
