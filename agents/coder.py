"""The coder: the shared agent loop working in a step's staging root, fed back review comments and failing checks.

A :class:`Coder` owns one step's conversation: the system prompt (actions, one per turn, with examples), the
AGENTS.md instructions, and the step's goal with the project's file tree. :meth:`Coder.run` runs the loop until the
model is done (or raises :class:`~agents.loop.TurnLimit`); :meth:`Coder.revise` appends feedback for the next round.
A resumed step continues from its checkpointed conversation. ``temperature`` (sampled candidates) overrides the role's;
``seed`` tells a sampled candidate's calls from another's (the same first messages, another answer).
The ``strategy`` (:mod:`agents.strategy`) says which model-specific aids it uses: a first whole-file draft, feedback
answered by a redraft (sampled when the same failure comes back), the tests shown up front.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agents import prompts
from agents.candidates import SAMPLING_TEMPERATURE
from agents.draft import draftable_files, named_files, write_draft
from agents.loop import AgentLoop, Done, StepCheckpoint
from agents.paths import PathRefused, read_text, resolve_inside
from agents.repo import summarize_tree
from agents.strategy import CoderStrategy, DraftStrategy
from orchestrator.core.contracts import Message

if TYPE_CHECKING:
    from agents.tools import ToolBox
    from orchestrator.core.plan import Step
    from orchestrator.core.services import Gateway
    from orchestrator.settings.schema import Settings

__all__ = ["Coder", "DraftInputs", "file_contents", "goal_text", "initial_messages", "related_tests", "shown_contents"]

FILE_CHARS = 6000  # a file longer than this is not shown up front
TOTAL_CHARS = 12000  # all shown files together (the embedded model has an 8k-token window)


def initial_messages(step: Step, *, task: str, tools: ToolBox, instructions: str | None, native: bool,
                     guidance: str = "") -> list[Message]:
    """The conversation a coder starts from: system prompt, AGENTS.md instructions (if any), the step's goal (with
    the user's guidance, if any)."""
    how = prompts.load("reply_native" if native else "reply_structured")
    messages = [Message(role="system", content=prompts.render("coder_system", how_to_reply=how))]
    if instructions:
        messages.append(Message(role="user", content=instructions))
    first = prompts.render(
        "coder_task",
        goal=goal_text(step, task, guidance),
        files=", ".join(step.files) if step.files else "(not known: find them)",
        tree=summarize_tree(tools.root),
        contents=shown_contents(tools.root, step),
    )
    messages.append(Message(role="user", content=first))
    return messages


def goal_text(step: Step, task: str, guidance: str = "") -> str:
    """The task and the step's goal, for the coder's first message (and its draft), then the user's guidance."""
    told = prompts.render("coder_guidance", guidance=guidance) if guidance else ""
    # A step that is the whole task (a one-step or merged plan) states it once: the same text twice reads as two goals.
    if " ".join(step.goal.split()) == " ".join(task.split()):
        return prompts.render("coder_goal_whole", task=task) + told
    return prompts.render("coder_goal_part", task=task, step_id=step.id, goal=step.goal) + told


def shown_contents(root: Path, step: Step, protected: Sequence[str] = (), *, clip_tests: bool = False) -> str:
    """The step's short files, their modules' tests and the check's ``protected`` tests, as shown up front (see
    :func:`file_contents`); ``clip_tests``: a test file too long to show whole is shown from its start."""
    tests = [*related_tests(root, step.files), *protected]
    return file_contents(root, [*step.files, *tests], clip=tests if clip_tests else ())


def related_tests(root: Path, files: Sequence[str]) -> list[str]:
    """The existing test files of the step's Python modules (``test_NAME.py`` beside them or in a tests folder).

    A coder that sees the tests of the code it changes writes code that fits them, the way a direct call that is
    shown the module and its tests does; they are shown after the step's own files, within the same budget.
    """
    found: list[str] = []
    for name in files:
        module = Path(name)
        if module.suffix != ".py" or module.name.startswith("test_"):
            continue
        for candidate in _test_places(module):
            text = candidate.as_posix()
            if text not in files and text not in found and (root / candidate).is_file():
                found.append(text)
    return found


