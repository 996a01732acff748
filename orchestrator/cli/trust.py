"""``orchestrate trust [DIR]`` / ``orchestrate untrust [DIR]``: record a project's trust level in the user config.

DIR (default: the current directory) is resolved to its project root (the nearest ancestor holding ``.git``), the
directory whose ``.orchestrate/`` config and rules trust governs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from orchestrator.cli.context import CliContext, described
from orchestrator.core.errors import InputError

__all__ = ["register", "handle"]


def register(subparsers: Any) -> None:
    for name, help_text in (("trust", "trust a project: load its .orchestrate/ config and rules"),
                            ("untrust", "stop trusting a project: ignore its .orchestrate/ config and rules")):
        parser = subparsers.add_parser(name, help=help_text, **described(
            f"{help_text[0].upper()}{help_text[1:]}. DIR (default: the current directory) is resolved to its project "
            "root (the nearest ancestor holding .git); the answer is recorded in the user config.",
            f"orchestrate {name}", f"orchestrate {name} ~/src/app"))
        parser.add_argument("dir", nargs="?", metavar="DIR", help="project directory (default: current directory)")
        parser.set_defaults(handler=handle, trust_level="trusted" if name == "trust" else "untrusted")


def handle(args: argparse.Namespace, ctx: CliContext) -> int:
    from orchestrator.settings.config import find_project_root
    from orchestrator.settings.trust import set_trust

    raw = args.dir or "."
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if not path.is_dir():
        raise InputError(f"{raw}: no such directory")
    root = find_project_root(path.resolve())
    set_trust(ctx.home, root, args.trust_level)
    ctx.out.print(f"{root} is now {args.trust_level} ({ctx.home.config_file})", markup=False, highlight=False)
    return 0
