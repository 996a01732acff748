"""The start-up of ``run``/``exec``/``plan``: custom /prompts expand into the planner's input, an unknown one is one
line and exit 2, an untrusted project's config and rules are skipped with one ``note:`` line (never a question in
exec/plan), the gate's notices are shown, and the default-model line appears only when a role has no model."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.startup import load_run_config, startup_notes
from orchestrator.compose import load_config
from orchestrator.settings.home import Home
from tests.integrations.conftest import REPO_ROOT

MODEL = "function:tests.integrations.wiring_models:wired"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = tmp_path / "project"
    (repo / ".git").mkdir(parents=True)
    return repo.resolve()


def _cli(project: Path, home: Path, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ORCHESTRATE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "orchestrator", *argv], cwd=project, env=env, input=stdin,
                          capture_output=True, text=True, timeout=240, check=False,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def _plan_summary(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return str(json.loads(proc.stdout)["summary"])


def _notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("note:")]


def _write_prompt(directory: Path, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.md").write_text(text)


def test_a_custom_prompt_expands_into_the_planners_input(project: Path, orchestrate_home: Path) -> None:
    _write_prompt(orchestrate_home / "prompts", "review-pr",
                  "---\ndescription: review a PR\n---\nReview pull request #$1 with care.\n")
    summary = _plan_summary(_cli(project, orchestrate_home, "plan", "--json", "-m", MODEL, "/review-pr 12"))
    assert "Review pull request #12 with care." in summary
    assert "/review-pr" not in summary and "description:" not in summary


def test_plan_reads_a_slash_task_from_stdin_too(project: Path, orchestrate_home: Path) -> None:
    _write_prompt(orchestrate_home / "prompts", "fix", "Fix issue $1 now.")
    summary = _plan_summary(_cli(project, orchestrate_home, "plan", "--json", "-m", MODEL, "-", stdin="/fix 7"))
    assert "Fix issue 7 now." in summary


def test_exec_runs_the_expanded_prompt(project: Path, orchestrate_home: Path) -> None:
    _write_prompt(orchestrate_home / "prompts", "seen", "Write seen.txt for ticket $TICKET.")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True)
    (project / "README.md").write_text("demo\n")
    proc = _cli(project, orchestrate_home, "exec", "--json", "-m", MODEL, "-c", "validate.commands=[]",
                "/seen TICKET=AB-1")
    assert proc.returncode == 0, proc.stderr
    assert (project / "seen.txt").exists()
    sessions = json.loads(_cli(project, orchestrate_home, "sessions", "--json").stdout)
    assert sessions[0]["task"] == "Write seen.txt for ticket AB-1."


def test_an_unknown_prompt_is_one_line_and_exit_2(project: Path, orchestrate_home: Path) -> None:
    _write_prompt(orchestrate_home / "prompts", "review-pr", "Review #$1.")
    for command in (["plan", "--json"], ["exec", "--json"]):
        proc = _cli(project, orchestrate_home, *command, "-m", MODEL, "/nope 1")
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert "unknown prompt /nope" in lines[0] and "/review-pr" in lines[0]


def test_untrusted_project_config_rules_and_prompts_are_ignored_with_one_note(project: Path,
                                                                            orchestrate_home: Path) -> None:
    dot = project / ".orchestrate"
    (dot / "rules").mkdir(parents=True)
    (dot / "rules" / "team.rules").write_text('prefix_rule(pattern=["ls"], decision="allow")\n')
    (dot / "config.toml").write_text("no_such_key = 1\n")  # loading it would be exit 2
    _write_prompt(dot / "prompts", "team", "The team's prompt.")
    _write_prompt(orchestrate_home / "prompts", "team", "The user's prompt.")
    proc = _cli(project, orchestrate_home, "plan", "--json", "-m", MODEL, "/team")
    assert "The user's prompt." in _plan_summary(proc)
    notes = _notes(proc.stderr)
    assert len(notes) == 1, proc.stderr
    for part in (f"{project} is not trusted", ".orchestrate/config.toml", ".orchestrate/rules",
                 ".orchestrate/prompts", f"orchestrate trust {project}"):
        assert part in notes[0]
    assert "Trust this project?" not in proc.stderr
    assert not (orchestrate_home / "config.toml").exists()  # nothing was asked or recorded


def test_a_trusted_project_is_loaded_without_a_note(project: Path, orchestrate_home: Path) -> None:
    dot = project / ".orchestrate"
    (dot / "rules").mkdir(parents=True)
    (dot / "rules" / "team.rules").write_text('prefix_rule(pattern=["ls"], decision="allow")\n')
    _write_prompt(dot / "prompts", "team", "The team's prompt.")
    (orchestrate_home / "config.toml").write_text(f'[projects."{project}"]\ntrust_level = "trusted"\n')
    proc = _cli(project, orchestrate_home, "plan", "--json", "-m", MODEL, "/team")
    assert "The team's prompt." in _plan_summary(proc)
    assert _notes(proc.stderr) == []


def test_a_rules_only_untrusted_project_gets_the_gates_notice(project: Path, orchestrate_home: Path) -> None:
    (project / ".orchestrate" / "rules").mkdir(parents=True)
    (project / ".orchestrate" / "rules" / "a.rules").write_text('prefix_rule(pattern=["ls"], decision="allow")\n')
    proc = _cli(project, orchestrate_home, "plan", "--json", "-m", MODEL, "say hi")
    notes = _notes(proc.stderr)
    assert len(notes) == 1 and ".orchestrate/rules" in notes[0] and "config.toml" not in notes[0], proc.stderr


def test_startup_notes_show_other_gate_notices_once(project: Path, orchestrate_home: Path) -> None:
    loaded = load_config(cwd=project, home=Home(orchestrate_home), environ={})
    notes = startup_notes(loaded, ["rules file x.rules: 2 rules shadowed", "rules file x.rules: 2 rules shadowed"],
                          cwd=project)
    assert notes == ["rules file x.rules: 2 rules shadowed"]


def test_the_default_model_line_appears_once_and_only_for_unset_roles(project: Path, orchestrate_home: Path) -> None:
    partly = _cli(project, orchestrate_home, "plan", "--json", "--role-model", f"planner={MODEL}", "say hi")
    _plan_summary(partly)
    lines = [line for line in partly.stderr.splitlines() if line.startswith("model for ")]
    assert len(lines) == 1, partly.stderr
    assert lines[0].startswith("model for coder, reviewer, validator: local (")
    configured = _cli(project, orchestrate_home, "plan", "--json", "-m", MODEL, "say hi")
    _plan_summary(configured)
    assert "model for " not in configured.stderr


def test_no_question_without_a_terminal_on_stdin(project: Path, orchestrate_home: Path) -> None:
    (project / ".orchestrate").mkdir()
    (project / ".orchestrate" / "config.toml").write_text("max_parallel = 1\n")
    human = Console(file=io.StringIO(), force_terminal=True)  # a terminal for output; pytest's stdin is not one
    ctx = CliContext(out=human, err=human, environ={"ORCHESTRATE_HOME": str(orchestrate_home)})
    loaded = load_run_config(argparse.Namespace(cd=str(project)), ctx, ask=True, human=human)
    assert loaded.trust_level is None and loaded.settings.max_parallel != 1
    assert human.file.getvalue() == ""  # type: ignore[attr-defined]
    assert not (orchestrate_home / "config.toml").exists()
