"""``orchestrate --help`` (the real ``python -m orchestrator`` path) stays light: none of the heavy libraries, not
even rich's console or asyncio, is imported just to print the help (benchmarks/startup.py measures the time;
tests/models/test_lazy_litellm.py pins litellm in-process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("litellm", "pydantic", "rich.console", "asyncio", "anyio", "networkx", "diskcache", "urllib.request",
         "ssl", "orchestrator.api", "orchestrator.store.sessions", "orchestrator.settings.schema")


def test_help_imports_none_of_the_heavy_modules() -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "orchestrator", "--help"], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True)
    assert "resume" in proc.stdout and "sessions" in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "orchestrator.cli.main" in imported  # the probe sees our own imports
    assert sorted(imported & set(HEAVY)) == []
