"""Directory trust in a run: the first interactive run in an unknown directory asks (and then loads what the answer
allows); an untrusted project's skipped rules are named in a note, a trusted project's rules apply (issue 3)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli
from tests.support import converse

REPO = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path, *, config: str | None = None) -> Path:
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / ".orchestrate" / "rules").mkdir(parents=True)
    (project / ".orchestrate" / "rules" / "team.rules").write_text('prefix_rule(pattern=["ls"], decision="allow")\n')
    if config is not None:
        (project / ".orchestrate" / "config.toml").write_text(config)
    return project.resolve()


def test_untrusted_rules_only_project_is_named_in_a_note(tmp_path: Path, orchestrate_home: Path) -> None:
    project = _project(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(out=Console(file=out, width=400), err=Console(file=err, width=400), environ=dict(os.environ))
    assert cli(["execpolicy", "check", "--shell", "-C", str(project), "--", "ls"], ctx) == 0
    notes = [line for line in err.getvalue().splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "not trusted" in notes[0] and ".orchestrate/rules" in notes[0], err.getvalue()
    assert "allowed by rule" not in out.getvalue()  # the project's allow rule was not loaded
    (orchestrate_home / "config.toml").write_text(f'[projects."{project}"]\ntrust_level = "trusted"\n')
    out2, err2 = io.StringIO(), io.StringIO()
    ctx2 = CliContext(out=Console(file=out2, width=400), err=Console(file=err2, width=400), environ=dict(os.environ))
    assert cli(["execpolicy", "check", "--shell", "-C", str(project), "--", "ls"], ctx2) == 0
    assert "note:" not in err2.getvalue() and "team.rules:1" in out2.getvalue()
    assert '"bypass_sandbox":false' in out2.getvalue()  # an allow rule runs it without asking, in the sandbox


def test_first_interactive_run_in_an_unknown_directory_asks_then_loads_the_trusted_config(
    tmp_path: Path, orchestrate_home: Path
) -> None:
    # The project config is broken on purpose: once trusted it is loaded, so the run stops at it (exit 2 naming it),
    # which proves the answer took effect before anything else happened.
    project = _project(tmp_path, config="no_such_key = 1\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "ORCHESTRATE_HOME": str(orchestrate_home), "TERM": "dumb"}
    status, shown = converse([sys.executable, "-m", "orchestrator", "run", "say hi"], project, env,
                             [(b"Trust this project?", b"y\r")], timeout_s=120)
    assert "has not seen before" in shown, shown
    projects = tomllib.loads((orchestrate_home / "config.toml").read_text())["projects"]
    assert projects[str(project)] == {"trust_level": "trusted"}
    assert status == 2 and "config.toml" in shown and "no_such_key" in shown, shown


def test_exec_never_asks(tmp_path: Path, orchestrate_home: Path) -> None:
    project = _project(tmp_path, config="no_such_key = 1\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "ORCHESTRATE_HOME": str(orchestrate_home)}
    proc = subprocess.run([sys.executable, "-m", "orchestrator", "exec", "-m", "bogus", "x"], cwd=project,
                          env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert "Trust this project?" not in proc.stdout + proc.stderr
    assert "is not trusted" in proc.stderr and "no_such_key" not in proc.stderr  # undecided = untrusted, not loaded
    assert not (orchestrate_home / "config.toml").exists()
