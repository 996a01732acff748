"""The coder: the shared agent loop working in a step's staging root, fed back review comments and failing checks.

A :class:`Coder` owns one step's conversation: the system prompt (actions, one per turn, with examples), the
AGENTS.md instructions, and the step's goal with the project's file tree. :meth:`Coder.run` runs the loop until the
model is done (or raises :class:`~agents.loop.TurnLimit`); :meth:`Coder.revise` appends feedback for the next round.
A resumed step continues from its checkpointed conversation. ``temperature`` (sampled candidates) overrides the role's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agents import prompts
from agents.draft import draftable_files, named_files, write_draft
from agents.loop import AgentLoop, Done, StepCheckpoint
from agents.paths import PathRefused, read_text, resolve_inside
from agents.repo import summarize_tree
from orchestrator.core.contracts import Message

if TYPE_CHECKING:
    from agents.tools import ToolBox
    from orchestrator.core.plan import Step
    from orchestrator.core.services import Gateway
    from orchestrator.settings.schema import Settings

__all__ = ["Coder", "file_contents", "goal_text", "initial_messages", "related_tests", "shown_contents"]

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


def shown_contents(root: Path, step: Step) -> str:
    """The step's short files and their modules' tests, as shown up front (see :func:`file_contents`)."""
    return file_contents(root, [*step.files, *related_tests(root, step.files)])


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
        test = f"test_{module.name}"
        for candidate in (module.parent / test, module.parent / "tests" / test, Path("tests") / test,
                          Path("test") / test):
            text = candidate.as_posix()
            if text not in files and text not in found and (root / candidate).is_file():
                found.append(text)
    return found


def file_contents(
    root: Path, files: Sequence[str], *, max_chars: int = FILE_CHARS, total_chars: int = TOTAL_CHARS
) -> str:
    """The current text of the step's files that exist (bounded), for the coder's first message; "" when none.

    Showing them up front saves a small model its read turns and lets it rewrite a short file whole, the way a single
    direct call does (the benchmark's direct calls solved small tasks that the read/edit loop fumbled).
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
            continue  # a long file is read in parts by the model itself
        budget -= len(text)
        ending = "" if text.endswith("\n") or not text else "\n"
        shown.append(f"{name}:\n```\n{text}{ending}```")
    if not shown:
        return ""
    return prompts.render("coder_file_contents", files="\n\n".join(shown))


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
    ) -> None:
        native = gateway.supports_native_tools("coder")
        saved = checkpoint.load() if checkpoint is not None else None
        messages = list(saved) if saved else initial_messages(
            step, task=task, tools=tools, instructions=instructions, native=native, guidance=guidance
        )
        self.step, self.task, self.instructions, self.gateway = step, task, instructions, gateway
        self.guidance = guidance
        self.tools = tools
        # The first draft (agents.draft) opens a fresh conversation of a structured-output coder; a resumed one goes on.
        self._draft_pending = settings.coder.draft and not native and not saved
        self.loop = AgentLoop(
            gateway=gateway, role="coder", tools=tools, messages=messages, max_turns=settings.coder.max_turns,
            checkpoint=checkpoint, native_tools=native, temperature=temperature,
        )
        if not saved and checkpoint is not None:
            checkpoint.save(messages)
        if saved and guidance and not any(guidance in m.content for m in saved):  # the user's words, said once
            self.loop.add_user(prompts.render("coder_user_change", guidance=guidance))

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
        return await self.loop.run()

    async def _draft(self) -> list[str]:
        """The first draft (agents.draft); the files it wrote."""
        files = draftable_files(self.tools.root, self.step.files, max_file=FILE_CHARS, max_total=TOTAL_CHARS)
        goal = goal_text(self.step, self.task, self.guidance)
        files = named_files(files, goal)
        if not files:
            return []
        draft = await write_draft(gateway=self.gateway, goal=goal,
                                  contents=shown_contents(self.tools.root, self.step), files=files, tools=self.tools,
                                  instructions=self.instructions, temperature=self.loop.temperature)
        self.loop.extend(draft.turns)
        return draft.paths

    def revise_after_review(self, comments: list[str]) -> None:
        """Send the reviewer's comments back; the next :meth:`run` addresses them."""
        listed = "\n".join(f"- {c}" for c in comments)
        self.loop.add_user(prompts.render("coder_review_feedback", comments=listed))

    def revise_after_checks(self, checks: str, output_tail: str) -> None:
        """Send a failing check's output tail back; the next :meth:`run` fixes it."""
        self.loop.add_user(prompts.render("coder_validation_feedback", checks=checks, output=output_tail))
