"""CommandRunner: every path (allow, prompt→approve, prompt→deny, forbidden, sandbox denial→retry) and its events."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.core.contracts import ApprovalResponse
from orchestrator.core.events import CommandDecided, CommandExecuted, ListSink
from orchestrator.engine.commands import CommandRunner
from orchestrator.settings.schema import Settings
from policies.amend import append_allow_rule
from policies.sandbox import build_sandbox, policy_for
from tests.agents.doubles import HostSandbox, ScriptedApprover, WordGate

pytestmark = pytest.mark.anyio


def _runner(gate: WordGate, approver: ScriptedApprover, sandbox: HostSandbox, events: ListSink,
            persisted: list[tuple[tuple[str, ...], str | None]] | None = None, **settings: object) -> CommandRunner:
    sink = persisted if persisted is not None else []
    return CommandRunner(gate=gate, approver=approver, sandbox=sandbox, settings=Settings(**settings), events=events,
                         persist_rule=lambda p, f: sink.append((tuple(p), f)), policy_for=policy_for)


def _types(events: ListSink) -> list[str]:
    return [e.type for e in events.events]


async def test_allowed_command_runs_in_the_sandbox_and_reports(tmp_path: Path) -> None:
    events, sandbox = ListSink(), HostSandbox()
    runner = _runner(WordGate(), ScriptedApprover(), sandbox, events)
    outcome = await runner.run("s1", "echo hello > out.txt && cat out.txt", cwd=tmp_path, workspace=tmp_path,
                               timeout_s=30)
    assert outcome.ok and outcome.exit_code == 0 and "hello" in outcome.output
    assert (tmp_path / "out.txt").read_text() == "hello\n"
    assert _types(events) == ["command.decided", "command.executed"]
    executed = events.events[1]
    assert isinstance(executed, CommandExecuted)
    assert executed.argv == ("bash", "-c", "echo hello > out.txt && cat out.txt")
    assert (executed.step_id, executed.decision, executed.sandbox, executed.exit_code) == ("s1", "allow", "test", 0)
    assert sandbox.policies[0].mode == "workspace-write" and sandbox.policies[0].workspace == tmp_path
    assert "[exit code 0]" in outcome.observation()


async def test_failing_command_is_an_observation_with_its_exit_code(tmp_path: Path) -> None:
    runner = _runner(WordGate(), ScriptedApprover(), HostSandbox(), ListSink())
    outcome = await runner.run("s1", "echo oops >&2; exit 3", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.exit_code == 3 and not outcome.ok and not outcome.refused
    assert "oops" in outcome.observation() and "[exit code 3]" in outcome.observation()


async def test_prompt_approved_once_runs_and_is_not_remembered(tmp_path: Path) -> None:
    gate, events = WordGate({"touch": "prompt"}), ListSink()
    approver = ScriptedApprover(ApprovalResponse(choice="allow_once"))
    runner = _runner(gate, approver, HostSandbox(), events)
    outcome = await runner.run("s1", "touch made", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.ok and (tmp_path / "made").exists()
    assert approver.requests[0].argv == ("bash", "-c", "touch made") and not approver.requests[0].retry_unsandboxed
    assert gate.session == []
    decided, executed = events.events
    assert isinstance(decided, CommandDecided) and decided.decision == "prompt"
    assert decided.rules and decided.reason == "touch: prompt"
    assert isinstance(executed, CommandExecuted) and executed.decision == "prompt"


async def test_prompt_allowed_for_session_is_remembered_by_the_gate(tmp_path: Path) -> None:
    gate = WordGate({"touch": "prompt"})
    approver = ScriptedApprover(ApprovalResponse(choice="allow_session"))
    runner = _runner(gate, approver, HostSandbox(), ListSink())
    await runner.run("s1", "touch a", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    second = await runner.run("s1", "touch b", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert gate.session == [("touch",)] and second.decision == "allow" and len(approver.requests) == 1


async def test_prompt_allowed_always_persists_a_rule(tmp_path: Path) -> None:
    persisted: list[tuple[tuple[str, ...], str | None]] = []
    gate = WordGate({"touch": "prompt"})
    approver = ScriptedApprover(ApprovalResponse(choice="allow_always", rules_file="/r/default.rules"))
    runner = _runner(gate, approver, HostSandbox(), ListSink(), persisted)
    assert (await runner.run("s1", "touch a", cwd=tmp_path, workspace=tmp_path, timeout_s=30)).ok
    assert persisted == [(("touch",), "/r/default.rules")] and gate.session == [("touch",)]


async def test_prompt_denied_is_a_refusal_carrying_the_users_message(tmp_path: Path) -> None:
    events = ListSink()
    approver = ScriptedApprover(ApprovalResponse(choice="deny", message="use the tmp dir instead"))
    runner = _runner(WordGate({"rm": "prompt"}), approver, HostSandbox(), events)
    (tmp_path / "keep").write_text("x")
    outcome = await runner.run("s1", "rm keep", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.refused and outcome.exit_code is None and (tmp_path / "keep").exists()
    assert "use the tmp dir instead" in outcome.observation() and "NOT RUN" in outcome.observation()
    assert _types(events) == ["command.decided"]


async def test_forbidden_command_never_reaches_approver_or_sandbox(tmp_path: Path) -> None:
    events, sandbox = ListSink(), HostSandbox()
    runner = _runner(WordGate({"curl": "forbidden"}), ScriptedApprover(), sandbox, events)
    outcome = await runner.run("s1", "curl http://example.com", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.refused and outcome.decision == "forbidden" and sandbox.policies == []
    assert "forbidden by policy" in outcome.observation()
    assert _types(events) == ["command.decided"]
    assert isinstance(events.events[0], CommandDecided) and events.events[0].decision == "forbidden"


async def test_sandbox_denial_under_on_failure_asks_and_retries_unconfined(tmp_path: Path) -> None:
    events, sandbox = ListSink(), HostSandbox(blocked_words=["needs-host"])
    approver = ScriptedApprover(ApprovalResponse(choice="allow_once"))
    runner = _runner(WordGate(), approver, sandbox, events, approval_policy="on-failure")
    outcome = await runner.run("s1", "echo needs-host", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.ok and not outcome.denied and outcome.sandbox == "none"
    assert approver.requests[0].retry_unsandboxed
    assert [p.mode for p in sandbox.policies] == ["workspace-write", "danger-full-access"]
    executed = [e for e in events.events if isinstance(e, CommandExecuted)]
    assert [(e.sandbox, e.exit_code, e.decision) for e in executed] == [("test", 1, "allow"), ("none", 0, "prompt")]


async def test_sandbox_denial_retry_declined_reports_the_denial(tmp_path: Path) -> None:
    approver = ScriptedApprover(ApprovalResponse(choice="deny"))
    sandbox = HostSandbox(blocked_words=["needs-host"])
    runner = _runner(WordGate(), approver, sandbox, ListSink(), approval_policy="on-failure")
    outcome = await runner.run("s1", "echo needs-host", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.denied and outcome.exit_code == 1 and len(sandbox.policies) == 1
    assert "blocked by the sandbox" in outcome.observation() and "EROFS" in outcome.observation()


async def test_sandbox_denial_under_on_request_is_not_retried(tmp_path: Path) -> None:
    sandbox = HostSandbox(blocked_words=["needs-host"])
    runner = _runner(WordGate(), ScriptedApprover(), sandbox, ListSink(), approval_policy="on-request")
    outcome = await runner.run("s1", "echo needs-host", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.denied and len(sandbox.policies) == 1


async def test_bypass_verdict_runs_unconfined_without_asking(tmp_path: Path) -> None:
    class BypassGate(WordGate):
        def evaluate(self, argv, *, cwd):  # type: ignore[no-untyped-def]
            return super().evaluate(argv, cwd=cwd).model_copy(update={"bypass_sandbox": True})

    sandbox = HostSandbox(blocked_words=["needs-host"])
    opted_in = Settings(sandbox={"unconfined_prefixes": [["echo"]]})
    runner = CommandRunner(gate=BypassGate(), approver=ScriptedApprover(), sandbox=sandbox, settings=opted_in,
                           events=ListSink(), policy_for=policy_for, persist_rule=append_allow_rule)
    outcome = await runner.run("s1", "echo needs-host", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.ok and [p.mode for p in sandbox.policies] == ["danger-full-access"]
    # Without the user's opt-in a bypass verdict still runs sandboxed (a gate alone cannot unconfine a command).
    sandbox = HostSandbox(blocked_words=["needs-host"])
    runner = _runner(BypassGate(), ScriptedApprover(), sandbox, ListSink())
    outcome = await runner.run("s1", "echo needs-host", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.denied and [p.mode for p in sandbox.policies] == ["workspace-write"]


async def test_timeout_is_reported(tmp_path: Path) -> None:
    runner = _runner(WordGate(), ScriptedApprover(), HostSandbox(), ListSink())
    outcome = await runner.run("s1", "sleep 5", cwd=tmp_path, workspace=tmp_path, timeout_s=0.2)
    assert outcome.timed_out and not outcome.ok and "timed out" in outcome.observation()


@pytest.mark.sandbox
async def test_real_sandbox_denial_is_detected_and_offered_for_an_unconfined_retry(tmp_path: Path) -> None:
    settings = Settings(approval_policy="on-failure")
    events = ListSink()
    approver = ScriptedApprover(ApprovalResponse(choice="deny", message="keep it confined"))
    runner = CommandRunner(gate=WordGate(), approver=approver, sandbox=build_sandbox(settings), settings=settings,
                           events=events, policy_for=policy_for, persist_rule=append_allow_rule)
    inside = await runner.run("s1", "echo ok > inside.txt", cwd=tmp_path, workspace=tmp_path, timeout_s=60)
    assert inside.ok and (tmp_path / "inside.txt").read_text() == "ok\n" and inside.sandbox not in ("", "none")
    outside = await runner.run("s1", "touch /etc/orchestrate-agents-probe", cwd=tmp_path, workspace=tmp_path,
                               timeout_s=60)
    assert outside.denied and not outside.ok and outside.exit_code not in (0, None)
    assert approver.requests[0].retry_unsandboxed and "orchestrate-agents-probe" not in os.listdir("/etc")
    assert "blocked by the sandbox" in outside.observation()
    executed = [e for e in events.events if isinstance(e, CommandExecuted)]
    assert len(executed) == 2 and all(e.sandbox == inside.sandbox for e in executed)


@pytest.mark.sandbox
@pytest.mark.parametrize("approval", ["on-request", "never"])
async def test_real_gate_and_sandbox_allow_prompt_and_refuse(tmp_path: Path, approval: str) -> None:
    from orchestrator.settings.home import Home
    from orchestrator.workspace.gitrun import committed_files
    from policies.gate import build_gate

    settings = Settings(approval_policy=approval)
    gate = build_gate(settings, home=Home.from_env(), cwd=tmp_path, project_root=tmp_path, trusted=False,
                      committed=committed_files)
    events = ListSink()
    approver = ScriptedApprover(ApprovalResponse(choice="deny", message="not now"))
    runner = CommandRunner(gate=gate, approver=approver, sandbox=build_sandbox(settings), settings=settings,
                           events=events, policy_for=policy_for, persist_rule=append_allow_rule)
    harmless = await runner.run("s1", "echo hi", cwd=tmp_path, workspace=tmp_path, timeout_s=60)
    assert harmless.ok and "hi" in harmless.output
    push = await runner.run("s1", "git push --force origin main", cwd=tmp_path, workspace=tmp_path, timeout_s=60)
    assert push.refused and push.exit_code is None
    if approval == "never":
        assert push.decision == "forbidden" and approver.requests == []
    else:
        assert push.decision == "prompt" and "not now" in push.observation()
    decided = [e for e in events.events if isinstance(e, CommandDecided)]
    assert [d.decision for d in decided] == ["allow", push.decision] and decided[1].rules
    assert len([e for e in events.events if isinstance(e, CommandExecuted)]) == 1
