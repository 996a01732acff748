"""What the run commands do before a session starts: config and directory trust, the task's custom prompt, the
Orchestrator with its MCP servers, and the start-up lines for the human.

* **Trust**: the first *interactive* run in a project that has an ``.orchestrate/`` directory and was never trusted
  nor untrusted asks (:func:`orchestrator.terminal.trust.ask_trust`) and loads the config again with the answer.
  ``exec`` and ``plan`` never ask: an undecided project is untrusted, its config, rules and prompts are ignored, and one
  ``note:`` line says so.
* **Custom prompts**: a task ``/name args`` is expanded (:func:`orchestrator.settings.prompts.expand_task`); the
project's
  prompts count only in a trusted project. An unknown name is an InputError (exit 2) listing the known ones.
* **Start-up lines**, printed once on the human console (stderr for ``exec``/``plan``): the config's and the policy
  gate's notices as ``note:`` lines (an untrusted project is one line, whatever it holds), then which model a role
  gets by default, if any, then which checks the validator will run and why (``checks: …``, or that there are none
  and the run is review only).
* **MCP**: the session's servers (if any are configured) belong to the Orchestrator, which offers them to the coders
  and stops them in ``aclose`` (the run commands always call it).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.api import Orchestrator
    from orchestrator.cli.context import CliContext
    from orchestrator.core.events import EventSink
    from orchestrator.core.ports import UiPorts
    from orchestrator.settings.config import LoadedConfig

__all__ = ["load_run_config", "expand_prompt", "open_orchestrator", "startup_notes"]


def load_run_config(args: argparse.Namespace, ctx: CliContext, *, ask: bool, human: Console) -> LoadedConfig:
    """The config for a run; with ``ask`` (interactive ``run`` on a terminal) an undecided project is asked about."""
    loaded = ctx.load_config(args)
    if ask and loaded.trust_level is None and _can_ask(human) and _has_project_dir(loaded.project_root,
                                                                                   ctx.cwd(args)):
        from orchestrator.terminal.trust import ask_trust

        ask_trust(human, ctx.home, loaded.project_root)
        loaded = ctx.load_config(args)  # what the answer allows (a trusted project's config may now fail to load)
    return loaded


def expand_prompt(task: str, loaded: LoadedConfig, ctx: CliContext) -> str:
    """``task`` with a leading ``/name args`` expanded (project prompts only when the project is trusted)."""
    from orchestrator.settings.prompts import expand_task

    project = loaded.project_root if loaded.trust_level == "trusted" else None
    return expand_task(task, home=ctx.home, project_dir=project)


def open_orchestrator(loaded: LoadedConfig, ctx: CliContext, *, cwd: Path, interactive: bool, human: Console,
                      json_out: bool = False, session_options: Mapping[str, Any] | None = None) -> Orchestrator:
    """The run's Orchestrator: events to ``human`` (live view) or JSONL on stdout; start-up lines printed once.

    The CLI passes its UI ports in (:func:`_ui_ports`); compose builds none."""
    from orchestrator.api import Orchestrator
    from orchestrator.core.events import JsonlSink
    from orchestrator.models.gateway import describe_default

    jsonl: EventSink | None = JsonlSink(ctx.out.file) if json_out else None
    ports = _ui_ports(loaded, ctx, interactive=interactive, human=human, view=not json_out)
    orch = Orchestrator.from_config(loaded, interactive=interactive, events=jsonl, cwd=cwd, environ=ctx.environ,
                                    session_options=session_options, ports=ports)
    from rich.markup import escape

    for note in startup_notes(loaded, orch.notices, cwd=cwd):
        human.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)  # one line, however long
    default = describe_default(loaded.settings, ctx.environ)
    if default:
        human.print(f"[dim]{escape(default)}[/]", highlight=False, soft_wrap=True)
    if orch.checks is not None and not interactive:  # an interactive run's header shows them (cli/live.py)
        from agents.checks import describe

        human.print(f"[dim]{escape(describe(orch.checks.infos(), loaded.settings))}[/]", highlight=False,
                    soft_wrap=True)
    return orch


def _ui_ports(loaded: LoadedConfig, ctx: CliContext, *, interactive: bool, human: Console, view: bool) -> UiPorts:
    """The terminal's ports for an interactive run (the person answers, on the live view); otherwise only the live
    view (``view``: not under ``--json``), and nobody to ask: ``exec``'s non-interactive defaults."""
    from orchestrator.core.ports import UiPorts
    from orchestrator.terminal.ports import terminal_ports
    from orchestrator.terminal.screen import LiveView

    live = LiveView(human) if view else None
    if not interactive:
        return UiPorts(events=live)
    return terminal_ports(human, home=ctx.home, project_root=loaded.project_root, view=live)


def startup_notes(loaded: LoadedConfig, gate_notices: Sequence[str], *, cwd: Path) -> list[str]:
    """The config's and the gate's notices, each once; everything an untrusted project had skipped is one line."""
    root = loaded.project_root
    untrusted = f"{root} is not trusted:"
    notes = [n for n in (*loaded.notices, *gate_notices) if not n.startswith(untrusted)]
    if loaded.trust_level != "trusted":
        skipped = _project_items(root, cwd)
        if skipped:
            notes.insert(0, f"{untrusted} its {' and '.join(skipped)} were not loaded "
                            f"(run `orchestrate trust {root}`)")
    return list(dict.fromkeys(notes))


def _can_ask(human: Console) -> bool:
    """A person can answer: the console is a terminal and so is stdin (the answer is read from it)."""
    import sys

    return human.is_terminal and sys.stdin is not None and sys.stdin.isatty()


def _has_project_dir(root: Path, cwd: Path) -> bool:
    from orchestrator.settings.config import project_chain

    return any((d / ".orchestrate").is_dir() for d in project_chain(root, cwd))


def _project_items(root: Path, cwd: Path) -> list[str]:
    """What an untrusted project holds that was not loaded: its config, rules and prompts."""
    from orchestrator.settings.config import project_chain

    dirs = [d / ".orchestrate" for d in project_chain(root, cwd)]
    items = []
    if any((d / "config.toml").is_file() for d in dirs):
        items.append(".orchestrate/config.toml")
    if any(any((d / "rules").glob("*.rules")) for d in dirs):
        items.append(".orchestrate/rules")
    if any((root / ".orchestrate" / "prompts").glob("*.md")):
        items.append(".orchestrate/prompts")
    return items
