"""The coder's action vocabulary: one action per model turn, as a discriminated union on ``action``.

The wire schema is built for small models under grammar-constrained JSON: every action is one flat object of plain
strings (and two optional integers), the ``$defs`` are inlined, titles and nullable branches are dropped, and
``thought`` comes first so that a model writes its one-line reasoning *before* it commits to an action (it stays
optional when parsing). With native tool calling the same actions are offered as
:class:`~orchestrator.core.contracts.ToolSpec`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, TypeAdapter, ValidationError

from agents import prompts
from orchestrator.core.contracts import ToolSpec

__all__ = [
    "ReadFileAction",
    "ListFilesAction",
    "SearchAction",
    "EditAction",
    "ApplyPatchAction",
    "WriteFileAction",
    "RunAction",
    "DoneAction",
    "McpAction",
    "Action",
    "ActionReply",
    "McpActionReply",
    "ActionFormatError",
    "ACTION_NAMES",
    "action_json_schema",
    "tool_specs",
    "parse_tool_call",
    "parse_action_text",
]

_THOUGHT = "One short sentence: why this action."
_THOUGHT_MAX = 300


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Bounded so a small model cannot ramble inside it (grammar-enforced as maxLength); see _THOUGHT_MAX.
    thought: str = Field(default="", description=_THOUGHT, max_length=_THOUGHT_MAX)

    def to_json(self) -> str:
        """The action as the model should have written it (used to record the assistant's turn)."""
        data = self.model_dump(exclude_none=True)
        thought = data.pop("thought")
        ordered = ({"thought": thought} if thought else {}) | {"action": data.pop("action")} | data
        return json.dumps(ordered, ensure_ascii=False)


class ReadFileAction(_Action):
    """Show a file (optionally only lines start_line..end_line, 1-based, inclusive)."""

    action: Literal["read_file"]
    path: str
    start_line: int | None = Field(default=None, ge=1)
    end_line: int | None = Field(default=None, ge=1)


class ListFilesAction(_Action):
    """List the files under a directory, optionally only those matching a glob like *.py."""

    action: Literal["list_files"]
    path: str = "."
    glob: str | None = None


class SearchAction(_Action):
    """Search file contents for a regular expression; shows matching lines as path:line: text."""

    action: Literal["search"]
    pattern: str
    path: str = "."
    glob: str | None = None


class EditAction(_Action):
    """Replace the exact text `search` (copied from the file, unique in it) by `replace`."""

    action: Literal["edit"]
    path: str
    search: str
    replace: str


class ApplyPatchAction(_Action):
    """Apply a unified diff (--- a/FILE, +++ b/FILE, @@ hunks)."""

    action: Literal["apply_patch"]
    diff: str


class WriteFileAction(_Action):
    """Create a file, or overwrite it, with the complete content."""

    action: Literal["write_file"]
    path: str
    content: str


class RunAction(_Action):
    """Run a shell command in the project root, e.g. python -m pytest -q."""

    action: Literal["run"]
    command: str


class McpAction(_Action):
    """Call a tool of an MCP server (the tools are listed in the instructions) with its arguments."""

    action: Literal["mcp"]
    server: str = ""  # empty: `tool` is the qualified name mcp__SERVER__TOOL (a native tool call)
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        """The tool's name as the MCP hub knows it (``mcp__<server>__<tool>``)."""
        from orchestrator.core.services import qualified_tool_name

        return qualified_tool_name(self.server, self.tool) if self.server else self.tool


class DoneAction(_Action):
    """Finish: the goal is reached. Summarize what changed."""

    action: Literal["done"]
    summary: str = Field(max_length=500)


Action = Annotated[
    ReadFileAction | ListFilesAction | SearchAction | EditAction | ApplyPatchAction | WriteFileAction | RunAction
    | DoneAction | McpAction,
    Field(discriminator="action"),
]
_VARIANTS: tuple[type[_Action], ...] = (
    ReadFileAction, ListFilesAction, SearchAction, EditAction, ApplyPatchAction, WriteFileAction, RunAction, DoneAction,
)
ACTION_NAMES: tuple[str, ...] = (
    "read_file", "list_files", "search", "edit", "apply_patch", "write_file", "run", "done",
)
_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)


class ActionReply(RootModel[Action]):
    """One model turn in structured-output mode: exactly one action. Its JSON schema is :func:`action_json_schema`."""

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return action_json_schema()


