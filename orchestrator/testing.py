"""Fake models for testing orchestrate, and your own profiles and prompts, without a real model.

Both fakes implement :class:`orchestrator.core.contracts.ChatModel`, record every :class:`ModelRequest` they receive
(for assertions) and report usage (words in the prompt and in the reply, times ``cost_per_token`` dollars) so accounting
and budgets are exercised::

    from orchestrator.testing import ScriptedModel, FunctionModel, gateway_for

    coder = ScriptedModel(['{"action": "finish", "summary": "done"}'])
    gateway = gateway_for(settings, {"coder": coder, "planner": FunctionModel(lambda req: plan_json)})
    ...
    assert coder.requests[0].messages[-1].content.startswith("Task:")

From configuration (e.g. a CLI run in a test), the model strings ``scripted:/path/replies.json`` (a JSON list of
replies, or ``{"replies": [...], "native_tools": true}``) and ``function:package.module:attr`` (a ``ChatModel``
instance, or a callable taking a ``ModelRequest``) select them: ``orchestrate exec -m scripted:/tmp/replies.json``.

A reply is a ``str`` (the content), a pydantic model (its JSON), a ``ModelResponse``, or a dict
``{"content": "...", "tool_calls": [{"name": ..., "arguments": {...}}]}``. A function may also raise
``orchestrator.models.gateway.TransientModelError`` to exercise retries.

Scripted UI ports answer a run's questions the way a person at the terminal would, and record what they were asked
(:class:`ScriptedApprover`, :class:`ScriptedPlanReviewer`, :class:`ScriptedDiffReviewer`,
:class:`ScriptedFailureHandler`, :class:`ScriptedCheckFixer`)::

    ports = UiPorts(approver=ScriptedApprover(["allow_once"]), diff_reviewer=ScriptedDiffReviewer([True]))
    orch = Orchestrator.from_config(loaded, interactive=True, ports=ports)
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestrator.core.contracts import (
    ROLES,
    ApprovalRequest,
    ApprovalResponse,
    ChatModel,
    DiffDecision,
    FailureDecision,
    Role,
    StepFailure,
)
from orchestrator.core.ports import PlanDecision
from orchestrator.models.fakes import FunctionModel, Reply, ScriptedModel, model_from_string, to_response
from orchestrator.models.gateway import CallCallback, ModelGateway, UsageCallback
from orchestrator.settings.schema import RoleConfig, Settings

__all__ = ["Reply", "ScriptedModel", "FunctionModel", "gateway_for", "model_from_string", "to_response",
           "ScriptedDiffReviewer", "ScriptedFailureHandler", "ScriptedApprover", "ScriptedPlanReviewer",
           "ScriptedCheckFixer", "command_step_replies", "scripted_role_args"]


class ScriptedDiffReviewer:
    """A ``DiffReviewer`` answering each diff with the next of ``answers`` (a ``DiffDecision`` or a bool), then
    ``apply``; ``diffs`` records the (step id, diff) pairs it was shown."""

    def __init__(self, answers: Sequence[DiffDecision | bool]) -> None:
        self.answers = list(answers)
        self.diffs: list[tuple[str, str]] = []

    async def review_diff(self, step: Any, diff: str) -> DiffDecision | bool:
        self.diffs.append((step.id, diff))
        return self.answers.pop(0) if self.answers else DiffDecision(kind="apply")


class ScriptedFailureHandler:
    """A ``StepFailureHandler`` answering each failure with the next of ``answers``, then ``skip``; ``failures``
    records what it was told."""

    def __init__(self, answers: Sequence[FailureDecision]) -> None:
        self.answers = list(answers)
        self.failures: list[StepFailure] = []

    async def on_step_failed(self, failure: StepFailure) -> FailureDecision:
        self.failures.append(failure)
        return self.answers.pop(0) if self.answers else FailureDecision(kind="skip")


class ScriptedApprover:
    """An ``Approver`` answering each request with the next of ``answers`` (an ``ApprovalResponse`` or its choice,
    e.g. ``"allow_once"``), then ``deny``; ``requests`` records what it was asked."""

    def __init__(self, answers: Sequence[ApprovalResponse | str] = ()) -> None:
        self.answers = list(answers)
        self.requests: list[ApprovalRequest] = []

    async def ask(self, request: ApprovalRequest) -> ApprovalResponse:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else "deny"
        return answer if isinstance(answer, ApprovalResponse) else ApprovalResponse.model_validate({"choice": answer})


class ScriptedPlanReviewer:
    """A ``PlanReviewer`` answering each plan with the next of ``answers``, then ``accept``; ``plans`` records the
    (plan, task) pairs it was shown."""

    def __init__(self, answers: Sequence[PlanDecision] = ()) -> None:
        self.answers = list(answers)
        self.plans: list[tuple[Any, str]] = []

    async def review_plan(self, plan: Any, task: str) -> PlanDecision:
        self.plans.append((plan, task))
        return self.answers.pop(0) if self.answers else PlanDecision("accept")


class ScriptedCheckFixer:
    """A ``CheckFixer`` answering each check that cannot start with the next of ``answers``, then "" (no checks);
    ``asked`` records the (command, reason) pairs."""

    def __init__(self, answers: Sequence[str] = ()) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, str]] = []

    async def fix_check(self, command: str, reason: str) -> str:
        self.asked.append((command, reason))
        return self.answers.pop(0) if self.answers else ""

def gateway_for(
    settings: Settings,
    model: ChatModel | Mapping[Role, ChatModel],
    *,
    environ: Mapping[str, str] | None = None,
    on_usage: UsageCallback | None = None,
    on_call: CallCallback | None = None,
) -> ModelGateway:
    """A real :class:`ModelGateway` whose roles talk to the given fakes (``on_usage``, ``on_call``: the gateway's).

    One model serves every role; a mapping serves the roles it names, the others keep their configured models.
    """
    gw_env = dict(os.environ if environ is None else environ)
    by_role: Mapping[Role, ChatModel] = {r: model for r in ROLES} if isinstance(model, ChatModel) else model
    names: dict[str, ChatModel] = {}
    roles: dict[Role, RoleConfig] = dict(settings.roles)
    for role, fake in by_role.items():
        label = fake.name if names.get(fake.name, fake) is fake else f"{fake.name}@{role}"
        names[label] = fake
        roles[role] = roles.get(role, RoleConfig()).model_copy(update={"model": label, "api_base": ""})
    configured = settings.model_copy(update={"roles": roles})

    def resolve(model_name: str, config: RoleConfig) -> ChatModel:
        if model_name in names:
            return names[model_name]
        from orchestrator.models.routing import resolve_model

        return resolve_model(model_name, config, settings=configured, environ=gw_env)

    from agents import prompts  # the product's own re-ask words (testing sits above agents in the layers)

    return ModelGateway(configured, reask=prompts.load("structured_reask"), environ=gw_env, resolve=resolve,
                        on_usage=on_usage, on_call=on_call)


def scripted_role_args(directory: Path, replies: Mapping[str, Sequence[Any]]) -> list[str]:
    """CLI options giving each role its scripted replies: writes ``directory/ROLE.json`` for each role of ``replies``
    and returns ``["--role-model", "ROLE=scripted:PATH", ...]`` (for a test or a demo that runs ``orchestrate``)."""
    args: list[str] = []
    for role, script in replies.items():
        path = directory / f"{role}.json"
        path.write_text(json.dumps(list(script)), encoding="utf-8")
        args += ["--role-model", f"{role}=scripted:{path}"]
    return args


def command_step_replies(command: str, made: str, *, verdict: str = "approve") -> dict[str, list[str]]:
    """Scripted replies for the smallest run that asks about a command: the planner plans one coder step "make
    ``made``", whose first draft writes nothing, then runs ``command`` and is done; the reviewer gives ``verdict``
    ("approve" or "request_changes") each time it is asked (for :func:`scripted_role_args`)."""
    plan = {"summary": "make", "steps": [{"id": "make", "role": "coder", "goal": f"make {made}", "files": [made]}]}
    review = {"checklist": [{"requirement": f"make {made}", "done": verdict == "approve"}], "comments": [],
              "verdict": verdict}
    return {
        "planner": [json.dumps(plan)],
        "coder": [f"No code to write: {made} is made by a command.", json.dumps({"action": "run", "command": command}),
                  json.dumps({"action": "done", "summary": f"made {made}"})],
        "reviewer": [json.dumps(review)] * 3,
    }
