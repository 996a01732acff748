"""What a resumed session carries over from the process that ran it before: the approvals the user granted "for
this session" (through the real gate, approver and command runner) and the money spent (``budget_usd`` covers the
whole session, not just the resuming process)."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from rich.console import Console

from memory import build_memory
from orchestrator.api import Orchestrator, SessionEvents
from orchestrator.compose import usage_reporter
from orchestrator.core.contracts import Approver, Message, StepOutcome
from orchestrator.core.errors import BudgetExceededError
from orchestrator.core.events import ListSink
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.commands import CommandRunner
from orchestrator.engine.resume import BudgetGuard, SessionApprovals
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings
from orchestrator.terminal.approver import ConsoleApprover
from orchestrator.testing import FunctionModel, gateway_for
from orchestrator.workspace.gitrun import committed_files
from orchestrator.workspace.staging import Staging
from policies.amend import append_allow_rule
from policies.approval import NonInteractiveApprover
from policies.gate import build_gate
from policies.sandbox import build_sandbox, policy_for
from tests.engine.test_orchestrator_flow import _plan, fixed_planner

pytestmark = pytest.mark.anyio

PLAN = _plan(("a", ()), ("b", ("a",)))
StepBody = Callable[[Step, Staging, Any], Awaitable[None]]


class Steps:
    """A step function running ``body(step, staging, orchestrator-parts)``; step ``b`` hangs when ``hang_b``."""

    def __init__(self, body: StepBody, *, hang_b: bool) -> None:
        self.body, self.hang_b = body, hang_b
        self.in_b = anyio.Event()
        self.parts: Any = None

    async def __call__(self, step: Step, *, task: str, plan: Plan, staging: Staging, deps: Any,
                       checkpoint: Any = None) -> StepOutcome:
        if step.id == "b" and self.hang_b:
            self.in_b.set()
            await anyio.sleep_forever()
        await self.body(step, staging, deps)
        return StepOutcome(status="succeeded", summary=step.id)


def _build(repo: Path, home: Path, settings: Settings, steps: Steps, approver: Approver, *,
           sink: ListSink) -> Orchestrator:
    events = SessionEvents(sink, budget=BudgetGuard(settings.budget_usd))
    model = FunctionModel(lambda request: "ok", cost_per_token=0.1)
    gateway = gateway_for(settings, model, on_call=usage_reporter(events))
    approvals = SessionApprovals(build_gate(settings, home=Home(home), cwd=repo, project_root=repo, trusted=False,
                                            committed=committed_files))
    commands = CommandRunner(gate=approvals, approver=approver, sandbox=build_sandbox(settings), settings=settings,
                             events=events, policy_for=policy_for, persist_rule=append_allow_rule)
    return Orchestrator(settings=settings, cwd=repo, home=Home(home), gateway=gateway,
                        memory=build_memory(settings, Home(home)), planner=fixed_planner(PLAN), run_step=steps,
                        deps={"commands": commands, "gateway": gateway}, events=events, approvals=approvals)


async def _run_until_b(orch: Orchestrator, steps: Steps) -> str:
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(orch.run, "t")
            await steps.in_b.wait()
            scope.cancel()
    await orch.aclose()
    assert orch.session_id is not None
    return orch.session_id


async def test_approvals_for_this_session_survive_a_resume(bank_repo: Path, orchestrate_home: Path) -> None:
    settings = Settings(approval_policy="untrusted")
    outcomes: list[Any] = []

    async def touch(step: Step, staging: Staging, deps: Any) -> None:
        outcomes.append(await deps["commands"].run(step.id, "touch marker", cwd=staging.root,
                                                    workspace=staging.root, timeout_s=30))

    # first process: the user answers "s" (allow for this session) to `touch marker` in step a
    asker = ConsoleApprover(Console(file=io.StringIO()), home=Home(orchestrate_home), project_root=bank_repo,
                            stream=io.StringIO("s\n"))
    first = Steps(touch, hang_b=True)
    session_id = await _run_until_b(_build(bank_repo, orchestrate_home, settings, first, asker, sink=ListSink()), first)
    assert outcomes[0].exit_code == 0 and not outcomes[0].refused
    # second process: nobody can answer; the approval of `touch` still holds for this session's step b
    sink = ListSink()
    second = Steps(touch, hang_b=False)
    orch = _build(bank_repo, orchestrate_home, settings, second, NonInteractiveApprover(), sink=sink)
    result = await orch.resume(session_id)
    await orch.aclose()
    assert result.status == "succeeded"
    assert not outcomes[1].refused and outcomes[1].exit_code == 0
    assert [e.decision for e in sink.of_type("command.decided")] == ["allow"]  # type: ignore[union-attr]
    # a new session starts with no such approval
    outcomes.clear()
    fresh = Steps(touch, hang_b=False)
    orch = _build(bank_repo, orchestrate_home, settings, fresh, NonInteractiveApprover(), sink=ListSink())
    await orch.run("t")
    await orch.aclose()
    assert outcomes[0].refused


async def test_the_budget_counts_what_the_session_spent_before_the_resume(bank_repo: Path,
                                                                           orchestrate_home: Path) -> None:
    calls: list[str] = []

    async def ask_model(step: Step, staging: Staging, deps: Any) -> None:
        calls.append(step.id)
        await deps["gateway"].complete("coder", [Message(role="user", content="three word prompt")])

    # each call costs (3 prompt + 1 completion tokens) x $0.1 = $0.40
    first = Steps(ask_model, hang_b=True)
    session_id = await _run_until_b(_build(bank_repo, orchestrate_home, Settings(budget_usd=5.0), first,
                                           NonInteractiveApprover(), sink=ListSink()), first)
    # already spent $0.40 of a $0.30 budget: refused before any model call
    orch = _build(bank_repo, orchestrate_home, Settings(budget_usd=0.3), Steps(ask_model, hang_b=False),
                  NonInteractiveApprover(), sink=ListSink())
    with pytest.raises(BudgetExceededError, match=r"spent \$0\.4000"):
        await orch.resume(session_id)
    await orch.aclose()
    assert calls == ["a"]
    # $0.70: this process's one call ($0.40) is under it, the session's two ($0.80) are not
    orch = _build(bank_repo, orchestrate_home, Settings(budget_usd=0.7), Steps(ask_model, hang_b=False),
                  NonInteractiveApprover(), sink=ListSink())
    with pytest.raises(BudgetExceededError, match=r"spent \$0\.8000"):
        await orch.resume(session_id)
    await orch.aclose()
    assert calls == ["a", "b"]