def _test_places(module: Path) -> list[Path]:
    """Where the tests of ``module`` live by the usual conventions (``test_x.py`` and ``x_test.py``)."""
    places = []
    for test in (f"test_{module.name}", f"{module.stem}_test.py"):
        places += [module.parent / test, module.parent / "tests" / test, Path("tests") / test, Path("test") / test]
    return places


def file_contents(
    root: Path, files: Sequence[str], *, max_chars: int = FILE_CHARS, total_chars: int = TOTAL_CHARS,
    clip: Sequence[str] = (),
) -> str:
    """The current text of the step's files that exist (bounded), for the coder's first message; "" when none.

    Showing them up front saves a small model its read turns and lets it rewrite a short file whole, the way a single
    direct call does (the benchmark's direct calls solved small tasks that the read/edit loop fumbled). A file named
    in ``clip`` that is too long is shown from its start, cut at a line (a long test file's first cases still hold the
    names and messages expected; 13 of the 95 Exercism test files are over 6,000 characters).
    """
    shown: list[str] = []
    budget = total_chars
    for name in dict.fromkeys(files):
        try:
            path = resolve_inside(root, name)
        except PathRefused:
            continue
        if not path.is_file() or budget <= 0:
            continue
        text = read_text(path)
        if len(text) > min(max_chars, budget):
            if name not in clip or budget < max_chars // 4:
                continue  # a long file is read in parts by the model itself
            text = _head(text, min(max_chars, budget))
        budget -= len(text)
        ending = "" if text.endswith("\n") or not text else "\n"
        shown.append(f"{name}:\n```\n{text}{ending}```")
    if not shown:
        return ""
    return prompts.render("coder_file_contents", files="\n\n".join(shown))


def _head(text: str, limit: int) -> str:
    """The start of ``text`` within ``limit`` characters, cut after a line, with a note of what is left out."""
    cut = text[:limit].rsplit("\n", 1)[0] + "\n"
    return cut + prompts.render("coder_file_cut", chars=len(text) - len(cut))


@dataclass(frozen=True)
class DraftInputs:
    goal: str
    contents: str  # the files shown (the step's, their tests, the protected tests)
    files: tuple[str, ...]  # the files a draft may write


