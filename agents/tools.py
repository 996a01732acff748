"""Executing the coder's actions inside one root (a step's staging area); every result is text for the model.

Failures the model can fix (a path outside the root, an edit that does not match, a bad regex) come back as
observations starting with ``ERROR:``, never as exceptions. Outputs are bounded and say so when cut. Commands go
through the :class:`~orchestrator.engine.commands.CommandRunner` (policy gate, approval, sandbox), nothing else.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agents import prompts
from agents.actions import (
    Action,
    ApplyPatchAction,
    DoneAction,
    EditAction,
    ListFilesAction,
    McpAction,
    ReadFileAction,
    RunAction,
    SearchAction,
    WriteFileAction,
)
from agents.edits import EditError, apply_edit, detect_newline, to_newline
from agents.guards import syntax_problem
from agents.patches import PatchError, apply_hunks, parse_patch
from agents.paths import PathRefused, iter_files, read_text, relative_to_root, resolve_inside, write_text
from orchestrator.core.text import clip

if TYPE_CHECKING:
    from orchestrator.core.contracts import ToolSpec
    from orchestrator.core.services import Commands, McpTools

__all__ = ["ToolBox", "ToolLimits", "dropped_definitions", "truncate"]


@dataclass(frozen=True)
class ToolLimits:
    """How much of each result reaches the model (small models have small context windows)."""

    read_lines: int = 250
    output_chars: int = 8000
    list_entries: int = 200
    search_matches: int = 50
    line_chars: int = 240


def truncate(text: str, limit: int, *, what: str = "output") -> str:
    """``text`` cut to about ``limit`` characters, keeping the head and the tail, with a note saying so."""
    return clip(text, limit, keep="middle", note=f"\n[... {{cut}} characters of {what} cut ...]\n")


@dataclass
class ToolBox:
    """The tools of one agent in one root. ``touched`` collects the files it read or changed (relative paths).

    ``on_touch`` (optional) is told each newly touched file and may return extra text for the observation (the
    pipeline uses it to show the AGENTS.md of directories the coder enters). ``change_note`` (optional) is appended to
    the result of every successful change (a nudge for small models, which tend to repeat an edit they already made).
    ``mcp`` is the session's MCP servers (the pipeline passes :attr:`agents.pipeline.StepDeps.mcp`; None: no MCP
    tools). ``protected`` files (the check's tests) are never changed, and no change leaves a Python file that parsed
    unparsable (:mod:`agents.guards`): both come back as ``ERROR:`` observations naming the file.
    """

    root: Path
    step_id: str
    commands: Commands | None = None
    command_timeout_s: float = 300.0
    limits: ToolLimits = field(default_factory=ToolLimits)
    on_touch: Callable[[str], str | None] | None = None
    change_note: str | None = None
    mcp: McpTools | None = None
    on_action: Callable[[Action], None] | None = None  # told each action before it runs (agents.activity)
    protected: frozenset[str] = frozenset()  # root-relative files no change may touch (agents.guards)
    touched: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    async def execute(self, action: Action) -> str:
        """Run one action and describe the result. ``done`` is the loop's business, not a tool."""
        if self.on_action is not None:
            self.on_action(action)
        try:
            if isinstance(action, RunAction):
                return await self._run(action)
            if isinstance(action, McpAction):
                return await self._mcp(action)
            return self._dispatch(action)
        except PathRefused as exc:
            return f"ERROR: {exc}"

    def _dispatch(self, action: Action) -> str:
        if isinstance(action, ReadFileAction):
            return self._read(action)
        if isinstance(action, ListFilesAction):
            return self._list(action)
        if isinstance(action, SearchAction):
            return self._search(action)
        if isinstance(action, EditAction):
            return self._edit(action)
        if isinstance(action, ApplyPatchAction):
            return self._patch(action)
        if isinstance(action, WriteFileAction):
            return self._write(action)
        if isinstance(action, DoneAction):
            raise TypeError("the done action ends the loop; it is not executed as a tool")
        raise TypeError(f"unknown action {action!r}")

    # ------------------------------------------------------------------------------------------------ bookkeeping

    def _touch(self, rel: str, *, changed: bool = False) -> str:
        extra = None
        if rel not in self.touched:
            self.touched.append(rel)
            extra = self.on_touch(rel) if self.on_touch else None
        if changed and rel not in self.changed:
            self.changed.append(rel)
        notes = [n for n in (extra, self.change_note if changed else None) if n]
        return "".join(f"\n\n{n}" for n in notes)

    # ------------------------------------------------------------------------------------------------------ files

    def _read(self, action: ReadFileAction) -> str:
        path = resolve_inside(self.root, action.path)
        if path.is_dir():
            return _say("read_directory", path=action.path)
        if not path.exists():
            return _say("read_missing", path=action.path)
        try:
            lines = read_text(path).replace("\r\n", "\n").split("\n")
        except ValueError as exc:
            return _say("read_unreadable", path=action.path, problem=exc)
        if lines and lines[-1] == "":
            lines.pop()
        total = len(lines)
        first = min(action.start_line or 1, max(total, 1))
        last = min(action.end_line or total, total, first + self.limits.read_lines - 1)
        body = "\n".join(truncate_line(line, self.limits.line_chars * 4) for line in lines[first - 1 : last])
        rel = relative_to_root(self.root, path)
        header = f"{rel} (lines {first}-{last} of {total})" if total else f"{rel} (empty file)"
        note = ""
        if last < min(action.end_line or total, total):  # cut by the limit, not by the range asked for
            note = "\n" + _say("read_more", count=total - last, next=last + 1)
        return f"{header}\n{body}{note}{self._touch(rel)}"

    def _list(self, action: ListFilesAction) -> str:
        start = resolve_inside(self.root, action.path or ".")
        if not start.exists():
            return _say("missing", path=action.path)
        files: list[str] = []
        for rel in iter_files(self.root, start, action.glob):
            files.append(rel)
            if len(files) > self.limits.list_entries:
                break
        if not files:
            return _say("no_files_matching", path=action.path, glob=action.glob) if action.glob else \
                _say("no_files", path=action.path)
        note = ""
        if len(files) > self.limits.list_entries:
            files = files[: self.limits.list_entries]
            note = "\n" + _say("list_more")
        return "\n".join(files) + note

    def _search(self, action: SearchAction) -> str:
        try:
            regex = re.compile(action.pattern)
        except re.error as exc:
            return _say("bad_regex", pattern=repr(action.pattern), problem=exc)
        start = resolve_inside(self.root, action.path or ".")
        if not start.exists():
            return _say("missing", path=action.path)
        hits: list[str] = []
        for rel in iter_files(self.root, start, action.glob):
            try:
                text = read_text(self.root / rel)
            except (ValueError, OSError):
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                if regex.search(line):
                    hits.append(f"{rel}:{number}: {truncate_line(line.strip(), self.limits.line_chars)}")
                    if len(hits) > self.limits.search_matches:
                        return "\n".join(hits[:-1]) + "\n" + _say("search_more")
        return "\n".join(hits) if hits else _say("no_matches", pattern=repr(action.pattern))

    def _edit(self, action: EditAction) -> str:
        path = resolve_inside(self.root, action.path)
        if not path.is_file():
            return _say("edit_missing", path=action.path)
        rel = relative_to_root(self.root, path)
        try:
            before = read_text(path)
            result = apply_edit(before, action.search, action.replace)
        except (EditError, ValueError) as exc:
            return _say("edit_failed", path=action.path, problem=exc)
        refused = self._refusal(rel, before, result.text)
        if refused:
            return refused
        write_text(path, result.text)
        how = _say("edit_tolerant") if result.tolerant else ""
        return _say("edited", path=rel, line=result.first_line, how=how) + self._touch(rel, changed=True)

    def _write(self, action: WriteFileAction) -> str:
        path = resolve_inside(self.root, action.path)
        if path.is_dir():
            return _say("write_directory", path=action.path)
        content = action.content
        existed = path.exists()
        dropped: list[str] = []
        before: str | None = None
        if existed:
            with contextlib.suppress(ValueError):  # a binary file being replaced has no newline convention to keep
                before = read_text(path)
                content = to_newline(content, detect_newline(before))
                dropped = dropped_definitions(before, content) if path.suffix == ".py" else []
        rel = relative_to_root(self.root, path)
        refused = self._refusal(rel, before, content)
        if refused:
            return refused
        write_text(path, content)
        verb = "overwrote" if existed else "created"
        # A small model rewriting a module whole often leaves out the functions it was not asked about.
        note = "\n" + _say("dropped_definitions", names=", ".join(dropped)) if dropped else ""
        return f"{verb} {rel} ({len(content.splitlines())} lines){note}{self._touch(rel, changed=True)}"

    def _patch(self, action: ApplyPatchAction) -> str:
        try:
            staged = self._stage_patch(action.diff)
        except (PatchError, ValueError) as exc:
            return _say("patch_failed", problem=exc)
        for path, text in staged:
            rel = relative_to_root(self.root, path)
            before = read_text(path) if path.is_file() else None
            refused = self._refusal(rel, before, text or "")
            if refused:
                return _say("patch_failed", problem=refused.removeprefix("ERROR: "))
        notes: list[str] = []
        for path, text in staged:
            rel = relative_to_root(self.root, path)
            if text is None:
                path.unlink()
                notes.append(f"deleted {rel}")
            else:
                write_text(path, text)
                notes.append(f"patched {rel}")
            notes.append(self._touch(rel, changed=True).strip())
        return "\n".join(n for n in notes if n)

    def _stage_patch(self, diff: str) -> list[tuple[Path, str | None]]:
        """Every file's new text (None: delete), computed before anything is written: all or nothing."""
        staged: list[tuple[Path, str | None]] = []
        for patch in parse_patch(diff):
            path = resolve_inside(self.root, patch.path)
            if patch.new_path is None:
                if not path.is_file():
                    raise PatchError(prompts.render("patch_errors#cannot_delete", path=patch.path))
                staged.append((path, None))
                continue
            if patch.old_path is None and path.exists():
                raise PatchError(prompts.render("patch_errors#cannot_create", path=patch.path))
            if patch.old_path is not None and not path.is_file():
                raise PatchError(prompts.render("patch_errors#cannot_patch", path=patch.path))
            original = read_text(path) if path.exists() else ""
            newline = detect_newline(original)
            text = apply_hunks(patch.path, original.replace("\r\n", "\n"), patch.hunks)
            staged.append((path, to_newline(text, newline)))
        return staged

    def _refusal(self, rel: str, before: str | None, after: str) -> str | None:
        """Why a change of ``rel`` from ``before`` to ``after`` may not be written (:mod:`agents.guards`), or None."""
        if rel in self.protected:
            return _say("protected_test", path=rel)
        problem = syntax_problem(rel, before, after)
        if problem:
            return _say("unparsable", path=rel, problem=problem)
        return None

    # --------------------------------------------------------------------------------------------------- commands

    async def _run(self, action: RunAction) -> str:
        if self.commands is None:
            return _say("no_commands")
        if not action.command.strip():
            return _say("empty_command")
        outcome = await self.commands.run(
            self.step_id, action.command, cwd=self.root, workspace=self.root, timeout_s=self.command_timeout_s
        )
        return truncate(outcome.observation(), self.limits.output_chars)


    # ------------------------------------------------------------------------------------------------------- mcp

    async def mcp_tools(self) -> tuple[ToolSpec, ...]:
        """The MCP tools this toolbox can call (starting the session's servers on first use); () without any."""
        return await self.mcp.tools() if self.mcp is not None else ()

    async def _mcp(self, action: McpAction) -> str:
        if self.mcp is None:
            return _say("no_mcp")
        text = await self.mcp.call(self.step_id, action.qualified_name, action.arguments)
        return truncate(text, self.limits.output_chars, what="MCP output")


def _say(name: str, /, **values: object) -> str:
    """Observation ``name`` of agents/prompts/tool_observations.md, filled with ``values``."""
    return prompts.render(f"tool_observations#{name}", **values)


_TOP_LEVEL_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)", re.MULTILINE)


def dropped_definitions(before: str, after: str) -> list[str]:
    """The top-level functions and classes of a Python file's old text that its new text no longer defines."""
    kept = set(_TOP_LEVEL_DEFINITION.findall(after))
    return [name for name in dict.fromkeys(_TOP_LEVEL_DEFINITION.findall(before)) if name not in kept]


def truncate_line(line: str, limit: int) -> str:
    """One line cut to ``limit`` characters."""
    return clip(line, limit, keep="head", note=" [line cut]")
