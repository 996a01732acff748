"""The coder's first draft: the step's short files rewritten whole in one plain-text reply (``coder.draft``).

Measured with the embedded 1.5B model (``benchmarks/solve_rate.py``): asked once for a module's complete new text in
a code block, it solved 11 of 12 small tasks; driven through JSON actions it fumbled the same tasks (a ``def`` line as
the search text, a test file rewritten twenty times). Code blocks are the format such a model writes best. So a fresh
coder in structured-output mode first asks for exactly that: every file it changes, as its path and one code block.
Each usable block becomes a ``write_file`` action executed by the step's toolbox, and the conversation records one
note with the files as they now are. A draft that changed something ends the coder's first round: the reviewer and
the checks judge it, and their feedback goes to the coder's action loop, which continues this conversation. (Going on
with actions at once was measured worse: the model copied the recorded writes, turn after turn, instead of saying
done.) A reply without a usable block changes nothing: the loop starts as it would have.

Only the step's files that the model was shown (or that do not exist yet) may be written, and of those the ones the
goal names when it names any; a block for any other path is ignored. A lone unnamed block is taken for the step's only
file. A Python block that holds only some of the module's definitions is merged into it by name (agents.pymerge).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from agents import prompts
from agents.actions import WriteFileAction
from agents.paths import PathRefused, read_text, resolve_inside
from agents.pymerge import merge_definitions, module_docstring, renamed_definitions
from agents.tools import dropped_definitions
from orchestrator.core.contracts import Message

if TYPE_CHECKING:
    from agents.tools import ToolBox
    from orchestrator.core.services import Gateway

__all__ = ["Draft", "DraftFile", "current_files", "draft_preamble", "draft_request", "draftable_files", "drafts_in",
           "named_files", "parse_draft", "write_draft", "write_files"]

_BLOCK = re.compile(r"^```[ \t]*([^\n`]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
_PATH_DECORATION = re.compile(r"^(?:#+\s*|[-*]\s+|(?:file|path)\s*:\s*)", re.IGNORECASE)
# A path alone inside a fence, then the code without an opening fence of its own (the embedded model wrote three of
# four drafts of one exercise so: "```", "calc.py:", "```", the code, "```").
_FENCED_PATH = re.compile(r"^```[^\n`]*\n([^\n`]+)\n```[ \t]*\n(?!```)", re.MULTILINE)
_REMOVAL = re.compile(r"\b(?:rename|remove|delete|drop|replace|change|move)", re.IGNORECASE)
# A drop is asked for by a sentence naming both (a task whose text says "gets removed on pop()" in one place and names
# an exception class in another did not ask for the class to go: a draft without it failed every test on import).
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[-*#]")


@dataclass(frozen=True)
class DraftFile:
    path: str
    content: str


@dataclass
class Draft:
    """What a draft did: the message to record in the coder's conversation, and the files it wrote."""

    turns: list[Message] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


def draftable_files(root: Path, files: Sequence[str], *, max_file: int, max_total: int) -> list[str]:
    """The step's files a draft may write: each is a short text file (at most ``max_file`` bytes, all of them at most
    ``max_total``: the sizes the coder is shown whole) or does not exist yet. Empty when any named file is unsuitable:
    a draft must see everything it may change."""
    budget = max_total
    chosen: list[str] = []
    for name in dict.fromkeys(files):
        try:
            path = resolve_inside(root, name)
        except PathRefused:
            return []
        if path.exists():
            size = path.stat().st_size if path.is_file() else max_file + 1
            budget -= size
            if size > max_file or budget < 0:
                return []
            try:
                read_text(path)
            except (ValueError, OSError):  # binary or unreadable: not something to rewrite from a code block
                return []
        chosen.append(name)
    return chosen


def named_files(files: Sequence[str], goal: str) -> list[str]:
    """The files the goal names, when it names any; else all of ``files``.

    The user's words say what to change; a planner's file list adds guesses (the tests, a README). A draft that
    rewrote an unnamed test file broke it, and the step failed on its own test; what the goal needs beyond the named
    files, the review and the checks ask for, and the action loop does.
    """
    named = [name for name in files if _mentions(goal, name)]
    return named or list(files)


