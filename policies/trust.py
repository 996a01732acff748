"""Directory trust: which projects may contribute config and rules.

A project is trusted when the user config says ``[projects."/abs/path"] trust_level = "trusted"`` for the project
root or one of its ancestors (the nearest entry wins). Untrusted and unknown projects' ``.orchestrate/`` files are
never loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["trust_level_for"]


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
