"""Asking the person at the terminal from inside the run's event loop, without making Ctrl-C wait for Enter."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ask_in_thread"]

T = TypeVar("T")


async def ask_in_thread(question: Callable[..., T], *args: Any) -> T:
    """Run the blocking ``question(*args)`` (a rich prompt) in a daemon thread and return its answer.

    Contract: awaiting this is cancellable at once: Ctrl-C (the event loop's SIGINT handler cancels the run) does
    not wait for the prompt to be answered; the thread is abandoned, and being a daemon it never holds up the exit.
    Closed input (EOF, e.g. Ctrl-D or stdin closed mid-run) is no answer: the run stops exactly as on Ctrl-C
    (saved, exit 130 with the resume command) instead of guessing an answer for the user.
    """
    import anyio
    import anyio.from_thread
    import anyio.lowlevel

    token = anyio.lowlevel.current_token()
    answered = anyio.Event()
    outcome: list[tuple[Any, BaseException | None]] = []

    def work() -> None:
        try:
            outcome.append((question(*args), None))
        except BaseException as exc:  # delivered to the awaiting task, which re-raises it
            outcome.append((None, exc))
        with contextlib.suppress(Exception):  # the loop is gone: the question was abandoned (Ctrl-C)
            anyio.from_thread.run_sync(answered.set, token=token)

    # anyio's worker threads are not daemons: one blocked in input() would keep the process alive after Ctrl-C.
    threading.Thread(target=work, name="orchestrate prompt", daemon=True).start()
    await answered.wait()
    answer, error = outcome[0]
    if isinstance(error, EOFError):
        signal.raise_signal(signal.SIGINT)  # the Ctrl-C path: the loop's handler cancels the run, saving it
        await anyio.sleep_forever()
    if error is not None:
        raise error
    return answer  # type: ignore[no-any-return]