def parse_draft(reply: str, allowed: Sequence[str]) -> list[DraftFile]:
    """The files in the model's reply: each code block whose path (on the line before it, in a code block of its own
    just before it, or as the fence's info string) is one of ``allowed``; a single block without a path when
    ``allowed`` has one file. Later blocks for the same path win."""
    reply = _FENCED_PATH.sub(lambda m: _unfenced_path(m, allowed), reply)
    found: dict[str, str] = {}
    unnamed: list[str] = []
    previous_end = 0
    named_by_block: str | None = None  # the path a block of its own named (the embedded model writes it so)
    for block in _BLOCK.finditer(reply):
        before = reply[previous_end : block.start()].strip().splitlines()
        previous_end = block.end()
        content = block.group(2)
        alone = content.strip()
        if "\n" not in alone and (marked := _path_in(alone, allowed)) is not None:  # also "calc.py:" or "# calc.py"
            named_by_block = marked
            continue
        path = (_path_in(block.group(1), allowed) or (_path_in(before[-1], allowed) if before else None)
                or (named_by_block if not before else None))
        named_by_block = None
        if path is None:
            unnamed.append(content)
        else:
            found[path] = content
    if not found and len(unnamed) == 1 and len(allowed) == 1:
        found[allowed[0]] = unnamed[0]
    return [DraftFile(path, content) for path, content in found.items()]


def _unfenced_path(match: re.Match[str], allowed: Sequence[str]) -> str:
    """A fenced path followed by code that a fence closes but none opened: the path on its own line, then an opening
    fence (the code becomes that path's block). Otherwise the text as it was."""
    fences_after = len(re.findall(r"^```", match.string[match.end():], re.MULTILINE))
    if fences_after % 2 == 1 and _path_in(match.group(1), allowed):
        return f"{match.group(1)}\n```\n"
    return match.group(0)


def _path_in(line: str, allowed: Sequence[str]) -> str | None:
    text = _PATH_DECORATION.sub("", line.strip()).strip().strip("*`'\":").strip()
    if text in allowed:
        return text
    words = [w.strip("*`'\":,()") for w in text.split()]
    return next((w for w in words if w in allowed), None)


def draft_request(*, goal: str, contents: str, files: Sequence[str], instructions: str | None = None,
                  feedback: str = "") -> list[Message]:
    """The messages that ask for a draft of ``files``: system prompt, AGENTS.md ``instructions``, the goal with the
    ``contents`` shown, and the ``feedback`` a redraft answers (see :func:`write_draft`)."""
    request = draft_preamble(instructions)
    request.append(Message(role="user", content=prompts.render("coder_draft_task", goal=goal, contents=contents,
                                                               files=", ".join(files))))
    if feedback:
        request.append(Message(role="user", content=prompts.render("coder_draft_feedback", feedback=feedback,
                                                                   files=", ".join(files))))
    return request


def draft_preamble(instructions: str | None) -> list[Message]:
    """What every draft request starts with: the system prompt, then the AGENTS.md ``instructions`` (a request that
    starts the same way reuses the server's prompt cache for it)."""
    request = [Message(role="system", content=prompts.load("coder_draft_system"))]
    if instructions:
        request.append(Message(role="user", content=instructions))
    return request


def current_files(root: Path, files: Sequence[str]) -> dict[str, str | None]:
    """The text of each of ``files`` now (``None``: it does not exist), read once before a draft is written."""
    return {name: _current(root, name) for name in files}


def drafts_in(reply: str, files: Sequence[str], before: Mapping[str, str | None], goal: str) -> list[DraftFile]:
    """The reply's usable drafts (see :func:`write_draft`), completed by definition merging where that loses
    nothing; a draft that still loses definitions the goal does not name is left out."""
    return [d for d in _completed_drafts(reply, files, before, goal) if not _lost(d, before[d.path], goal)]


async def write_files(drafts: Sequence[DraftFile], tools: ToolBox) -> Draft:
    """Write ``drafts`` through the step's toolbox (its guards apply); the note for the conversation, the paths."""
    written = Draft()
    shown: list[str] = []
    for draft in drafts:
        action = WriteFileAction(action="write_file", thought=prompts.load("loop_notes#draft_thought"),
                                 path=draft.path, content=draft.content)
        observation = await tools.execute(action)
        if observation.startswith("ERROR"):
            continue
        written.paths.append(draft.path)
        shown.append(f"{draft.path}:\n```\n{draft.content}```")
    if written.paths:
        # One note with the files as they are now, not write_file turns: the model copies turns it sees (it went on
        # rewriting every file, turn after turn), and the files shown in its first message are out of date.
        written.turns.append(Message(role="user", content=prompts.render(
            "coder_draft_written", files=", ".join(written.paths), contents="\n\n".join(shown))))
    return written


