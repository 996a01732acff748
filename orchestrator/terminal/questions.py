"""The run's questions to the person at the terminal: the plan review, each step's diff, a check that cannot start.

:class:`ConsoleReviewer` asks one question at a time and pauses the live view (:class:`LiveView`) while asking.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import anyio

from orchestrator.core.plan import Plan, Step
from orchestrator.engine.session import PlanDecision
from orchestrator.terminal.prompting import ask_in_thread

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.terminal.screen import LiveView

__all__ = ["ConsoleReviewer"]


class ConsoleReviewer:
    """Asks the user about the plan, about each step's diff, and for another command when a check cannot start
    (one question at a time)."""

    def __init__(self, console: Console, view: LiveView | None = None) -> None:
        self.console = console
        self.view = view
        self._asking = anyio.Lock()

    async def review_plan(self, plan: Plan, task: str) -> PlanDecision:
        async with self._asking:
            return await ask_in_thread(self._ask_plan, plan)

    def _ask_plan(self, plan: Plan) -> PlanDecision:
        from rich.prompt import Prompt

        with self.view.paused() if self.view is not None else _nothing():  # the planner's spinner stops here
            self.console.print(plan)
            answer = Prompt.ask("Run this plan? [bold]a[/]ccept / [bold]e[/]dit the task / [bold]q[/]uit",
                                choices=["a", "e", "q"], default="a", console=self.console)
            if answer == "e":
                return PlanDecision("edit", Prompt.ask("New task", console=self.console))
            return PlanDecision("accept" if answer == "a" else "quit")

    async def review_diff(self, step: Step, diff: str) -> bool:
        async with self._asking:
            return await ask_in_thread(self._ask_diff, step, diff)

    async def fix_check(self, command: str, reason: str) -> str:
        """A check cannot start (``reason`` names it and the fix): the command to run instead, "" for no checks."""
        async with self._asking:
            return await ask_in_thread(self._ask_check, reason)

    def _ask_check(self, reason: str) -> str:
        from rich.markup import escape
        from rich.prompt import Prompt

        with self.view.paused() if self.view is not None else _nothing():
            self.console.print(f"[yellow]{escape(reason)}[/]", highlight=False, soft_wrap=True)
            return Prompt.ask("Enter another command, or leave empty to skip checks", default="",
                              show_default=False, console=self.console)

    def _ask_diff(self, step: Step, diff: str) -> bool:
        from rich.markup import escape
        from rich.prompt import Confirm

        from orchestrator.terminal.diffview import DiffView

        with self.view.paused() if self.view is not None else _nothing():
            self.console.rule(f"step {escape(step.id)}: {escape(step.goal)}")
            self.console.print(DiffView(diff))  # wrapped lines keep their +/- marker
            return Confirm.ask("Apply this change to your working tree?", default=True, console=self.console)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
