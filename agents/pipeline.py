"""What the scheduler runs for one plan step: coder → reviewer → validator, with the feedback loops between them.

A **coder** step runs the coder in the step's staging root until it is done; the reviewer judges the diff (a request
for changes goes back to the coder, up to ``review.max_rounds`` verdicts); the approved diff is validated by the
project's checks (a failure goes back to the coder with the output tail, up to ``validate.max_rounds`` runs); a
change that is approved *and* passes is the step's outcome. A diff the coder changed after its approval is reviewed
again. With ``coder.candidates`` > 1 the first round samples several independent attempts, selected by the checks
(:mod:`agents.candidates`), before the review. A **reviewer** step judges the diff of the steps it depends on; a
**validator** step runs the checks on them. Nothing here touches the user's tree: the engine applies the outcome's diff.
The coder's strategy (:mod:`agents.strategy`) may skip the reviewer when checks judge the change; a coder step is
bounded by ``coder.step_timeout_s``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import anyio

from agents import prompts
from agents.activity import ReportedCommands, StepActivity
from agents.candidates import SAMPLING_TEMPERATURE, sample
from agents.checks import CheckFinder
from agents.coder import Coder
from agents.docs import StepDocs
from agents.guards import protected_tests
from agents.loop import Stalled, StepCheckpoint, TurnLimit
from agents.reviewer import ReviewVerdict, review_change
from agents.search import SearchBudget, search
from agents.strategy import choose_strategy
from agents.tools import ToolBox
from agents.validator import ValidationResult, run_checks
from orchestrator.core.contracts import Memory, StepOutcome
from orchestrator.core.errors import ModelOutputError
from orchestrator.core.events import EventSink, ReviewCompleted, ValidationCompleted
from orchestrator.core.plan import Plan, Step
from orchestrator.core.services import Commands, Gateway, McpTools, StagingTree
from orchestrator.settings.schema import Settings

__all__ = ["StepCheckpoint", "StepDeps", "StepOutcome", "run_step"]


@dataclass(frozen=True)
class StepDeps:
    """The session's collaborators a step uses."""

    settings: Settings
    gateway: Gateway
    commands: Commands
    memory: Memory
    events: EventSink
    cwd: Path  # the session's cwd (AGENTS.md composition); a staging root mirrors it
    checks: CheckFinder | None = None  # the run's checks (one interpreter probe a run); None: found per staging
    mcp: McpTools | None = None  # the session's MCP servers offered to the coders (None: no MCP tools)

    def for_step(self, step_id: str, reply_scope: str | None = None) -> StepDeps:
        """These deps as step ``step_id`` uses them (the engine's ``StepExecutor`` asks): the gateway's calls are made
        for the step, so its usage events and kept replies are the step's (``Gateway.for_step``)."""
        return replace(self, gateway=self.gateway.for_step(step_id, reply_scope))


async def run_step(
    step: Step, *, task: str, plan: Plan, staging: StagingTree, deps: StepDeps,
    checkpoint: StepCheckpoint | None = None, guidance: str = "",
) -> StepOutcome:
    """Run one plan step in ``staging`` (see the module docstring). Model garbage fails the step, not the session.
    ``guidance``, the user's words for a coder step, opens a fresh conversation's goal or is added to a saved one."""
    docs = StepDocs(deps.memory, deps.cwd, deps.events, step.id)
    deps = replace(deps, commands=ReportedCommands(deps.commands, deps.events))  # + command.refused events
    try:
        if step.role == "coder":
            return await _CoderStep(step, task=task, staging=staging, deps=deps, docs=docs, checkpoint=checkpoint,
                                    guidance=guidance).run()
        if step.role == "reviewer":
            return await _review_dependencies(step, task=task, plan=plan, staging=staging, deps=deps, docs=docs)
        return await _validate_dependencies(step, staging, deps)
    except ModelOutputError as exc:
        return StepOutcome(status="failed", reason=exc.message)


