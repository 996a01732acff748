"""A failed run says why on the terminal (issue 14): a step whose checks keep failing shows the check's last output
lines, and a step skipped because of it names the step it depended on (``orchestrate exec``, scripted models)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestrator.testing import scripted_role_args
from tests.integrations.conftest import REPO_ROOT
from tests.support import make_repo

APPROVE = {"checklist": [{"requirement": "make made.txt", "done": True}], "comments": [], "verdict": "approve"}
CHECK = "python3 -c \"import sys; print('collected 1 item'); print('boom: 42 != 43'); sys.exit(1)\""


def _scripts(tmp: Path) -> list[str]:
    steps = [{"id": "make", "role": "coder", "goal": "make made.txt", "files": ["made.txt"]},
             {"id": "use", "role": "coder", "goal": "use made.txt", "files": ["used.txt"], "depends_on": ["make"]}]
    replies = {
        "planner": [json.dumps({"summary": "make then use", "steps": steps})],
        "coder": [json.dumps({"action": "run", "command": "touch made.txt"}),
                  json.dumps({"action": "done", "summary": "made made.txt"})] * 4,
        "reviewer": [json.dumps(APPROVE)] * 6,
    }
    return scripted_role_args(tmp, replies)


def test_a_failed_check_shows_its_output_and_a_skipped_step_names_its_failed_dependency(
        tmp_path: Path, orchestrate_home: Path) -> None:
    project = make_repo(tmp_path / "project", {"README.md": "demo\n"})
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ORCHESTRATE_HOME": str(orchestrate_home), "COLUMNS": "200"}
    argv = [sys.executable, "-m", "orchestrator", "exec", "--full-auto", *_scripts(tmp_path),
            "-c", f"validate.commands=[{json.dumps(CHECK)}]", "-c", "validate.max_rounds=1",
            "-c", "planner.merge_files=0", "-c", "coder.draft=false", "make made.txt, then use it"]
    proc = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=180, check=False)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    failed = next(i for i, line in enumerate(lines) if "✗ make: checks still fail after 1 round:" in line)
    assert any("boom: 42 != 43" in line for line in lines[failed + 1:failed + 6]), proc.stderr  # its last lines
    assert any("use: skipped: depends on make (failed)" in line for line in lines), proc.stderr