class McpActionReply(ActionReply):
    """One turn of a coder that has MCP tools: the actions of :class:`ActionReply` plus ``mcp``."""

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return action_json_schema(mcp=True)


class ActionFormatError(Exception):
    """The model's reply is not one valid action; ``str()`` tells the model what to fix, ``said`` is the reply."""

    def __init__(self, message: str, said: str = "") -> None:
        self.message = message
        self.said = said
        super().__init__(message)


def _variant_schema(variant: type[_Action], *, with_action: bool) -> dict[str, Any]:
    raw = variant.model_json_schema()
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, prop in raw["properties"].items():
        if name == "action" and not with_action:
            continue
        properties[name] = _compact_property(prop, required=name in raw.get("required", ()))
    order = ["thought", "action"] if with_action else ["thought"]
    ordered = {k: properties[k] for k in order if k in properties}
    ordered.update({k: v for k, v in properties.items() if k not in ordered})
    required = [k for k in ordered if k in raw.get("required", ()) or (with_action and k == "thought")]
    return {"type": "object", "description": (variant.__doc__ or "").strip(), "properties": ordered,
            "required": required, "additionalProperties": False}


def _compact_property(prop: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
    """Drop titles and defaults; an optional nullable field becomes its non-null type (omitting it means null)."""
    out = {k: v for k, v in prop.items() if k not in ("title", "default")}
    branches = out.pop("anyOf", None)
    if branches is not None:
        non_null = [b for b in branches if b.get("type") != "null"]
        if len(non_null) == 1 and not required:
            out.update(non_null[0])
        else:
            out["anyOf"] = branches
    if "const" in out:
        out = {"type": "string", "const": out["const"]}
    return out


def action_json_schema(*, mcp: bool = False) -> dict[str, Any]:
    """The structured-output schema of one turn: ``anyOf`` the actions, each flat, ``thought`` first (``mcp``: with
    the mcp action, offered only to a coder that has MCP tools)."""
    variants: tuple[type[_Action], ...] = (*_VARIANTS, McpAction) if mcp else _VARIANTS
    return {"anyOf": [_variant_schema(v, with_action=True) for v in variants]}


def tool_specs() -> tuple[ToolSpec, ...]:
    """The actions as native tools: the tool name is the action name, the parameters its other fields."""
    return tuple(
        ToolSpec(name=name, description=(variant.__doc__ or "").strip(),
                 parameters=_variant_schema(variant, with_action=False))
        for name, variant in zip(ACTION_NAMES, _VARIANTS, strict=True)
    )


def _validate(data: object) -> Action:
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ActionFormatError(_explain(exc, data)) from None


def _explain(exc: ValidationError, data: object) -> str:
    name = data.get("action") if isinstance(data, dict) else None
    if name not in (*ACTION_NAMES, "mcp"):
        return prompts.render("action_errors#unknown_action", names=", ".join(ACTION_NAMES), got=repr(name))
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"][1:]) or "reply"
        problems.append(f"{where}: {error['msg']}")
    return prompts.render("action_errors#invalid_action", name=name, problems="; ".join(problems))


def parse_tool_call(name: str, arguments: Mapping[str, Any]) -> Action:
    """The action a native tool call designates (an ``mcp__...`` tool: an MCP call).

    Raises :class:`ActionFormatError`.
    """
    if name.startswith(_MCP_PREFIX):
        return McpAction(action="mcp", tool=name, arguments=dict(arguments))
    return _validate({**arguments, "action": name})


_MCP_PREFIX = "mcp__"  # orchestrator.mcp.client.TOOL_PREFIX (not imported: that module is imported lazily)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def parse_action_text(text: str) -> Action:
    """The action written as JSON in a reply's text (bare, fenced, or after some prose).

    Models without native tool calls write the call in the content; this accepts the first JSON object found, also
    in the tool-call shape ``{"name": ..., "arguments": {...}}``. Raises :class:`ActionFormatError`.
    """
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        start = candidate.find("{")
        while start != -1:
            try:
                data, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                start = candidate.find("{", start + 1)
                continue
            if isinstance(data, dict) and "action" not in data and isinstance(data.get("arguments"), dict):
                return parse_tool_call(str(data.get("name", "")), data["arguments"])
            return _validate(data)
    raise ActionFormatError(prompts.load("action_errors#no_json"))
