"""Follow-ups and retries of a stored session (``resume [--retry-failed] ["guidance"]``).

- :func:`resume_action` decides what a resume with ``--retry-failed`` and/or guidance does: continue as it stopped,
  retry the failed steps, or plan a follow-up (guidance after a session that succeeded).
- :func:`reopen_steps` makes failed and skipped steps pending again, with the user's guidance for their coder; their
  old conversation and staging are dropped (the retry starts the step over on today's tree) and their ``retries``
  count goes up, so the kept model replies of the failed attempt are not replayed to it
  (:class:`orchestrator.engine.session.StepScoped`).
- :func:`history` is what the planner of a follow-up is told: the original task, earlier follow-ups, every step
  with its outcome and the files it changed. :func:`followup_plan` renames the follow-up plan's steps ``fN.<id>``
  (they never clash with the old ones) and :func:`step_task` is the task a step's agents are given: the follow-up's
  request for its own steps, the session's task for the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from orchestrator.core.events import EventSink, PlanCreated, PlanStepInfo
from orchestrator.core.plan import Plan, Step, StepStatus
from orchestrator.store.sessions import SessionStore

__all__ = ["ResumeAction", "resume_action", "reopen_steps", "history", "followup_plan", "add_followup", "step_task"]

# "continue": run what is left; "retry": failed and skipped steps run again; "followup": plan new steps.
ResumeAction = Literal["continue", "retry", "followup"]


def resume_action(status: str, finished: Mapping[str, StepStatus] | None, *, retry_failed: bool,
                  guidance: str) -> ResumeAction:
    """What to do with a session in ``status`` given the resume's options; ``finished``: the final states of its
    steps when nothing is left to run (None or empty otherwise).

    Guidance implies ``--retry-failed`` when the session has failed steps (it is meant for them); after a session
    that finished and succeeded, guidance is a follow-up request. A finished session with nothing to retry and no
    guidance is ``continue`` (the caller reports that it finished).
    """
    if finished and status == "succeeded":
        return "followup" if guidance.strip() else "continue"
    if finished and all(s == "succeeded" for s in finished.values()):
        return "continue"  # nothing failed: nothing to retry
    if retry_failed or guidance.strip():
        return "retry"
    return "continue"


def reopen_steps(session: SessionStore, guidance: str) -> tuple[str, ...]:
    """Failed and skipped steps become pending with ``guidance`` (kept if empty); pending or interrupted steps get
    the guidance too. Returns the ids of the steps reopened. Persisted in one transaction."""
    reopened: list[str] = []
    plan = session.load_plan()
    with session.transaction():
        for step in plan.steps if plan is not None else ():
            record = session.step(step.id)
            if record.status in ("failed", "skipped"):
                session.set_step(record.model_copy(update={
                    "status": "pending", "reason": "", "summary": "", "files": (), "finished_at": None,
                    "retries": record.retries + 1, "guidance": guidance or record.guidance}))
                session.save_messages(step.id, [])
                session.set_staging(step.id, None)
                reopened.append(step.id)
            elif record.status in ("pending", "running") and guidance:
                session.set_step(record.model_copy(update={"guidance": guidance}))
    return tuple(reopened)


def history(session: SessionStore) -> str:
    """The session so far, for the follow-up's planner: its task, earlier follow-ups, its steps and their files."""
    plan = session.load_plan() or Plan(steps=())
    lines = [f"Original task: {session.meta.task}"]
    lines += [f"Follow-up {n}: {text}" for n, text in enumerate(session.meta.followups, 1)]
    lines.append("Steps done:")
    for step in plan.steps:
        record = session.step(step.id)
        files = f" (changed: {', '.join(record.files)})" if record.files else ""
        lines.append(f"- {step.id} [{step.role}, {record.status}] {step.goal}{files}")
    return "\n".join(lines)


def followup_plan(plan: Plan, number: int) -> Plan:
    """``plan`` with every step id (and dependency) prefixed ``f<number>.``."""
    prefix = f"f{number}."
    steps = tuple(step.model_copy(update={"id": prefix + step.id,
                                          "depends_on": tuple(prefix + d for d in step.depends_on)})
                  for step in plan.steps)
    return plan.model_copy(update={"steps": steps})


def add_followup(session: SessionStore, new: Plan, request: str, events: EventSink) -> Plan:
    """Record follow-up ``request`` with its plan ``new`` (ids renamed ``fN.*``) after the session's plan, and announce
    it (``plan.created`` with ``followup: N`` and only the new steps), in one transaction; the whole plan."""
    number = len(session.meta.followups) + 1
    new = followup_plan(new, number)
    old = session.load_plan() or Plan(steps=())
    plan = old.model_copy(update={"steps": (*old.steps, *new.steps)})
    with session.transaction():
        session.update_meta(followups=(*session.meta.followups, request))
        session.save_plan(plan)
        events.emit(PlanCreated(summary=new.summary, followup=number, steps=tuple(
            PlanStepInfo(id=s.id, role=s.role, goal=s.goal, depends_on=s.depends_on) for s in new.steps)))
    return plan


def step_task(task: str, followups: tuple[str, ...], step: Step) -> str:
    """The task ``step``'s agents work for: follow-up N's request for a step ``fN.*``, else the session's task."""
    head, dot, _ = step.id.partition(".")
    if dot and head[:1] == "f" and head[1:].isdigit() and 0 < int(head[1:]) <= len(followups):
        return followups[int(head[1:]) - 1]
    return task
