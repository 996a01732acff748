"""MCP in a real run: ``orchestrate exec`` starts the configured server (tests/integrations/mcp_echo_server.py), the
coder's MCP call goes through the approval policy, its result reaches the model, and the servers stop with the
session."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli
from orchestrator.mcp.session import mcp_decision
from orchestrator.settings.schema import Settings
from tests.integrations.conftest import ECHO_SERVER, REPO_ROOT
from tests.integrations.wiring_models import PING
from tests.support import make_repo

MODEL = "function:tests.integrations.wiring_models:wired"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project", {"README.md": "demo\n"})


def _configure(home: Path, *, trusted: bool) -> None:
    (home / "config.toml").write_text(
        f"[mcp_servers.echo]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(ECHO_SERVER))}]\n"
        f"trusted = {'true' if trusted else 'false'}\n")


def _exec(project: Path, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ORCHESTRATE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "orchestrator", "exec", "--json", "-m", MODEL, "-c",
                           "validate.commands=[]", *extra, "write seen.txt"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=240, check=False)


def _events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _mcp_decisions(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "command.decided" and e["argv"][:1] == ["mcp"]]


def test_a_trusted_servers_tool_result_reaches_the_coder(project: Path, orchestrate_home: Path) -> None:
    _configure(orchestrate_home, trusted=True)
    proc = _exec(project, orchestrate_home)
    assert proc.returncode == 0, proc.stderr
    assert (project / "seen.txt").read_text() == f"{PING}\n"  # what the model saw after its call
    decided = _mcp_decisions(_events(proc.stdout))
    assert [(d["argv"][1:3], d["decision"]) for d in decided] == [(["echo", "echo"], "allow")]
    assert json.loads(decided[0]["argv"][3]) == {"text": PING}


def test_native_tool_mode_offers_the_mcp_tools_as_tools(project: Path, orchestrate_home: Path) -> None:
    _configure(orchestrate_home, trusted=True)
    proc = _exec(project, orchestrate_home, "-c", 'models.tool_mode="native"')
    assert proc.returncode == 0, proc.stderr
    assert (project / "seen.txt").read_text() == f"{PING}\n"


def test_exec_refuses_an_untrusted_servers_call_and_tells_the_model(project: Path, orchestrate_home: Path) -> None:
    _configure(orchestrate_home, trusted=False)
    proc = _exec(project, orchestrate_home)
    assert proc.returncode == 0, proc.stderr
    seen = (project / "seen.txt").read_text()
    assert seen.startswith("NOT CALLED: MCP tool mcp__echo__echo") and PING not in seen
    assert [d["decision"] for d in _mcp_decisions(_events(proc.stdout))] == ["prompt"]


def test_without_servers_the_coder_has_no_mcp(project: Path, orchestrate_home: Path) -> None:
    proc = _exec(project, orchestrate_home)
    assert proc.returncode == 0, proc.stderr
    assert (project / "seen.txt").read_text() == "no mcp\n"
    assert not (orchestrate_home / "logs").exists()  # no server was started


def _echo_servers_of(pid: int) -> list[int]:
    """Live child processes of ``pid`` running the echo server."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z" and ECHO_SERVER.name in cmdline:
            found.append(int(entry.name))
    return found


def test_the_servers_stop_when_the_session_ends(project: Path, orchestrate_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(orchestrate_home, trusted=True)
    monkeypatch.chdir(project)
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(out=Console(file=out, width=200), err=Console(file=err, width=200), environ=dict(os.environ))
    argv = ["exec", "--json", "-m", MODEL, "-c", "validate.commands=[]", "write seen.txt"]
    status = cli(argv, ctx)
    assert status == 0, err.getvalue()
    assert (project / "seen.txt").read_text() == f"{PING}\n"  # the server did run, as a child of this process
    assert _echo_servers_of(os.getpid()) == []
    log = (orchestrate_home / "logs" / "mcp-echo.log").read_text()
    assert "--- orchestrate starts:" in log


@pytest.mark.parametrize(("policy", "sandbox", "trusted", "decision"), [
    ("on-request", "workspace-write", True, "allow"),
    ("on-request", "workspace-write", False, "prompt"),
    ("untrusted", "read-only", False, "prompt"),
    ("on-failure", "workspace-write", False, "prompt"),
    ("never", "workspace-write", False, "forbidden"),
    ("never", "danger-full-access", False, "allow"),
    ("never", "read-only", True, "allow"),
])
def test_mcp_decision_follows_the_approval_policy(policy: str, sandbox: str, trusted: bool, decision: str) -> None:
    settings = Settings.model_validate({"approval_policy": policy, "sandbox_mode": sandbox, "mcp_servers": {
        "echo": {"command": "x", "trusted": trusted}}})
    got, reason = mcp_decision(settings, "echo")
    assert got == decision
    assert reason
