"""``orchestrate memory show [-C DIR] [--json]``: the AGENTS.md docs that apply in a directory, and the composed text.

``--json`` prints DESIGN.md's contract exactly: ``{"sources":[{"path", "scope", "bytes", "truncated"}], "text"}``.
Without it, a rich tree of the sources (path, bytes, truncated) and how to raise the budget when something was cut.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.cli.context import CliContext, described

if TYPE_CHECKING:
    from rich.tree import Tree

    from orchestrator.core.contracts import MemoryContext, MemorySource

__all__ = ["register", "handle_show", "context_json"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("memory", help="AGENTS.md memory", **described(
        "AGENTS.md memory: the instruction docs every agent is given.", "orchestrate memory show"))
    actions = parser.add_subparsers(dest="memory_command", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show",
        help="show the AGENTS.md docs that apply in a directory",
        **described("Show the AGENTS.md docs that apply in a directory (global doc, then project root → DIR), "
                    "their sizes, whether the byte budget cut them, and the composed text (--json).",
                    "orchestrate memory show", "orchestrate memory show -C src/api --json"),
    )
    show.add_argument("-C", "--cd", dest="cd", metavar="DIR", help="look from DIR instead of the current directory")
    show.add_argument("-c", "--config", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="override a config key, e.g. -c memory.max_bytes=65536 (repeatable)")
    show.add_argument("-p", "--profile", help="config profile [profiles.NAME]")
    show.add_argument("--json", action="store_true", help='print {"sources": [...], "text": ...} as JSON')
    show.set_defaults(handler=handle_show)


def context_json(context: MemoryContext) -> dict[str, Any]:
    """The ``memory show --json`` object for ``context`` (DESIGN.md)."""
    return {
        "sources": [
            {"path": str(s.path), "scope": s.scope, "bytes": s.bytes, "truncated": s.truncated}
            for s in context.sources
        ],
        "text": context.text,
    }


def handle_show(args: argparse.Namespace, ctx: CliContext) -> int:
    from memory import build_memory

    cwd = ctx.cwd(args)
    settings = ctx.load_config(args).settings
    memory = build_memory(settings, ctx.home)
    context = memory.load(cwd)
    if args.json:
        text = json.dumps(context_json(context))
        ctx.out.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)
        return 0
    ctx.out.print(_tree(context, cwd, memory.project_root(cwd)))
    if settings.memory.max_bytes == 0:
        ctx.out.print("project docs are disabled: memory.max_bytes = 0", highlight=False)
    if any(s.truncated for s in context.sources):
        ctx.out.print(
            f"[yellow]the byte budget (memory.max_bytes = {settings.memory.max_bytes}) cut the docs marked "
            "truncated[/]: raise [bold]\\[memory] max_bytes[/] in config.toml, or pass "
            "[bold]-c memory.max_bytes=65536[/]",
            highlight=False,
        )
    return 0


def _tree(context: MemoryContext, cwd: Path, root: Path | None) -> Tree:
    from rich.markup import escape
    from rich.tree import Tree

    where = f"project root {root}" if root else "no project root: only this directory"
    tree = Tree(f"[bold]AGENTS.md memory for {escape(str(cwd))}[/] [dim]({escape(where)})[/]")
    if not context.sources:
        tree.add("[dim]no AGENTS.md docs apply here[/]")
        return tree
    for scope in ("global", "project"):
        sources = [s for s in context.sources if s.scope == scope]
        if sources:
            branch = tree.add(f"[bold]{scope}[/]")
            for source in sources:
                branch.add(_leaf(source))
    return tree


def _leaf(source: MemorySource) -> str:
    from rich.markup import escape

    label = f"{escape(str(source.path))}  [cyan]{source.bytes} bytes[/]"
    if source.truncated:
        label += f"  [bold yellow]truncated[/] [yellow]({source.dropped_bytes} bytes dropped)[/]"
    return label
