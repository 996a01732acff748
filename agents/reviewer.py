"""The reviewer: a typed verdict on one change, from the goal, the diff and the AGENTS.md instructions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents import prompts
from agents.tools import truncate
from orchestrator.seams import Message

if TYPE_CHECKING:
    from orchestrator.gateway import ModelGateway

__all__ = ["ReviewVerdict", "review_change"]


class ReviewVerdict(BaseModel):
    """Approve, or request changes with concrete comments (what and where)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    verdict: Literal["approve", "request_changes"]
    comments: list[str] = Field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.verdict == "approve"


async def review_change(
    *,
    gateway: ModelGateway,
    task: str,
    goal: str,
    diff: str,
    instructions: str | None,
    max_diff_chars: int = 12000,
) -> ReviewVerdict:
    """Ask the reviewer model for a verdict on ``diff``. A request for changes always carries at least one comment.

    Raises :class:`~orchestrator.errors.ModelOutputError` when the model gives no valid verdict after the gateway's
    re-asks.
    """
    messages = [Message(role="system", content=prompts.load("reviewer_system"))]
    if instructions:
        messages.append(Message(role="user", content=instructions))
    shown = truncate(diff, max_diff_chars, what="the diff") if diff.strip() else "(no changes)"
    messages.append(Message(role="user", content=prompts.render("reviewer_task", task=task, goal=goal, diff=shown)))
    verdict = await gateway.structured("reviewer", messages, ReviewVerdict)
    comments = [c.strip() for c in verdict.comments if c.strip()]
    if not verdict.approved and not comments:
        comments = [prompts.load("review_no_details")]
    return verdict.model_copy(update={"comments": comments})
