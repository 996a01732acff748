"""Approvers: the console prompt's four answers, and the non-interactive denial."""

from __future__ import annotations

import io
from pathlib import Path

import anyio
import pytest
from rich.console import Console

from orchestrator.core.contracts import ApprovalRequest, Approver, GateVerdict
from orchestrator.settings.home import Home
from orchestrator.terminal.approver import ConsoleApprover
from policies.amend import append_allow_rule
from policies.approval import NonInteractiveApprover
from policies.gate import Gate
from policies.policy import Policy


def _request(amendment: tuple[str, ...] | None = ("cargo", "build")) -> ApprovalRequest:
    verdict = GateVerdict(decision="prompt", commands=(("cargo", "build", "-q"),), reason="needs approval",
                          proposed_amendment=amendment)
    return ApprovalRequest(step_id="s1", argv=("bash", "-lc", "cargo build -q"), cwd="/w", verdict=verdict)


def _approver(
    answers: str, tmp_path: Path, home: Path, gate: Gate | None = None
) -> tuple[ConsoleApprover, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    approver = ConsoleApprover(console, home=Home(home), project_root=tmp_path, gate=gate, stream=io.StringIO(answers))
    return approver, out


@pytest.mark.parametrize(("answer", "choice"), [("y\n", "allow_once"), ("s\n", "allow_session")])
def test_console_allow_once_and_session(answer: str, choice: str, tmp_path: Path, orchestrate_home: Path) -> None:
    approver, out = _approver(answer, tmp_path, orchestrate_home)
    response = anyio.run(approver.ask, _request())
    assert response.choice == choice
    text = out.getvalue()
    assert "cargo build -q" in text and "needs approval" in text and "always allow `cargo build`" in text


def test_console_deny_carries_the_message(tmp_path: Path, orchestrate_home: Path) -> None:
    approver, _ = _approver("n\nuse make instead\n", tmp_path, orchestrate_home)
    response = anyio.run(approver.ask, _request())
    assert response.choice == "deny" and response.message == "use make instead"


def test_console_always_names_the_chosen_rules_file(tmp_path: Path, orchestrate_home: Path) -> None:
    approver, _ = _approver("a\np\n", tmp_path, orchestrate_home)
    response = anyio.run(approver.ask, _request())
    assert response.choice == "allow_always"
    assert response.rules_file == str(tmp_path / ".orchestrate" / "rules" / "default.rules")


def test_console_always_with_a_gate_writes_the_rule_and_applies_it(tmp_path: Path, orchestrate_home: Path) -> None:
    gate = Gate(Policy(), approval_policy="untrusted")
    approver, _ = _approver("a\nu\n", tmp_path, orchestrate_home, gate=gate)
    response = anyio.run(approver.ask, _request())
    rules = orchestrate_home / "rules" / "default.rules"
    assert response.rules_file == str(rules)
    assert rules.read_text() == 'prefix_rule(pattern=["cargo", "build"], decision="allow")\n'
    assert gate.evaluate(["cargo", "build", "-q"], cwd=tmp_path).decision == "allow"


def test_always_is_not_offered_without_a_proposal(tmp_path: Path, orchestrate_home: Path) -> None:
    approver, out = _approver("a\ny\n", tmp_path, orchestrate_home)
    response = anyio.run(approver.ask, _request(amendment=None))
    assert response.choice == "allow_once" and "always allow" not in out.getvalue()


def test_non_interactive_denies_with_an_explanation() -> None:
    approver: Approver = NonInteractiveApprover()
    response = anyio.run(approver.ask, _request())
    assert response.choice == "deny" and response.message and "needs approval" in response.message
    retry = _request().model_copy(update={"retry_unsandboxed": True})
    assert "sandbox" in (anyio.run(approver.ask, retry).message or "")


def test_persist_rule_defaults_to_the_user_rules_file(orchestrate_home: Path, tmp_path: Path) -> None:
    append_allow_rule(["make", "test"], None)
    assert (orchestrate_home / "rules" / "default.rules").read_text() == (
        'prefix_rule(pattern=["make", "test"], decision="allow")\n')
    append_allow_rule(["make"], str(tmp_path / "p.rules"))
    assert (tmp_path / "p.rules").read_text() == 'prefix_rule(pattern=["make"], decision="allow")\n'
