"""The run's questions to the person at the terminal: the plan, each step's diff, a failed step, a check that
cannot start.

:class:`ConsoleReviewer` asks through the screen (:meth:`orchestrator.terminal.screen.LiveView.ask`: one question at
a time, the live region off the screen meanwhile, the other steps running on). Without a live view it still asks one
question at a time. The answers are the engine's types (:class:`PlanDecision`, :class:`DiffDecision`,
:class:`FailureDecision`); what they do is the engine's business (:mod:`orchestrator.engine.answers`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from orchestrator.core.contracts import DiffDecision, FailureDecision, StepFailure
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.session import PlanDecision
from orchestrator.terminal.prompting import ask_in_thread

if TYPE_CHECKING:
    from rich.console import Console
    from rich.prompt import Prompt

    from orchestrator.terminal.screen import LiveView

__all__ = ["ConsoleReviewer"]

T = TypeVar("T")

_DIFF_KEYS = {"y": "apply it", "n": "reject it (the step fails)", "c": "change it: tell the coder what to change"}
_FAILED_KEYS = {"r": "retry", "g": "retry with guidance for the coder", "s": "skip it (its dependents are skipped)",
                "q": "stop the session (resumable)"}


class ConsoleReviewer:
    """Asks the user about the plan, each step's diff, a failed step, and for another command when a check cannot
    start. Implements PlanReviewer, DiffReviewer, StepFailureHandler and the check fixer."""

    def __init__(self, console: Console, view: LiveView | None = None) -> None:
        self.console = console
        self.view = view
        self._alone: anyio.Lock | None = None  # one question at a time when there is no screen to take turns on

    async def _ask(self, question: Callable[..., T], *args: Any) -> T:
        if self.view is not None:
            return await self.view.ask(question, *args)
        if self._alone is None:
            self._alone = anyio.Lock()
        async with self._alone:
            return await ask_in_thread(question, *args)

    async def review_plan(self, plan: Plan, task: str) -> PlanDecision:
        return await self._ask(self._ask_plan, plan)

    async def review_diff(self, step: Step, diff: str) -> DiffDecision:
        return await self._ask(self._ask_diff, step, diff)

    async def on_step_failed(self, failure: StepFailure) -> FailureDecision:
        return await self._ask(self._ask_failed, failure)

    async def fix_check(self, command: str, reason: str) -> str:
        """A check cannot start (``reason`` names it and the fix): the command to run instead, "" for no checks."""
        return await self._ask(self._ask_check, reason)

    # ------------------------------------------------------------------ the questions (blocking, in a thread)
    def _prompt_type(self) -> type[Prompt]:
        """The answers are typed through the screen when there is one (the live region keeps drawing)."""
        from rich.prompt import Prompt

        return self.view.prompt_type() if self.view is not None else Prompt

    def _ask_plan(self, plan: Plan) -> PlanDecision:
        prompt = self._prompt_type()

        self.console.print(plan)
        answer = prompt.ask("Run this plan? [bold]a[/]ccept / [bold]e[/]dit the task / [bold]q[/]uit",
                            choices=["a", "e", "q"], default="a", console=self.console)
        if answer == "e":
            return PlanDecision("edit", prompt.ask("New task", console=self.console))
        return PlanDecision("accept" if answer == "a" else "quit")

    def _ask_diff(self, step: Step, diff: str) -> DiffDecision:
        from rich.markup import escape

        from orchestrator.terminal.diffview import DiffView

        self.console.rule(f"step {escape(step.id)}: {escape(step.goal)}")
        self.console.print(DiffView(diff))  # wrapped lines keep their +/- marker
        answer = self._choose("Apply this change to your working tree?", _DIFF_KEYS, default="y")
        if answer == "y":
            return DiffDecision(kind="apply")
        if answer == "n":
            return DiffDecision(kind="reject")
        return DiffDecision(kind="change", guidance=self._text("Tell the coder what to change"))

    def _ask_failed(self, failure: StepFailure) -> FailureDecision:
        from rich.markup import escape

        first, *more = failure.reason.splitlines() or ["the step failed"]
        attempt = f" (attempt {failure.attempt})" if failure.attempt > 1 else ""
        self.console.print(f"\n[bold red]step {escape(failure.step_id)} failed{attempt}:[/] {escape(first)}",
                           highlight=False)
        for line in more[-10:]:
            self.console.print(f"  [dim]{escape(line)}[/]", highlight=False, soft_wrap=True)
        answer = self._choose("What now?", _FAILED_KEYS, default="s")
        if answer == "g":
            return FailureDecision(kind="retry", guidance=self._text("Tell the coder what to do differently"))
        return FailureDecision(kind={"r": "retry", "s": "skip", "q": "stop"}[answer])

    def _ask_check(self, reason: str) -> str:
        from rich.markup import escape
        prompt = self._prompt_type()

        self.console.print(f"[yellow]{escape(reason)}[/]", highlight=False, soft_wrap=True)
        return prompt.ask("Enter another command, or leave empty to skip checks", default="",
                          show_default=False, console=self.console)

    def _choose(self, question: str, keys: dict[str, str], *, default: str) -> str:
        """One key among ``keys``, each listed with what it does above the question (Enter = ``default``)."""
        from rich.markup import escape
        prompt = self._prompt_type()

        for key, label in keys.items():
            self.console.print(f"  [cyan]{key}[/] {escape(label)}", highlight=False)
        return prompt.ask(f"[bold]{escape(question)}[/]", choices=list(keys), default=default, console=self.console)

    def _text(self, question: str) -> str:
        """Free text, asked again until it is not empty."""
        prompt = self._prompt_type()

        while True:
            answer = prompt.ask(question, console=self.console).strip()
            if answer:
                return answer
            self.console.print("[dim](an empty answer says nothing to the coder: type what to change)[/]")
