"""The first-run trust question (:mod:`orchestrator.settings.trust` keeps the table)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.settings.trust import TrustLevel, set_trust

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.settings.home import Home

__all__ = ["ask_trust"]


def ask_trust(console: Console, home: Home, project_root: Path, *, stream: Any = None) -> TrustLevel:
    """Ask whether to trust ``project_root`` (first run there), record the answer, and return it."""
    from rich.markup import escape
    from rich.prompt import Confirm

    console.print(
        f"[bold]{escape(str(project_root))}[/] is a directory orchestrate has not seen before.\n"
        "Trusting it lets its [cyan].orchestrate/config.toml[/] and [cyan].orchestrate/rules/*.rules[/] configure "
        "models and allow commands. Only trust projects you (or people you trust) control."
    )
    answer = Confirm.ask("Trust this project?", console=console, default=False, stream=stream)
    level: TrustLevel = "trusted" if answer else "untrusted"
    set_trust(home, project_root, level)
    console.print(f"Recorded: {escape(str(project_root))} is {level} (change it with `orchestrate "
                  f"{'untrust' if answer else 'trust'} {escape(str(project_root))}`).")
    return level
