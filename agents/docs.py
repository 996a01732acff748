"""The AGENTS.md docs one step receives, and the ``memory.loaded`` events that say which.

A step gets the session's docs (global, then the project's from its root down to the cwd), the docs scoped to the
files its plan step names, and, as the coder opens files in other directories, the docs scoped to those (appended to
the observation of the action that touched them, once). Paths are relative to the session's cwd, which is what the
staging root mirrors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agents import prompts
from memory import describe_truncation, render_instructions
from orchestrator.core.contracts import Memory, MemoryContext
from orchestrator.core.events import EventSink, MemoryLoaded, WarningEvent

__all__ = ["StepDocs"]


class StepDocs:
    """Tracks the docs a step has been shown; emits ``memory.loaded`` for each new batch."""

    def __init__(self, memory: Memory, cwd: Path, events: EventSink, step_id: str) -> None:
        self._memory = memory
        self._cwd = cwd
        self._events = events
        self._step_id = step_id
        self._seen: set[Path] = set()
        self._warned: set[Path] = set()
        self._announced = False

    def instructions(self, files: Sequence[str]) -> str | None:
        """The instructions message (None: no docs) with the session docs and the docs scoped to ``files``.

        The first call emits ``memory.loaded`` with every source (even none); later calls only for sources not shown.
        """
        base = self._memory.load(self._cwd)
        scoped = self._memory.scoped(self._cwd, list(files)) if files else MemoryContext()
        text = "\n\n".join(t for t in (base.text, scoped.text) if t)
        context = MemoryContext(sources=base.sources + scoped.sources, text=text)
        self._announce(context, always=not self._announced)
        return render_instructions(context, self._cwd)

    def on_touch(self, rel: str) -> str | None:
        """Text to append when the coder first touches ``rel``: docs scoped to it not shown yet, else None."""
        context = self._memory.scoped(self._cwd, [rel])
        if not self._announce(context) or not context.text:
            return None
        return prompts.render("coder_scoped_docs", path=rel, text=context.text)

    def _announce(self, context: MemoryContext, *, always: bool = False) -> bool:
        self._warn_truncated(context)
        new = [s.path for s in context.sources if s.path not in self._seen and s.bytes > 0]
        if not new and not always:
            return False
        self._seen.update(new)
        self._announced = True
        self._events.emit(MemoryLoaded(step_id=self._step_id, sources=tuple(str(p) for p in new)))
        return True

    def _warn_truncated(self, context: MemoryContext) -> None:
        # Truncation is never silent: each doc the budget cut or dropped is a warning event, once per step.
        cut = tuple(s for s in context.sources if s.truncated and s.path not in self._warned)
        self._warned.update(s.path for s in cut)
        for line in describe_truncation(MemoryContext(sources=cut)):
            self._events.emit(WarningEvent(message=line, step_id=self._step_id))