class _CoderStep:
    def __init__(self, step: Step, *, task: str, staging: StagingTree, deps: StepDeps, docs: StepDocs,
                 checkpoint: StepCheckpoint | None, guidance: str = "") -> None:
        self.step, self.task, self.staging, self.deps, self.docs = step, task, staging, deps, docs
        self.guidance = guidance
        self.checkpoint = checkpoint
        self.activity = StepActivity(deps.events, step.id)  # step.phase events for the live view
        settings = deps.settings
        self.strategy = choose_strategy(settings.coder.strategy, draft=settings.coder.draft,
                                        native_tools=deps.gateway.supports_native_tools("coder"))
        checks = [check.command for check in (deps.checks or CheckFinder(staging.root, settings)).find(staging.root)]
        # The check's test files (agents.guards): a coder that edits the tests that judge it proves nothing.
        self.protected = protected_tests(task, checks, staging.root)
        # When the task's own tests judge the change (protected), the strategy says whether a reviewer sees it too.
        self.reviewing = self.strategy.review_when_checked or not self.protected
        # Sampled candidates (agents.candidates) only on a fresh step: a resumed one continues its saved conversation.
        fresh = not (checkpoint and checkpoint.load())  # (read before the coder saves its first messages)
        self.candidates = deps.settings.coder.candidates if fresh else 1
        # The check-driven search (agents.search) when the task's own tests judge a fresh step of a drafting coder.
        self.searching = (self.strategy.check_search and bool(self.protected) and not self.reviewing
                          and self.candidates == 1 and fresh)
        self.coder, self.tools = self._make_coder(None, None, checkpoint if self.candidates == 1 else None)
        self.reviews = 0
        self.validations = 0
        self.checked: str | None = None  # a diff known to pass the checks (the chosen candidate's)

    def _make_coder(self, temperature: float | None, seed: int | None = None,
                    checkpoint: StepCheckpoint | None = None) -> tuple[Coder, ToolBox]:
        settings = self.deps.settings
        tools = ToolBox(root=self.staging.root, step_id=self.step.id, commands=self.deps.commands,
                        command_timeout_s=settings.coder.command_timeout_s, on_touch=self.docs.on_touch,
                        change_note=prompts.load("coder_after_change") if self.strategy.change_note else None,
                        mcp=self.deps.mcp,
                        protected=self.protected, on_action=self.activity.acted)
        coder = Coder(self.step, task=self.task, gateway=self.deps.gateway, settings=settings, tools=tools,
                      instructions=self.docs.instructions(self.step.files), checkpoint=checkpoint,
                      temperature=temperature, guidance=self.guidance, strategy=self.strategy, seed=seed)
        return coder, tools

    async def run(self) -> StepOutcome:
        limit = self.deps.settings.coder.step_timeout_s
        try:
            with anyio.move_on_after(limit or math.inf):
                return await self._run()
        except ChecksCannotStart as exc:  # no coder round can fix the environment
            return _failed(exc.message)
        return _failed(f"the coder step did not finish within coder.step_timeout_s = {limit:g} s")

    async def _run(self) -> StepOutcome:
        summary: str | None = None  # None: the coder (still) has to work
        if self.candidates > 1:
            picked = await self._sample()
            if isinstance(picked, StepOutcome):
                return picked
            summary = picked
        elif self.searching:
            found = await self._search()
            if isinstance(found, StepOutcome):
                return found
            summary = found
        approved: str | None = None
        while True:
            if summary is None:
                coded = await self._code()
                if isinstance(coded, StepOutcome):
                    return coded
                summary = coded
            diff = self.staging.diff()
            if diff != approved and self.reviewing:
                verdict = await self._review(diff)
                if not verdict.approved:
                    self.reviews += 1
                    if self.reviews >= self.deps.settings.review.max_rounds:
                        return _failed(f"the reviewer still requested changes after {self.reviews} rounds: "
                                       + "; ".join(verdict.comments))
                    self.coder.revise_after_review(verdict.comments)
                    summary = None
                    continue
                approved = diff
            if diff == self.checked:  # the chosen candidate's change, checked already
                return self._succeeded(summary, diff)
            result = await self._validate()
            if result.passed:
                return self._succeeded(summary, diff)
            failed = self._after_failed_checks(result)
            if failed is not None:
                return failed
            summary = None

    async def _code(self) -> str | StepOutcome:
        """One coder round: its summary, or the step's failure."""
        rounds = self.reviews + self.validations
        self.activity.phase("drafting", f"round {rounds + 1}" if rounds else "")
        try:
            return (await self.coder.run()).summary
        except TurnLimit as exc:
            return _failed(f"the coder did not finish within {exc.turns} turns")
        except Stalled as exc:
            # A small model often repeats its last edit instead of saying done: let the review and the checks
            # judge what it made. Nothing made is a failure.
            if not self.staging.diff().strip():
                return _failed(f"the coder stopped after {exc.doing} without changing anything")
            return f"stopped after {exc.doing}"

    async def _sample(self) -> str | StepOutcome | None:
        """Sampled candidates: the chosen one's summary (it passed the checks), ``None`` (it failed them and has the
        feedback), or the step's failure."""
        self.activity.phase("drafting", f"{self.candidates} candidates")
        attempt = await sample(self.candidates, staging=self.staging, make_coder=self._make_coder,
                               run_checks=self._validate, temperature=self.deps.settings.role("coder").temperature)
        self.coder, self.tools = attempt.coder, attempt.tools
        self.coder.attach(self.checkpoint)
        if attempt.checks is None:
            return _failed(attempt.failure)
        if attempt.passed:
            self.checked = attempt.diff
            return attempt.summary
        return self._after_failed_checks(attempt.checks)

    async def _search(self) -> str | StepOutcome | None:
        """The check-driven search: the summary of the candidate that passed (its change is left in the staging),
        the step's failure (the best candidate left in the staging), or ``None`` when no file can be drafted."""
        inputs = self.coder.draft_inputs(clip_tests=True)
        if inputs is None:
            return None
        coder = self.deps.settings.coder
        greedy = self.deps.settings.role("coder").temperature
        budget = SearchBudget(most=coder.search_drafts, greedy=greedy, patience=coder.search_patience,
                              temperature=max(greedy or 0.0, SAMPLING_TEMPERATURE))
        found = await search(
            gateway=self.deps.gateway, tools=self.tools, goal=inputs.goal, contents=inputs.contents,
            files=inputs.files, instructions=self.docs.instructions(self.step.files), run_checks=self._validate,
            budget=budget, on_candidate=lambda n, most: self.activity.phase("drafting", f"candidate {n} of {most}"),
            baseline=self._baseline)
        best = found.best
        if best is None:
            return _failed(f"none of {found.tried} drafts changed {', '.join(inputs.files)}")
        if found.passed:
            self.checked = self.staging.diff()
            return f"wrote {', '.join(best.files)} whole (candidate {best.index} of {found.tried} passed the checks)"
        return _failed(f"checks still fail after {found.checked} candidates ({found.tried} drafts): "
                       f"{', '.join(best.result.failing)}" + _last_lines(best.result.output_tail))

    def _after_failed_checks(self, result: ValidationResult) -> StepOutcome | None:
        """Count a failed validation; the step's failure, or ``None`` after sending the output back to the coder."""
        self.validations += 1
        if result.blocked:
            return _failed(f"a check could not run: {', '.join(result.failing)}")
        if self.validations >= self.deps.settings.validate_.max_rounds:
            rounds = f"{self.validations} round{'s' if self.validations != 1 else ''}"
            return _failed(f"checks still fail after {rounds}: {', '.join(result.failing)}"
                           + _last_lines(result.output_tail))
        self.coder.revise_after_checks(", ".join(result.failing), result.output_tail)
        return None

    def _succeeded(self, summary: str, diff: str) -> StepOutcome:
        return StepOutcome(status="succeeded", summary=summary, diff=diff, files=tuple(self.staging.changed_files()))

    async def _review(self, diff: str) -> ReviewVerdict:
        files = list(dict.fromkeys([*self.step.files, *self.tools.changed]))
        self.activity.phase("reviewing")
        verdict = await review_change(gateway=self.deps.gateway, task=self.task, goal=self.step.goal, diff=diff,
                                      instructions=self.docs.instructions(files))
        self.deps.events.emit(ReviewCompleted(step_id=self.step.id, verdict=verdict.verdict,
                                              comments=tuple(verdict.comments)))
        return verdict

    async def _baseline(self) -> ValidationResult:
        """The checks on the step's files as they are, for their time only (no validation event: nothing is judged)."""
        return await run_checks(self.step.id, self.staging.root, commands=self.deps.commands,
                                settings=self.deps.settings, finder=self.deps.checks)

    async def _validate(self, timeout_s: float | None = None) -> ValidationResult:
        return await _checks(self.step, self.staging, self.deps, timeout_s)


