"""The GitHub Action (action.yml): its structure, and its scripts run the way a runner runs them.

The scripts are taken from the YAML and executed here with the runner's conventions (``bash --noprofile --norc -eo
pipefail``, ``python``, ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files), with the real ``orchestrate`` CLI and a
function model, on a real git repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import REPO_ROOT
from tests.support import make_repo

yaml = pytest.importorskip("yaml")  # PyYAML comes with litellm

MODEL = "function:tests.integrations.model_functions:greeter"
INPUTS = {"mode", "task", "base", "model", "profile", "sandbox", "approval-policy", "extra-args", "python-version",
          "github-token"}


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    return data


def _step(action: dict[str, Any], step_id: str) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in action["runs"]["steps"] if s.get("id") == step_id)
    return step


def test_it_is_a_composite_action_with_the_documented_inputs_and_outputs(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == INPUTS
    assert action["inputs"]["mode"]["default"] == "run"  # today's behaviour stays the default
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert action["inputs"]["approval-policy"]["default"] == "never"
    assert all("description" in spec for spec in action["inputs"].values())
    assert action["outputs"]["status"]["value"] == "${{ steps.result.outputs.status }}"
    assert action["outputs"]["session-id"]["value"] == "${{ steps.result.outputs.session-id }}"
    assert action["outputs"]["pr-url"]["value"] == "${{ steps.pr.outputs.pr-url }}"
    assert action["outputs"]["verdict"]["value"] == "${{ steps.review.outputs.verdict }}"
    for mode, needs in (("pr", "contents: write and pull-requests: write"), ("review", "pull-requests: write")):
        described = action["inputs"]["mode"]["description"]
        assert f"{mode}:" in described and needs in described


def test_steps_install_from_the_action_checkout_and_never_interpolate_inputs(action: dict[str, Any]) -> None:
    steps = action["runs"]["steps"]
    setup = next(s for s in steps if "uses" in s)
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    install = _step(action, "install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert 'pip install --quiet --disable-pip-version-check "$ACTION_PATH"' in install["run"]
    for step in steps:
        if "run" in step:
            assert step["shell"] in ("bash", "python")
            assert "${{" not in step["run"], f"step {step['name']!r} interpolates an expression into its script"
    assert "exec --json" in _step(action, "run")["run"]


def _github_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment a runner gives a step, with ``orchestrate`` being this checkout's CLI."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    wrapper = tmp_path / "orchestrate"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m orchestrator "$@"\n')
    wrapper.chmod(0o755)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # `python` as after setup-python
    return {**os.environ, "PATH": path, "PYTHONPATH": str(REPO_ROOT), "RUNNER_TEMP": str(runner_temp),
            "ACTION_PATH": str(REPO_ROOT),
            "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "ORCHESTRATE": str(wrapper), "MODE": "run", "MODEL": "", "PROFILE": "", "SANDBOX": "",
            "APPROVAL_POLICY": "never",
            "EXTRA_ARGS": "", **extra}


def _exec_step(action: dict[str, Any], step_id: str, env: dict[str, str],
               cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one step's script the way a runner runs ``shell: bash`` / ``shell: python``."""
    step = _step(action, step_id)
    script = Path(env["RUNNER_TEMP"]) / f"{step_id}.step"
    script.write_text(step["run"])
    shell = (["bash", "--noprofile", "--norc", "-eo", "pipefail"] if step["shell"] == "bash" else ["python"])
    return subprocess.run([*shell, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=240,
                          check=False)


def _run_step(action: dict[str, Any], step_id: str, env: dict[str, str], cwd: Path) -> dict[str, str]:
    """Run a step that must succeed; returns everything written to GITHUB_OUTPUT so far."""
    proc = _exec_step(action, step_id, env, cwd)
    assert proc.returncode == 0, proc.stderr
    lines = Path(env["GITHUB_OUTPUT"]).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "workspace", {"README.md": "demo\n"})


def test_the_steps_run_the_task_and_report_status_session_and_summary(action: dict[str, Any], repo: Path,
                                                                      tmp_path: Path) -> None:
    env = _github_env(tmp_path, TASK="write hello.txt | quickly", MODEL=MODEL,
                      EXTRA_ARGS='-c validate.discover=false -c "review.max_rounds=2"')
    outputs = _run_step(action, "run", env, repo)
    assert outputs["exit-code"] == "0"
    assert (repo / "hello.txt").read_text() == "hello\n"
    outputs = _run_step(action, "result", {**env, "EVENTS": outputs["events"]}, repo)
    assert outputs["status"] == "succeeded"
    assert outputs["session-id"] and len(outputs["session-id"]) > 10
    summary = (tmp_path / "summary.md").read_text()
    assert "**Task:** write hello.txt \\| quickly" in summary
    assert f"**Status:** succeeded · session `{outputs['session-id']}`" in summary
    assert "| greet | coder | succeeded |" in summary
    assert "**Files changed:** `hello.txt`" in summary


def test_a_run_that_cannot_start_reports_error_and_its_exit_code(action: dict[str, Any], repo: Path,
                                                                 tmp_path: Path) -> None:
    env = _github_env(tmp_path, TASK="anything", MODEL=MODEL, EXTRA_ARGS="-c no_such_key=1")
    outputs = _run_step(action, "run", env, repo)
    assert outputs["exit-code"] == "2"
    outputs = _run_step(action, "result", {**env, "EVENTS": outputs["events"]}, repo)
    assert (outputs["status"], outputs["session-id"]) == ("error", "")
    assert "**Status:** error" in (tmp_path / "summary.md").read_text()
    fail = next(s for s in action["runs"]["steps"] if s["name"].startswith("Fail when the task"))
    assert fail["if"] == "steps.run.outputs.exit-code != '0' && inputs.mode != 'review'"
    assert 'exit "$CODE"' in fail["run"]


def test_extra_args_are_split_not_evaluated(action: dict[str, Any], repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    env = _github_env(tmp_path, TASK="anything", EXTRA_ARGS=f"--max-parallel $(touch {marker})")
    outputs = _run_step(action, "run", env, repo)
    assert outputs["exit-code"] == "2"  # argparse: "$(touch" is not a number, it was never run
    assert not marker.exists()
    proc = _exec_step(action, "run", {**env, "EXTRA_ARGS": "'unbalanced"}, repo)
    assert proc.returncode != 0 and "No closing quotation" in proc.stderr  # the step fails instead of guessing
