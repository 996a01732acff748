"""The planner: a task (plus the repository's file tree and AGENTS.md) in, a validated :class:`Plan` out.

The plan comes from the planner model as structured output (the gateway re-asks while it does not validate as a
``Plan``); then the graph is checked (:func:`orchestrator.core.plan.validate_plan`: duplicate ids, unknown roles or
dependencies, cycles) and a bad plan is sent back with the problem, a bounded number of times. Given the project's
``root`` and the ``[planner]`` limits, a small task that names its files skips the model, and a drafted plan is
post-processed (paths repaired, a small plan merged into one step): :mod:`agents.plan_fixups`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agents import prompts
from agents.plan_fixups import fix_plan, one_step_plan
from memory import render_instructions
from orchestrator.core.contracts import MemoryContext, Message
from orchestrator.core.errors import ModelOutputError
from orchestrator.core.plan import Plan, PlanInvalid, validate_plan

if TYPE_CHECKING:
    from orchestrator.core.services import Gateway
    from orchestrator.settings.schema import PlannerConfig

__all__ = ["make_plan", "planner_messages"]


def planner_messages(task: str, *, memory: MemoryContext, repo_summary: str, cwd: Path | None = None,
                     history: str = "") -> list[Message]:
    """The planner's conversation: system prompt, the AGENTS.md instructions (if any), the session so far (a
    follow-up's ``history``: the earlier task, its steps and the files they changed), the task with the file tree."""
    messages = [Message(role="system", content=prompts.load("planner_system"))]
    instructions = render_instructions(memory, cwd or _docs_dir(memory))
    if instructions:
        messages.append(Message(role="user", content=instructions))
    if history:
        messages.append(Message(role="user", content=prompts.render("planner_history", history=history)))
    messages.append(Message(role="user", content=prompts.render("planner_task", task=task, repo=repo_summary)))
    return messages


def _docs_dir(memory: MemoryContext) -> Path:
    """The directory the instructions are for when the caller did not say: where the deepest project doc lives."""
    project = [s.path for s in memory.sources if s.scope == "project"]
    return project[-1].parent if project else Path.cwd()


async def make_plan(
    task: str,
    *,
    gateway: Gateway,
    memory: MemoryContext,
    repo_summary: str,
    max_attempts: int = 3,
    cwd: Path | None = None,
    root: Path | None = None,
    limits: PlannerConfig | None = None,
    history: str = "",
) -> Plan:
    """A plan that passes :func:`validate_plan`, re-asking the model with the problem up to ``max_attempts`` times.

    Raises :class:`~orchestrator.core.errors.ModelOutputError` naming the last problem when no attempt gives a valid
    plan (or when the model's output is not a plan at all after the gateway's own re-asks). With ``root`` (what
    ``repo_summary``'s paths are relative to) and ``limits``, the plan is post-processed (:mod:`agents.plan_fixups`).
    """
    known = [line for line in repo_summary.splitlines() if line.strip()]
    if root is not None and limits is not None:
        direct = one_step_plan(task, known=known, root=root, limits=limits)
        if direct is not None:
            return direct
    messages = planner_messages(task, memory=memory, repo_summary=repo_summary, cwd=cwd, history=history)
    problem = ""
    for _ in range(max_attempts):
        plan = await gateway.structured("planner", messages, Plan)
        try:
            validate_plan(plan)
        except PlanInvalid as exc:
            problem = exc.message
        else:
            return plan if root is None or limits is None else fix_plan(plan, task, known=known, root=root,
                                                                         limits=limits)
        messages += [
            Message(role="assistant", content=plan.model_dump_json()),
            Message(role="user", content=prompts.render("planner_invalid", problem=problem)),
        ]
    raise ModelOutputError(
        f"the planner model ({gateway.model_for('planner')}) gave no valid plan in {max_attempts} attempts: {problem}",
        hint="try again, rephrase the task, or configure a stronger [roles.planner] model",
    )
