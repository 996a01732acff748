"""The front end passes its UI ports in (issue 13): :meth:`Orchestrator.from_config` with scripted ports asks them,
and only them, every question of a real run (the command approval, the plan, the diff, a failed step), and compose
wires each port where it belongs (a check that cannot start, the ``approval_policy = "never"`` diff rule)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.api import Orchestrator
from orchestrator.compose import build_collaborators, load_config
from orchestrator.core.events import ListSink
from orchestrator.core.ports import UiPorts
from orchestrator.engine.emitter import SessionEvents
from orchestrator.settings.config import CliOverrides, LoadedConfig
from orchestrator.settings.home import Home
from orchestrator.testing import (
    ScriptedApprover,
    ScriptedCheckFixer,
    ScriptedDiffReviewer,
    ScriptedFailureHandler,
    ScriptedPlanReviewer,
    command_step_replies,
    scripted_role_args,
)
from tests.support import make_repo

pytestmark = pytest.mark.anyio
def _loaded(tmp: Path, home: Path, repo: Path, *overrides: str,
            verdict: str = "approve") -> tuple[LoadedConfig, dict[str, str]]:
    """A project whose one step makes made.txt by running ``touch`` (asked about under ``-a untrusted``), then is
    given ``verdict`` by the reviewer."""
    roles = scripted_role_args(tmp, command_step_replies("touch made.txt", "made.txt", verdict=verdict))[1::2]
    env = {**os.environ, "ORCHESTRATE_HOME": str(home)}
    cli = CliOverrides(role_models=tuple(roles), approval_policy="untrusted",
                       overrides=("validate.commands=[]", *overrides))
    return load_config(cwd=repo, cli=cli, home=Home(home), environ=env), env


async def test_a_run_asks_the_ports_it_is_given(tmp_path: Path, orchestrate_home: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "demo\n"})
    loaded, env = _loaded(tmp_path, orchestrate_home, repo)
    approver, plans = ScriptedApprover(["allow_once"]), ScriptedPlanReviewer()
    diffs, failures, seen = ScriptedDiffReviewer([True]), ScriptedFailureHandler([]), ListSink()
    ports = UiPorts(approver=approver, plan_reviewer=plans, diff_reviewer=diffs, failure_handler=failures,
                    events=seen)
    caller = ListSink()
    orch = Orchestrator.from_config(loaded, interactive=True, events=caller, cwd=repo, environ=env, ports=ports)
    try:
        result = await orch.run("make made.txt")
    finally:
        await orch.aclose()
    assert result.status == "succeeded", result.reasons
    assert [r.argv[-1] for r in approver.requests] == ["touch made.txt"]
    assert [task for _, task in plans.plans] == ["make made.txt"]
    assert [step for step, _ in diffs.diffs] == ["make"] and "made.txt" in diffs.diffs[0][1]
    assert failures.failures == []
    assert (repo / "made.txt").exists()
    # The front end's sink and the caller's each get every event.
    assert [e.type for e in seen.events] == [e.type for e in caller.events]
    assert seen.events[-1].type == "session.completed"


async def test_a_failed_step_goes_to_the_failure_handler_given(tmp_path: Path, orchestrate_home: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "demo\n"})
    loaded, env = _loaded(tmp_path, orchestrate_home, repo, "review.max_rounds=1", verdict="request_changes")
    failures = ScriptedFailureHandler([])  # skip
    ports = UiPorts(approver=ScriptedApprover(["allow_once"]), failure_handler=failures)
    orch = Orchestrator.from_config(loaded, interactive=False, cwd=repo, environ=env, ports=ports)
    try:
        result = await orch.run("make made.txt")
    finally:
        await orch.aclose()
    assert result.status == "failed"
    assert [f.step_id for f in failures.failures] == ["make"]  # asked once; "skip": the step stays failed
    assert result.steps == {"make": "failed"} and not (repo / "made.txt").exists()


async def test_without_ports_nobody_is_asked_and_the_command_is_denied(tmp_path: Path,
                                                                         orchestrate_home: Path) -> None:
    """``exec``: no ports, the non-interactive approver (unchanged): the command that needs approval is not run."""
    repo = make_repo(tmp_path / "repo", {"README.md": "demo\n"})
    loaded, env = _loaded(tmp_path, orchestrate_home, repo)
    sink = ListSink()
    orch = Orchestrator.from_config(loaded, interactive=False, events=sink, cwd=repo, environ=env)
    try:
        await orch.run("make made.txt")
    finally:
        await orch.aclose()
    assert not (repo / "made.txt").exists()
    refused = [e for e in sink.events if e.type == "command.refused"]
    assert len(refused) == 1 and "non-interactive session cannot ask" in refused[0].reason  # type: ignore[attr-defined]


def test_compose_wires_each_port_where_it_belongs(tmp_path: Path, orchestrate_home: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "demo\n"})
    fixer, diffs, failures = ScriptedCheckFixer(), ScriptedDiffReviewer([]), ScriptedFailureHandler([])
    ports = UiPorts(diff_reviewer=diffs, failure_handler=failures, check_fixer=fixer)
    loaded, env = _loaded(tmp_path, orchestrate_home, repo)
    parts = build_collaborators(loaded, cwd=repo, events=SessionEvents(), environ=env, ports=ports)
    assert parts["checks"].fixer is fixer  # type: ignore[attr-defined]
    assert parts.get("diff_reviewer") is diffs and parts.get("failure_handler") is failures
    assert "plan_reviewer" not in parts
    never, _ = _loaded(tmp_path, orchestrate_home, repo, 'approval_policy="never"')
    parts = build_collaborators(never, cwd=repo, events=SessionEvents(), environ=env, ports=ports)
    assert "diff_reviewer" not in parts  # "never ask": the diff is not asked about either (as before)