async def write_draft(
    *, gateway: Gateway, goal: str, contents: str, files: Sequence[str], tools: ToolBox,
    instructions: str | None = None, temperature: float | None = None, feedback: str = "", seed: int | None = None,
) -> Draft:
    """Ask for the draft and write its usable files through ``tools``; ``goal`` is the text the model was given.

    Usable: a file that changes, and that is new only if the goal names it (a small planner lists files nobody asked
    for, a README among them). A Python file that loses top-level definitions the goal does not name is asked for
    once more with the loss pointed out, then left out if it still loses them: a rewritten module without the
    functions nobody asked about is the small model's typical slip. ``instructions`` are the AGENTS.md instructions
    the coder sees (the draft follows them too). ``feedback`` (a failing check's output, review comments) makes it a
    redraft: the files are shown as they are now, then what is wrong with them (``coder.strategy`` "draft").
    """
    request = draft_request(goal=goal, contents=contents, files=files, instructions=instructions, feedback=feedback)
    reply = (await gateway.complete("coder", request, temperature=temperature, seed=seed)).content
    before = current_files(tools.root, files)  # read once: nothing is written until the end
    drafts = _completed_drafts(reply, files, before, goal)
    lost = {d.path: names for d in drafts if (names := _lost(d, before[d.path], goal))}
    if lost:
        listing = "; ".join(f"{path} lost {', '.join(names)}" for path, names in lost.items())
        request += [Message(role="assistant", content=reply),
                    Message(role="user", content=prompts.render("coder_draft_lost", lost=listing))]
        again = (await gateway.complete("coder", request, temperature=temperature, seed=seed)).content
        redone = {d.path: d for d in _completed_drafts(again, files, before, goal)}
        drafts = [redone.get(d.path, d) if d.path in lost else d for d in drafts]
        drafts = [d for d in drafts if not _lost(d, before[d.path], goal)]
    return await write_files(drafts, tools)


def _completed_drafts(reply: str, files: Sequence[str], before: Mapping[str, str | None],
                      goal: str) -> list[DraftFile]:
    """The reply's usable drafts, each completed by definition merging where that loses nothing."""
    return [_completed(d, before[d.path], goal) for d in _usable(parse_draft(reply, files), before, goal)]


def _usable(drafts: list[DraftFile], before: Mapping[str, str | None], goal: str) -> list[DraftFile]:
    """The drafts that change a file, with a final newline; a new file only if the goal names it."""
    usable = []
    for draft in drafts:
        content = draft.content if draft.content.endswith("\n") or not draft.content else draft.content + "\n"
        current = before[draft.path]
        if current is None and not _mentions(goal, draft.path):
            continue  # a new file the goal does not name
        if current is not None and current == content.replace("\r\n", "\n"):
            continue  # given back as it was (often the tests): no change
        usable.append(DraftFile(draft.path, content))
    return usable


def _current(root: Path, name: str) -> str | None:
    """The file's text (newlines unified), or None when it does not exist (or cannot be read as text)."""
    path = resolve_inside(root, name)
    try:
        return read_text(path).replace("\r\n", "\n") if path.is_file() else None
    except (ValueError, OSError):
        return None


def _completed(draft: DraftFile, current: str | None, goal: str) -> DraftFile:
    """A Python draft that lost definitions, read as the definitions to put into the module (agents.pymerge) when
    that loses nothing; else the draft as it is. ``current`` is the file's text before the draft."""
    if current is None or not _lost(draft, current, goal):
        return draft
    merged = merge_definitions(current, draft.content)
    if merged is None or _lost(DraftFile(draft.path, merged), current, goal):
        return draft
    return DraftFile(draft.path, merged)


def _lost(draft: DraftFile, current: str | None, goal: str) -> list[str]:
    """The top-level definitions (and the module docstring) of a Python file that the draft drops by mistake.

    A drop is meant when the draft renamed the definition (a new one has the same body), or when a sentence of the
    goal names it and asks for a removal or a rename; anything else is lost (naming it is not enough: "add double,
    keep square").
    """
    if current is None or not draft.path.endswith(".py"):
        return []
    asked = [part for part in _SENTENCE.split(goal) if _REMOVAL.search(part)]  # the goal's sentences asking a drop
    lost = []
    docstring_dropped = any("docstring" in part for part in asked)
    if module_docstring(current) and not module_docstring(draft.content) and not docstring_dropped:
        lost.append("the module docstring")  # seen: the README demo's draft of bank.py left it out
    dropped = dropped_definitions(current, draft.content)
    if not dropped:
        return lost
    renamed = renamed_definitions(current, draft.content)
    return lost + [name for name in dropped if name not in renamed and not any(_mentions(part, name) for part in asked)]


def _mentions(goal: str, name: str) -> bool:
    """Whether the goal names ``name`` (a path, its file name, or an identifier) as a word of its own."""
    return any(re.search(rf"(?<![\w./-]){re.escape(word)}(?![\w/-])", goal)
               for word in dict.fromkeys([name, PurePosixPath(name).name]))
