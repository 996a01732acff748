"""Directory trust: which projects may contribute config and rules.

A project is trusted when the user config says ``[projects."/abs/path"] trust_level = "trusted"`` for the project
root or one of its ancestors (the nearest entry wins). Untrusted and unknown projects' ``.orchestrate/`` files are
never loaded. :func:`set_trust` edits that table in ``$ORCHESTRATE_HOME/config.toml``, keeping the user's comments
and layout, and writes a new entry as a top-level line so that keys the user appends later stay top-level;
:func:`orchestrator.terminal.trust.ask_trust` is the first-run question in an unknown directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from orchestrator.core.errors import ConfigError, Location

if TYPE_CHECKING:

    from orchestrator.settings.home import Home

__all__ = ["TrustLevel", "trust_level_for", "set_trust"]

TrustLevel = Literal["trusted", "untrusted"]


def trust_level_for(projects: Mapping[str, Any], path: Path) -> str | None:
    """``"trusted"``, ``"untrusted"`` or ``None`` (never decided) for ``path``, from the ``projects`` config table."""
    entries: dict[Path, str] = {}
    for key, value in projects.items():
        level = value.get("trust_level") if isinstance(value, Mapping) else getattr(value, "trust_level", None)
        if isinstance(level, str):
            entries[Path(key).expanduser()] = level
    for directory in (path, *path.parents):
        if directory in entries:
            return entries[directory]
    return None


def set_trust(home: Home, path: Path, level: TrustLevel) -> None:
    """Record ``level`` for ``path`` (made absolute) in the user config, keeping everything else as it was.

    An existing entry is changed where it is. A new one is one top-level line, ``projects."/abs/path".trust_level =
    "trusted"``, placed after the file's other top-level keys and before its first ``[table]``: a key the user later
    appends at the end of a file without tables still lands at the top level (a ``[projects."..."]`` table written
    last would capture it)."""
    config = home.config_file
    key = str(path.expanduser().resolve())
    try:
        text = config.read_text(encoding="utf-8") if config.exists() else ""
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", location=Location(config)) from None
    data = _parse(text, config)
    projects = data.get("projects", {})
    if not isinstance(projects, dict):
        raise ConfigError("`projects` must be a table", location=Location(config))
    entry = projects.get(key)
    new_text = None if isinstance(entry, dict) else _with_top_level_line(text, data, key, level)
    if new_text is None:
        new_text = _edited_in_place(text, key, level)
    try:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(new_text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write config: {exc.strerror}", location=Location(config)) from None


def _parse(text: str, config: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg, _, where = str(exc).partition(" (at line ")
        line = int(where.split(",")[0]) if where[:1].isdigit() else None
        raise ConfigError(f"malformed TOML: {msg}", location=Location(config, line), hint="fix the syntax") from None


def _with_top_level_line(text: str, data: dict[str, Any], key: str, level: str) -> str | None:
    """``text`` with the entry as a top-level dotted key before the first table header, or ``None`` when no place
    gives exactly the old data plus the entry (e.g. the file has a ``[projects]`` header: TOML forbids mixing)."""
    import tomllib

    line = f"projects.{json.dumps(key, ensure_ascii=False)}.trust_level = {json.dumps(level)}"
    expected = {**data, "projects": {**data.get("projects", {}), key: {"trust_level": level}}}
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # Candidates: before each line that looks like a header (one may sit inside a multi-line array, which the
    # parse below rejects), then the end of the file.
    headers = [i for i, raw in enumerate(lines) if raw.lstrip().startswith("[")]
    for index in [*headers, len(lines)]:
        at = index
        while at > 0 and (not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")) and index < len(lines):
            at -= 1  # keep a table's leading comment and blank lines with the table
        before, after = lines[:at], lines[at:]
        block = [line + "\n", *(["\n"] if after and after[0].strip() else [])]
        candidate = "".join([*before, *block, *after])
        try:
            if tomllib.loads(candidate) == expected:
                return candidate
        except tomllib.TOMLDecodeError:
            continue
    return None


def _edited_in_place(text: str, key: str, level: str) -> str:
    """The entry set with tomlkit, which keeps the file's comments and layout (for an entry that exists already,
    in whatever form, and for files the top-level line cannot go into)."""
    import tomlkit

    document = tomlkit.parse(text)
    projects = document.get("projects")
    if projects is None:
        projects = tomlkit.table(is_super_table=True)
        document["projects"] = projects
    entry = projects.get(key)
    if isinstance(entry, dict):
        entry["trust_level"] = level
    else:
        table = tomlkit.table()
        table["trust_level"] = level
        projects[key] = table
    return tomlkit.dumps(document)
