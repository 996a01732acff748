"""litellm (seconds to import) is never imported on the help path or by importing the model layer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from orchestrator.cli.main import cli
import orchestrator.models.gateway, orchestrator.testing, orchestrator.models.routing, orchestrator.models.capabilities
codes = [cli(["--help"]), cli(["models", "--help"]), cli(["exec", "--help"])]
print("litellm" in sys.modules, [m for m in sys.modules if m.startswith("litellm")][:3], codes)
"""


def test_help_and_model_layer_imports_do_not_import_litellm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=ROOT,
                            check=True)
    assert result.stdout.strip().splitlines()[-1].startswith("False [] ")
