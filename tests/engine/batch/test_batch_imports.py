"""The batch command costs the other commands nothing: ``orchestrate --help`` and ``orchestrate batch --help``
import neither the engine's batch package nor ray; only the ray backend module imports ray."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("argv", [["--help"], ["batch", "--help"]])
def test_help_imports_no_batch_engine_and_no_ray(argv: list[str]) -> None:
    # sys.modules, not -X importtime: the subcommand modules load through importlib, which importtime does not show
    code = ("import sys\nfrom orchestrator.cli.main import cli\n"
            f"assert cli({argv!r}) == 0\nprint(*sorted(sys.modules), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, check=True)
    assert "batch" in proc.stdout
    imported = set(proc.stderr.split())
    assert "orchestrator.cli.batch" in imported
    assert sorted(m for m in imported if m == "ray" or m.startswith(("ray.", "orchestrator.engine"))) == []


def test_only_the_ray_backend_imports_ray() -> None:
    sources = [p for p in (ROOT / "orchestrator").rglob("*.py") if "import ray" in p.read_text()]
    assert [p.relative_to(ROOT).as_posix() for p in sources] == ["orchestrator/engine/batch/ray_backend.py"]
