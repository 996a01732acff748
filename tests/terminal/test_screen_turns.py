"""The screen's questions take turns (issue 14): one question at a time; while one is open the event loop runs on,
events are recorded, and their lines are printed once it is answered, not over the question."""

from __future__ import annotations

import io
import threading

import anyio
import anyio.lowlevel
import anyio.to_thread
from rich.console import Console

from orchestrator.core.events import EditApplied, PlanCreated, PlanStepInfo, StepStarted
from orchestrator.terminal.screen import LiveView

PLAN = PlanCreated(steps=(PlanStepInfo(id="a", role="coder", goal="one"), PlanStepInfo(id="b", role="coder",
                                                                                        goal="two")))


class Question:
    """A blocking question (as a rich prompt is): it prints itself, then waits until the test answers it."""

    def __init__(self, console: Console, name: str) -> None:
        self.console, self.name = console, name
        self.shown, self.answer = threading.Event(), threading.Event()

    def __call__(self) -> str:
        self.console.print(f"question {self.name}?")
        self.shown.set()
        self.answer.wait()
        self.console.print(f"answered {self.name}")
        return self.name


def test_questions_take_turns_and_events_wait_for_the_answer_while_the_loop_runs_on() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=80, color_system=None)
    view = LiveView(console)
    first, second = Question(console, "first"), Question(console, "second")
    answers: list[str] = []

    async def ask(question: Question) -> None:
        answers.append(await view.ask(question))

    async def main() -> None:
        view.emit(PLAN)
        async with anyio.create_task_group() as group:
            group.start_soon(ask, first)
            await anyio.to_thread.run_sync(first.shown.wait)
            group.start_soon(ask, second)
            await anyio.lowlevel.checkpoint()  # the loop is not held by the open question: this task goes on
            view.emit(StepStarted(step_id="b", role="coder", model="m"))
            view.emit(EditApplied(step_id="b", files=("two.py",)))
            assert "applied two.py" not in buffer.getvalue()  # not printed over the open question
            assert not second.shown.is_set()  # one question at a time
            first.answer.set()
            await anyio.to_thread.run_sync(second.shown.wait)
            second.answer.set()
        view.stop()

    anyio.run(main)
    out = buffer.getvalue()
    assert answers == ["first", "second"]
    assert out.index("answered first") < out.index("applied two.py") < out.index("question second?")
    assert view.view.rows["b"].status != "pending"  # the event was recorded while the question was open
