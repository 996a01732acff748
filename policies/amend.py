"""``always allow``: append ``prefix_rule(pattern=[...], decision="allow")`` to a rules file, exactly as Codex does.

The line format, the de-duplication (an identical line is not appended twice) and the newline handling are Codex's
``blocking_append_allow_prefix_rule``; the file is locked while it is read and appended to, so two prompts answered at
once cannot interleave.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Sequence
from pathlib import Path

from orchestrator.core.errors import InputError, Location

__all__ = ["allow_rule_line", "append_allow_prefix_rule", "append_allow_rule", "rules_file_choices"]


def allow_rule_line(prefix: Sequence[str]) -> str:
    """``prefix_rule(pattern=["git", "status"], decision="allow")`` (tokens JSON-quoted, like serde_json)."""
    if not prefix:
        raise InputError("prefix rule requires at least one token")
    tokens = ", ".join(json.dumps(token, ensure_ascii=False) for token in prefix)
    return f'prefix_rule(pattern=[{tokens}], decision="allow")'


def append_allow_prefix_rule(path: Path, prefix: Sequence[str]) -> int:
    """Append the allow rule for ``prefix`` to ``path`` (created with its directory); returns the rule's line."""
    line = allow_rule_line(prefix)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            contents = handle.read()
            existing = contents.splitlines()
            if line in existing:
                return existing.index(line) + 1
            if contents and not contents.endswith("\n"):
                handle.write("\n")
            handle.write(line + "\n")
            return len(existing) + 1
    except OSError as exc:
        raise InputError(f"cannot update rules file: {exc.strerror}", location=Location(path)) from None


def rules_file_choices(home_rules_dir: Path, project_root: Path) -> dict[str, Path]:
    """Where an always-allow rule can go: the user's global rules, or this project's ``.orchestrate/rules``."""
    return {
        "user": home_rules_dir / "default.rules",
        "project": project_root / ".orchestrate" / "rules" / "default.rules",
    }


def append_allow_rule(prefix: Sequence[str], rules_file: str | None) -> None:
    """``orchestrator.engine.commands.PersistRule``: append to ``rules_file``, or to
    ``$ORCHESTRATE_HOME/rules/default.rules``
    (Codex's amendment file) when the approver named none."""
    from orchestrator.settings.home import Home

    path = Path(rules_file) if rules_file else Home.from_env().rules_dir / "default.rules"
    append_allow_prefix_rule(path, prefix)
