"""The screen: the live region at the bottom of the terminal, the lines printed above it, and the questions.

:class:`LiveView` is an :class:`~orchestrator.core.events.EventSink`: it keeps a :class:`DagView` up to date from the
events, shows it live (rich ``Live``) on a terminal, and prints notable events (:func:`event_line`) above it.

It also owns the terminal for questions (:meth:`LiveView.ask`): one question at a time, in turn. The event loop never
waits for the person: the other steps go on, their events are recorded, and the lines they print are held back until
the question is answered. The line being typed is read key by key (:class:`LineInput`) and drawn by us at the top of
the live region, so the table keeps moving (timers, phases) under an open question and a redraw can never overwrite
the answer; once answered, the question and the answer are printed into the scrollback. Where keys cannot be read
that way (a dumb terminal, stdin not a terminal) the live region is taken off the screen for the question instead
and comes back below the answer.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from orchestrator.core.events import Event
from orchestrator.terminal.lineinput import LineInput
from orchestrator.terminal.prompting import ask_in_thread
from orchestrator.terminal.view import DagView, event_line

if TYPE_CHECKING:
    import anyio
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.prompt import Prompt
    from rich.text import Text

__all__ = ["LiveView"]

T = TypeVar("T")
_STARTS = ("session.started", "plan.created", "step.started")


class LiveView:
    """An event sink that shows the DAG live on ``console``, prints notable events, and asks questions in turn."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.view = DagView()
        self._live: Live | None = None
        self._lock = threading.RLock()  # held only for short bookkeeping, never while a person reads
        self._turn: anyio.Lock | None = None  # one question at a time (made in the event loop, on first use)
        self._waiting = 0  # questions queued behind the open one
        self._asking = False
        self._held: list[str] = []  # event lines that came while a question was open
        self._wanted = False  # the live region is to be shown once no question is open
        self._finished = False
        self._typing: tuple[Text, LineInput] | None = None  # the question being answered in the live region

    def emit(self, event: Event) -> None:
        with self._lock:
            self.view.update(event)
            line = event_line(event, terminal=self.console.is_terminal)
            if line and self._asking:
                self._held.append(line)
            elif line:
                self._print(line)
            # The planner's spinner from the session's start; a resumed session's table from its first step (its
            # drift question, if any, is asked before that).
            if event.type in _STARTS:
                self._wanted = True
                if not self._asking:
                    self._start()
            elif event.type == "session.completed":
                self.stop()
            elif self._live is not None:
                self._live.refresh()

    async def ask(self, question: Callable[..., T], *args: Any) -> T:
        """Ask ``question(*args)`` (blocking rich prompts, run in a thread by :func:`ask_in_thread`) when it is this
        question's turn, with the live region off the screen; its answer. Cancelling (Ctrl-C) is immediate."""
        import anyio

        if self._turn is None:
            self._turn = anyio.Lock()
        self._waiting += 1
        queued = True
        try:
            async with self._turn:
                self._waiting, queued = self._waiting - 1, False
                self._open()
                answered = False
                try:
                    answer = await ask_in_thread(question, *args)
                    answered = True
                    return answer
                finally:
                    self._close(resume=answered)
        finally:
            if queued:
                self._waiting -= 1

    def _open(self) -> None:
        with self._lock:
            self._asking = True
            if self._live is not None and not self._keys_readable():
                self._live.transient = True  # erased, not left behind: one table on the screen, not one per question
                self._live.stop()
                self._live = None
            if self._waiting:
                more = f"{self._waiting} more question{'s' if self._waiting > 1 else ''} waiting"
                self.console.print(f"[dim]({more} after this one)[/]", highlight=False)

    def _close(self, *, resume: bool) -> None:
        with self._lock:
            self._asking = False
            if self._typing is not None:  # cancelled while typing (Ctrl-C): the terminal echoes again
                self._typing[1].restore()
                self._typing = None
            if not resume and self.console.is_terminal:
                self.console.line()  # the cursor is still on the question's line, after the echoed ^C
            held, self._held = self._held, []
            for line in held:
                self._print(line)
            if resume and self._wanted and not self._finished and self._live is None:
                self._start()

    def _print(self, line: str) -> None:
        # A log (file, pipe, CI) keeps each line whole; only a terminal wraps to its width.
        self.console.print(line, highlight=False, soft_wrap=not self.console.is_terminal)

    def _start(self) -> None:
        from rich.live import Live

        if self._live is None and self.console.is_terminal and not self._finished:
            self._live = Live(self, console=self.console, refresh_per_second=4, transient=False)
            self._live.start()

    def stop(self) -> None:
        with self._lock:
            self._finished = True
            for line in self._held:  # the session ended while a question was open (Ctrl-C): nothing is lost
                self._print(line)
            self._held = []
            if self._live is not None:
                self._live.stop()
                self._live = None
        if self.view.rows and not self.console.is_terminal:
            self.console.print(self.view)

    # ------------------------------------------------------------------ typing an answer inside the live region
    def prompt_type(self) -> type[Prompt]:
        """rich's ``Prompt`` (choices, defaults, validation as usual) reading its line through this screen."""
        from rich.prompt import Prompt

        screen = self

        class ScreenPrompt(Prompt):
            @classmethod
            def get_input(cls, console: Console, prompt: Any, password: bool, stream: Any = None) -> str:
                if password or stream is not None:
                    return console.input(prompt, password=password, stream=stream)
                return screen.read_line(prompt)

        return ScreenPrompt

    def read_line(self, prompt: Text) -> str:
        """The answer to ``prompt``, typed in the live region while it keeps drawing; then the question and the
        answer go into the scrollback. Without a live region to type in: plain ``console.input``."""
        from rich.text import Text

        with self._lock:
            live = self._live if self._keys_readable() else None
            editor = LineInput(sys.stdin.fileno()) if live is not None else None
            if live is not None and editor is not None:
                editor.start()  # before the question shows: no key typed from now on is echoed by the terminal
                self._typing = (prompt, editor)
                live.refresh()
        if live is None or editor is None:
            return self.console.input(prompt)
        try:
            answer = editor.read(live.refresh)
        finally:
            with self._lock:
                self._typing = None
        self.console.print(Text.assemble(prompt, answer), highlight=False)
        return answer

    def _keys_readable(self) -> bool:
        """Keys can be read one by one and the live region can draw the line: a real terminal on stdin and out."""
        stdin = sys.stdin
        return (self.console.is_terminal and not self.console.is_dumb_terminal and stdin is not None
                and stdin.isatty())

    def __rich__(self) -> RenderableType:
        typing = self._typing
        if typing is None:
            return self.view
        from rich.console import Group
        from rich.text import Text

        prompt, editor = typing
        # The line being typed comes first: if the table is taller than the screen, rich crops the bottom.
        return Group(Text.assemble(prompt, editor.text, (" ", "reverse")), self.view)