class ChecksCannotStart(Exception):
    """A check could not start (an environment error) and nobody replaced it: the step fails with ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def _checks(step: Step, staging: StagingTree, deps: StepDeps,
                  timeout_s: float | None = None) -> ValidationResult:
    """The checks' result (one validation.completed each run); raises :class:`ChecksCannotStart` for a check that
    cannot start, unless the user (interactive) replaces or drops it, and then checks again. ``timeout_s``: a bound
    on each check tighter than ``validate.timeout_s`` (None: that one)."""
    if timeout_s is not None:
        timeout_s = min(timeout_s, deps.settings.validate_.timeout_s)
    while True:
        StepActivity(deps.events, step.id).phase("checking")
        result = await run_checks(step.id, staging.root, commands=deps.commands, settings=deps.settings,
                                  finder=deps.checks, timeout_s=timeout_s)
        deps.events.emit(ValidationCompleted(step_id=step.id, passed=result.passed, output_tail=result.output_tail))
        broken = result.cannot_start
        if broken is None:
            return result
        if deps.checks is None or not await deps.checks.fix(broken.command, broken.environment):
            raise ChecksCannotStart(broken.environment)


async def _review_dependencies(
    step: Step, *, task: str, plan: Plan, staging: StagingTree, deps: StepDeps, docs: StepDocs
) -> StepOutcome:
    """A reviewer step: a verdict on what the steps it depends on changed (visible in its staging)."""
    goals = [f"{dep}: {plan.step(dep).goal}" for dep in step.depends_on]
    goal = step.goal + (f" (the changes were made for: {'; '.join(goals)})" if goals else "")
    changed = _cwd_relative(staging, staging.changed_files())
    StepActivity(deps.events, step.id).phase("reviewing")
    verdict = await review_change(gateway=deps.gateway, task=task, goal=goal, diff=staging.diff(),
                                  instructions=docs.instructions([*step.files, *changed]))
    deps.events.emit(ReviewCompleted(step_id=step.id, verdict=verdict.verdict, comments=tuple(verdict.comments)))
    if verdict.approved:
        return StepOutcome(status="succeeded", summary="approved")
    return _failed("the reviewer requested changes: " + "; ".join(verdict.comments))


async def _validate_dependencies(step: Step, staging: StagingTree, deps: StepDeps) -> StepOutcome:
    """A validator step: the project's checks on the state its dependencies left."""
    try:
        result = await _checks(step, staging, deps)
    except ChecksCannotStart as exc:
        return _failed(exc.message)
    if result.passed:
        return StepOutcome(status="succeeded", summary=f"checks passed: {len(result.checks)}")
    return _failed(f"checks failed: {', '.join(result.failing)}")


def _cwd_relative(staging: StagingTree, files: list[str]) -> list[str]:
    """Tree-relative paths (what git reports) as paths relative to the staging root (the session's cwd)."""
    prefix = staging.root.relative_to(staging.tree).as_posix()
    if prefix == ".":
        return files
    return [f[len(prefix) + 1 :] for f in files if f.startswith(prefix + "/")]


def _failed(reason: str) -> StepOutcome:
    return StepOutcome(status="failed", reason=reason)


def _last_lines(output: str, count: int = 5) -> str:
    """The last ``count`` non-blank lines of a check's output, each on its own line after the reason's first (the
    failure must show its cause: the full tail is in the validation.completed event)."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()][-count:]
    return "".join(f"\n{line}" for line in lines)
