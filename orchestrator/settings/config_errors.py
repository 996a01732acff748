"""A config validation error as one line that names the file and line, the key, what is allowed, and the fix.

:func:`located_error` turns pydantic's first error into a :class:`ConfigError`: an unknown key gets "did you mean"
and the keys allowed there; a top-level key that landed inside a ``[table]`` (it was appended after the table's
header) is named as such, with the fix of moving it above the first header; a value outside a fixed set lists the
set; a value of the wrong type shows the key's default as an example.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from orchestrator.core.errors import ConfigError, Location
from orchestrator.settings.schema import Settings
from orchestrator.settings.toml_lines import find_key_line

__all__ = ["KeyPath", "Origin", "located_error"]

KeyPath = tuple[str, ...]

_TYPE_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false", "string": "a string",
               "list": "a list", "tuple": "a list", "dict": "a table", "model": "a table"}


@dataclass
class Origin:
    """Where a key came from: a file (and the key's path inside it, for a profile's keys), or a named layer."""

    label: str
    path: Path | None = None
    key_prefix: KeyPath = ()


_BOUNDS = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
           "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}


def _keys(model: type[BaseModel]) -> dict[str, Any]:
    """The model's fields by the key written in TOML (the alias where there is one: ``validate``)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _model_at(path: Sequence[str]) -> type[BaseModel] | None:
    """The schema model of the table at ``path`` (``()`` is :class:`Settings`); ``None`` if the path is not a table.
    A ``dict[str, Model]`` field (roles, profiles, projects, mcp_servers) takes one path element as its key."""
    model: type[BaseModel] = Settings
    parts = list(path)
    while parts:
        field = _keys(model).get(parts.pop(0))
        annotation = field.annotation if field is not None else None
        if typing.get_origin(annotation) is dict:
            if not parts:
                return None
            parts.pop(0)
            annotation = typing.get_args(annotation)[1]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


_KEYED = ("roles", "profiles", "mcp_servers", "projects")  # tables of named tables


def _fields_of(name: str) -> tuple[str, ...]:
    """The keys of top-level table ``name`` (for ``roles``, of one role), or none."""
    model = _model_at((name, "_") if name in _KEYED else (name,))
    return tuple(_keys(model)) if model is not None else ()


def _table_name(path: Sequence[str]) -> str:
    return ".".join(part if part.replace("_", "").replace("-", "").isalnum() else json.dumps(part) for part in path)


def _unknown_key(loc: KeyPath) -> tuple[str, str]:
    parent, key = loc[:-1], loc[-1]
    model = _model_at(parent)
    allowed = sorted(_keys(model)) if model is not None else []
    if parent and key in _keys(Settings) and key not in allowed:
        return (f"`{key}` is inside the [{_table_name(parent)}] table, where it is unknown",
                f"a key after a [table] header belongs to that table: move `{key} = ...` above the file's first "
                "[table] line to set it for everything")
    message = f"unknown key `{_table_name(loc)}`"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    where = f"[{_table_name(parent)}]" if parent else "the top level"
    shown = ", ".join(allowed) if len(", ".join(allowed)) <= 160 else ", ".join(allowed[:12]) + ", ..."
    if close:
        return message, f"did you mean `{close[0]}`? Keys in {where}: {shown}"
    homes = [name for name in _keys(Settings) if name != key and key in _fields_of(name) and
             name != (parent[0] if parent else None)]
    named = " or ".join(f"[{h}.NAME]" if h in _KEYED else f"[{h}]" for h in homes)
    if homes and not parent:
        return message, f"`{key}` goes in a table: {named}"
    if homes:
        return message, f"`{key}` goes in {named}; a key after a [table] header belongs to that table"
    return message, f"keys in {where}: {shown}; config/default.toml documents every key"


def _default_of(loc: KeyPath) -> Any:
    model = _model_at(loc[:-1])
    field = _keys(model).get(loc[-1]) if model is not None else None
    return None if field is None or field.is_required() else field.get_default(call_default_factory=True)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, str | int | float) else repr(value)


def _bad_value(loc: KeyPath, err: Mapping[str, Any]) -> tuple[str, str | None]:
    dotted, kind, given = ".".join(loc), str(err["type"]), err.get("input")
    if loc and loc[-1] == "[key]":  # a dict key outside its Literal: [roles.planer]
        table, bad = loc[:-2], loc[-2]
        expected = str(err.get("ctx", {}).get("expected", ""))
        choices = [c.strip(" '") for c in expected.replace(" or ", ", ").split(",") if c.strip(" '")]
        close = difflib.get_close_matches(bad, choices, n=1, cutoff=0.6)
        hint = f"did you mean [{_table_name((*table, close[0]))}]?" if close else None
        return f"unknown name `{bad}` in [{_table_name(table)}] (allowed: {', '.join(choices)})", hint
    shown = _toml_value(given) if given is not None and not isinstance(given, dict | list) else None
    prefix = f"`{dotted}` = {shown}" if shown else f"`{dotted}`"
    if kind in ("literal_error", "enum"):
        expected = str(err.get("ctx", {}).get("expected", ""))
        choices = [c.strip(" '") for c in expected.replace(" or ", ", ").split(",") if c.strip(" '")]
        close = difflib.get_close_matches(str(given), choices, n=1, cutoff=0.6)
        if close:
            return f"{prefix}: must be one of {', '.join(choices)}", f'did you mean {loc[-1]} = "{close[0]}"?'
        default = _default_of(loc)
        example = default if isinstance(default, str) and default in choices else choices[0] if choices else None
        return f"{prefix}: must be one of {', '.join(choices)}", example and f'e.g. {loc[-1]} = "{example}"'
    word = next((w for t, w in _TYPE_WORDS.items() if kind.startswith(t)), None)
    default = _default_of(loc)
    example = f"e.g. {loc[-1]} = {_toml_value(default)}" if default not in (None, "", (), [], {}) else None
    if word is not None and kind.endswith(("_type", "_parsing")):
        unquote = "; numbers and true/false take no quotes" if isinstance(given, str) and word != "a string" else ""
        return f"{prefix}: expected {word}", f"{example}{unquote}" if example else None
    words, ctx_key = _BOUNDS.get(kind, ("", ""))
    limit = err.get("ctx", {}).get(ctx_key) if ctx_key else None
    said = f"must be {words} {limit}" if limit is not None else err["msg"]
    return f"{prefix}: {said}", example and f"{example}, the default"


def located_error(origins: Mapping[KeyPath, Origin], loc: KeyPath, err: Mapping[str, Any]) -> ConfigError:
    """The one-line error for pydantic error ``err`` at ``loc``, located in the layer that set the key."""
    hint: str | None
    message, hint = _unknown_key(loc) if err["type"] == "extra_forbidden" else _bad_value(loc, err)
    origin = None
    for n in range(len(loc), 0, -1):
        origin = origins.get(loc[:n])
        if origin is not None:
            break
    if origin is None or origin.path is None:
        where = f" (from {origin.label})" if origin else ""
        return ConfigError(message + where, hint=hint)
    prefix = origin.key_prefix
    in_file = (*prefix, *loc) if prefix and loc[: len(prefix)] != prefix else loc
    text = origin.path.read_text(encoding="utf-8")
    return ConfigError(message, location=Location(origin.path, find_key_line(text, in_file)), hint=hint)