class Coder:
    """One step's coder. ``tools`` is the step's toolbox (its ``touched``/``changed`` say what the coder did)."""

    def __init__(
        self,
        step: Step,
        *,
        task: str,
        gateway: Gateway,
        settings: Settings,
        tools: ToolBox,
        instructions: str | None,
        checkpoint: StepCheckpoint | None = None,
        temperature: float | None = None,
        guidance: str = "",
        strategy: CoderStrategy | None = None,
        seed: int | None = None,
    ) -> None:
        native = gateway.supports_native_tools("coder")
        saved = checkpoint.load() if checkpoint is not None else None
        messages = list(saved) if saved else initial_messages(
            step, task=task, tools=tools, instructions=instructions, native=native, guidance=guidance
        )
        self.step, self.task, self.instructions, self.gateway = step, task, instructions, gateway
        self.guidance = guidance
        self.tools = tools
        self.strategy = strategy or DraftStrategy(first_draft=settings.coder.draft and not native,
                                                  redraft_feedback=False, sample_on_repeat=False)
        # The first draft (agents.draft) opens a fresh conversation; a resumed one goes on.
        self._draft_pending = self.strategy.first_draft and not saved
        self._feedback = ""  # what the next redraft answers (strategy.redraft_feedback)
        self._failures: list[str] = []  # the failing outputs so far, to see one come back
        self.loop = AgentLoop(
            gateway=gateway, role="coder", tools=tools, messages=messages, max_turns=settings.coder.max_turns,
            checkpoint=checkpoint, native_tools=native, temperature=temperature, seed=seed,
            read_enough_nudge=self.strategy.read_enough_nudge, rewrite_limit=self.strategy.rewrite_limit,
        )
        if not saved and checkpoint is not None:
            checkpoint.save(messages)
        if saved and guidance and not any(guidance in m.content for m in saved):  # the user's words, said once
            self.loop.add_user(prompts.render("coder_user_change", guidance=guidance))
            if self.strategy.redraft_feedback:  # answered like other feedback: a fresh whole-file draft
                self._feedback = prompts.render("coder_user_change", guidance=guidance)

    @property
    def messages(self) -> list[Message]:
        return self.loop.messages

    def attach(self, checkpoint: StepCheckpoint | None) -> None:
        """Checkpoint this conversation from now on (a sampled candidate that was chosen), saving it at once."""
        self.loop.checkpoint = checkpoint
        if checkpoint is not None:
            checkpoint.save(self.loop.messages)

    async def run(self) -> Done:
        """Run the loop until the model is done (after the first draft, on the first run). Raises
        :class:`~agents.loop.TurnLimit`."""
        if self._draft_pending:
            self._draft_pending = False
            drafted = await self._draft()
            if drafted:  # the first round's work: the review and the checks come next (agents.draft)
                return Done(f"wrote {', '.join(drafted)} whole (first draft)")
        if self._feedback:
            redrafted = await self._redraft()
            if redrafted:
                return Done(f"wrote {', '.join(redrafted)} whole again, fixing what failed")
        return await self.loop.run()

    async def _redraft(self) -> list[str]:
        """A fresh whole-file draft answering the feedback (greedy, or sampled when the same failure came back, or
        when the greedy one changed nothing); ``[]`` leaves the round to the action loop."""
        feedback, self._feedback = self._feedback, ""
        repeated = len(self._failures) > 1 and self._failures[-1] == self._failures[-2]
        sampled = max(self.loop.temperature or 0.0, SAMPLING_TEMPERATURE)
        first = sampled if repeated and self.strategy.sample_on_repeat else self.loop.temperature
        drafted = await self._draft(feedback, first)
        if not drafted and self.strategy.sample_on_repeat and first != sampled:
            drafted = await self._draft(feedback, sampled)
        return drafted

    def draft_inputs(self, *, clip_tests: bool = False) -> DraftInputs | None:
        """What a draft of this step is given: the goal, the files shown, the files it may write (the protected
        tests left out); ``None`` when no file of the step can be drafted."""
        files = draftable_files(self.tools.root, self.step.files, max_file=FILE_CHARS, max_total=TOTAL_CHARS)
        goal = goal_text(self.step, self.task, self.guidance)
        files = [name for name in named_files(files, goal) if name not in self.tools.protected]
        if not files:
            return None
        shown = sorted(self.tools.protected) if self.strategy.show_tests else []
        contents = shown_contents(self.tools.root, self.step, shown, clip_tests=clip_tests)
        return DraftInputs(goal=goal, contents=contents, files=tuple(files))

    async def _draft(self, feedback: str = "", temperature: float | None = None) -> list[str]:
        """A whole-file draft (agents.draft) of the step's files, the protected tests left out; the files it wrote."""
        inputs = self.draft_inputs()
        if inputs is None:
            return []
        goal, files = inputs.goal, list(inputs.files)
        draft = await write_draft(gateway=self.gateway, goal=goal, contents=inputs.contents, files=files,
                                  tools=self.tools, instructions=self.instructions, feedback=feedback,
                                  temperature=temperature if feedback else self.loop.temperature, seed=self.loop.seed)
        self.loop.extend(draft.turns)
        return draft.paths

    def revise_after_review(self, comments: list[str]) -> None:
        """Send the reviewer's comments back; the next :meth:`run` addresses them."""
        listed = "\n".join(f"- {c}" for c in comments)
        self.loop.add_user(prompts.render("coder_review_feedback", comments=listed))
        if self.strategy.redraft_feedback:
            self._feedback = prompts.render("coder_review_feedback", comments=listed)

    def revise_after_checks(self, checks: str, output_tail: str) -> None:
        """Send a failing check's output tail back; the next :meth:`run` fixes it."""
        self.loop.add_user(prompts.render("coder_validation_feedback", checks=checks, output=output_tail))
        self._failures.append(_without_timings(output_tail))
        if self.strategy.redraft_feedback:
            self._feedback = prompts.render("coder_check_failed", checks=checks, output=output_tail)


def _without_timings(output: str) -> str:
    """A check's output with durations ("in 0.12s") blanked, so the same failure reads the same twice."""
    return re.sub(r"\d+(\.\d+)?\s*(s|ms|sec|seconds)\b", "T", output)
