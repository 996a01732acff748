"""Directory trust: which projects may contribute config and rules.

A project is trusted when the user config says ``[projects."/abs/path"] trust_level = "trusted"`` for the project
root or one of its ancestors (the nearest entry wins). Untrusted and unknown projects' ``.orchestrate/`` files are
never loaded. :func:`set_trust` edits that table in ``$ORCHESTRATE_HOME/config.toml`` with tomlkit, so the user's
comments and layout survive; :func:`orchestrator.terminal.trust.ask_trust` is the first-run question in an unknown
directory.
"""

from __future__ import annotations

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
    """Record ``level`` for ``path`` (made absolute) in the user config, keeping everything else as it was."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    config = home.config_file
    key = str(path.expanduser().resolve())
    try:
        text = config.read_text(encoding="utf-8") if config.exists() else ""
        document = tomlkit.parse(text)
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", location=Location(config)) from None
    except TOMLKitError as exc:
        line = getattr(exc, "line", None)
        raise ConfigError(f"malformed TOML: {exc}", location=Location(config, line), hint="fix the syntax") from None
    projects = document.get("projects")
    if projects is None:
        projects = tomlkit.table(is_super_table=True)
        document["projects"] = projects
    elif not isinstance(projects, dict):
        raise ConfigError("`projects` must be a table", location=Location(config))
    entry = projects.get(key)
    if isinstance(entry, dict):
        entry["trust_level"] = level
    else:
        table = tomlkit.table()
        table["trust_level"] = level
        projects[key] = table
    try:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(tomlkit.dumps(document), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write config: {exc.strerror}", location=Location(config)) from None
