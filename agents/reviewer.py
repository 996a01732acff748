"""The reviewer: a typed verdict on one change, from the goal, the diff and the AGENTS.md instructions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from agents import prompts
from agents.tools import truncate
from orchestrator.core.contracts import Message

if TYPE_CHECKING:
    from orchestrator.core.services import Gateway

__all__ = ["ReviewVerdict", "ReviewReply", "CheckItem", "review_change"]


class ReviewVerdict(BaseModel):
    """Approve, or request changes with concrete comments (what and where).

    ``comments`` comes first and is required: under grammar-constrained output a model writes what it found *before*
    it commits to a verdict, which makes small reviewers noticeably less eager to approve an incomplete change.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    comments: list[str]
    verdict: Literal["approve", "request_changes"]

    @property
    def approved(self) -> bool:
        return self.verdict == "approve"


class CheckItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    requirement: str
    done: bool


class ReviewReply(BaseModel):
    """What the reviewer model fills in: a checklist of the goal's requirements, then comments, then the verdict.

    Enumerating the goal's parts first is what makes a small reviewer notice a change that does only half of it;
    an unmet requirement becomes a comment and turns the verdict into ``request_changes``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    checklist: list[CheckItem]
    comments: list[str]
    verdict: Literal["approve", "request_changes"]

    def to_verdict(self) -> ReviewVerdict:
        missing = [f"not done yet: {item.requirement}" for item in self.checklist if not item.done]
        comments = [c.strip() for c in self.comments if c.strip()] + missing
        verdict = "request_changes" if missing else self.verdict
        if verdict == "request_changes" and not comments:
            comments = [prompts.load("review_no_details")]
        return ReviewVerdict(comments=comments, verdict=verdict)


async def review_change(
    *,
    gateway: Gateway,
    task: str,
    goal: str,
    diff: str,
    instructions: str | None,
    max_diff_chars: int = 12000,
) -> ReviewVerdict:
    """Ask the reviewer model for a verdict on ``diff``. A request for changes always carries at least one comment.

    Raises :class:`~orchestrator.core.errors.ModelOutputError` when the model gives no valid verdict after the gateway's
    re-asks.
    """
    messages = [Message(role="system", content=prompts.load("reviewer_system"))]
    if instructions:
        messages.append(Message(role="user", content=instructions))
    shown = truncate(diff, max_diff_chars, what="the diff") if diff.strip() else "(no changes)"
    messages.append(Message(role="user", content=prompts.render("reviewer_task", task=task, goal=goal, diff=shown)))
    reply = await gateway.structured("reviewer", messages, ReviewReply)
    return reply.to_verdict()
