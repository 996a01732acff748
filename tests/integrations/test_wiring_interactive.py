"""The interactive run on a real terminal (a pty): "always allow" of a command writes the rule into the rules file of
the project the run works in (``-C DIR``), not of the directory orchestrate was started from; an untrusted MCP
server's tool call is asked for, and once allowed its result reaches the coder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestrator.testing import command_step_replies, scripted_role_args
from tests.integrations.conftest import ECHO_SERVER, REPO_ROOT
from tests.integrations.wiring_models import PING
from tests.support import converse, make_repo


def _scripts(tmp: Path) -> list[str]:
    # The coder's first draft (plain text) writes nothing here; then its actions.
    replies = command_step_replies("touch made.txt", "made.txt")
    return scripted_role_args(tmp, replies)


def test_always_allow_writes_the_rule_into_the_run_projects_rules(tmp_path: Path, orchestrate_home: Path) -> None:
    project = make_repo(tmp_path / "project", {"README.md": "demo\n"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ORCHESTRATE_HOME": str(orchestrate_home), "TERM": "dumb",
           "COLUMNS": "200"}
    argv = [sys.executable, "-m", "orchestrator", "run", "-C", str(project), "-a", "untrusted",
            "-c", "validate.commands=[]", *_scripts(tmp_path), "make made.txt"]
    answers = [(b"Run this plan?", b"a\r"), (b"Choice", b"a\r"), (b"Save the rule in", b"p\r"),
               (b"Apply this change", b"y\r")]
    status, shown = converse(argv, elsewhere, env, answers)
    assert status == 0, shown
    rules = project / ".orchestrate" / "rules" / "default.rules"
    assert rules.is_file(), shown
    assert '"touch"' in rules.read_text()
    assert not (elsewhere / ".orchestrate").exists()
    assert (project / "made.txt").exists()


def test_an_untrusted_mcp_servers_call_is_asked_for_on_the_terminal(tmp_path: Path, orchestrate_home: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("demo\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True)
    (orchestrate_home / "config.toml").write_text(
        f"[mcp_servers.echo]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(ECHO_SERVER))}]\n")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ORCHESTRATE_HOME": str(orchestrate_home), "TERM": "dumb",
           "COLUMNS": "200"}
    argv = [sys.executable, "-m", "orchestrator", "run", "-m", "function:tests.integrations.wiring_models:wired",
            "-c", "validate.commands=[]", "write seen.txt"]
    answers = [(b"Run this plan?", b"a\r"), (b"Call MCP tool?", b""), (b"Choice", b"y\r"),
               (b"Apply this change", b"y\r")]
    status, shown = converse(argv, project, env, answers)
    assert status == 0, shown
    assert "mcp echo echo" in shown
    assert (project / "seen.txt").read_text() == f"{PING}\n"
