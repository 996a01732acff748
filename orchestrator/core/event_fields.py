"""The value models events carry (:mod:`orchestrator.core.events` re-exports them): git state, a plan's steps, the
checks, usage totals. Frozen pydantic models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GitInfo", "PlanStepInfo", "CheckInfo", "UsageTotals"]


class GitInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    branch: str | None = None
    commit: str | None = None


class PlanStepInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    role: str
    goal: str
    depends_on: tuple[str, ...] = ()


class CheckInfo(BaseModel):
    """A check the validator runs and why it was chosen (``plan.created``'s ``checks``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    reason: str


class UsageTotals(BaseModel):
    """A session's token usage and cost, in total and per role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    by_role: dict[str, dict[str, float | int]] = Field(default_factory=dict)
