"""What every CLI handler receives: consoles, the resolved working directory, and config loading.

Handlers are ``handle(args, ctx) -> int``. They raise :class:`~orchestrator.core.errors.OrchestrateError` for anything
the user must fix; ``orchestrator.cli.main`` renders it once.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.core.errors import InputError
from orchestrator.settings.home import Home

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.settings.config import CliOverrides, LoadedConfig

__all__ = ["CliContext", "add_common_options", "add_model_options", "VALUE_OPTIONS", "described"]

# Options that take a value: the dispatcher needs them to find the subcommand word in argv.
VALUE_OPTIONS = frozenset(
    {"-m", "--model", "--role-model", "-p", "--profile", "-s", "--sandbox", "-a", "--ask-for-approval", "-C", "--cd",
     "-c", "--config", "--max-parallel", "--budget-usd"}
)


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps each paragraph of a description as usual; shows an ``examples:`` epilog as written (a command a line)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        fill = super()._fill_text  # bound here: a bare super() does not work inside the generator below
        return "\n\n".join(fill(part, width, indent) for part in text.split("\n\n"))


def described(description: str, *examples: str) -> dict[str, Any]:
    """``add_parser`` keywords: ``description`` (reST ``code`` markup removed) and an epilog of ``examples``."""
    return {"description": description.replace("``", "`").strip(),
            "epilog": "examples:\n" + "\n".join(f"  {example}" for example in examples),
            "formatter_class": _HelpFormatter}


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """The model and config OPTIONS (all a command that runs nothing, like ``plan``, takes)."""
    g = parser.add_argument_group("model and config options")
    g.add_argument("-m", "--model", help="model for every role (litellm model string, or 'local')")
    g.add_argument("--role-model", action="append", default=[], metavar="ROLE=MODEL",
                   help="model for one role: planner, coder, reviewer, validator (repeatable)")
    g.add_argument("-p", "--profile", help="config profile [profiles.NAME]")
    g.add_argument("-C", "--cd", dest="cd", metavar="DIR", help="work in DIR instead of the current directory")
    g.add_argument("-c", "--config", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (value parsed as TOML, else a string); repeatable")


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """The OPTIONS of DESIGN.md's CLI contract, shared by the commands that run agents: model and config, safety
    (sandbox, approvals) and limits."""
    add_model_options(parser)
    g = parser.add_argument_group("safety and limits")
    g.add_argument("-s", "--sandbox", dest="sandbox_mode",
                   choices=["read-only", "workspace-write", "danger-full-access"], help="sandbox mode for commands")
    g.add_argument("-a", "--ask-for-approval", dest="approval_policy",
                   choices=["untrusted", "on-failure", "on-request", "never"], help="when to ask before commands")
    g.add_argument("--full-auto", action="store_true", help="-a on-request -s workspace-write")
    g.add_argument("--yolo", action="store_true",
                   help="no sandbox, never ask (-s danger-full-access -a never): only in a disposable environment")
    g.add_argument("--max-parallel", type=int, metavar="N", help="steps run at once")
    g.add_argument("--budget-usd", type=float, metavar="X", help="stop when the model cost reaches X dollars")


@dataclass
class CliContext:
    out: Console
    err: Console
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    debug: bool = False

    @property
    def home(self) -> Home:
        return Home.from_env(self.environ)

    def cwd(self, args: argparse.Namespace) -> Path:
        """The directory the command works in: ``-C DIR`` if given (it must exist), else the process cwd."""
        raw = getattr(args, "cd", None)
        if not raw:
            return Path.cwd().resolve()
        path = Path(raw).expanduser()
        if not path.is_dir():
            raise InputError(f"-C {raw}: no such directory")
        return path.resolve()

    def overrides(self, args: argparse.Namespace) -> CliOverrides:
        from orchestrator.settings.config import CliOverrides

        return CliOverrides(
            profile=getattr(args, "profile", None),
            model=getattr(args, "model", None),
            role_models=tuple(getattr(args, "role_model", ()) or ()),
            sandbox_mode=getattr(args, "sandbox_mode", None),
            approval_policy=getattr(args, "approval_policy", None),
            full_auto=bool(getattr(args, "full_auto", False)),
            yolo=bool(getattr(args, "yolo", False)),
            max_parallel=getattr(args, "max_parallel", None),
            budget_usd=getattr(args, "budget_usd", None),
            overrides=tuple(getattr(args, "overrides", ()) or ()),
        )

    def load_config(self, args: argparse.Namespace) -> LoadedConfig:
        from orchestrator.compose import load_config

        return load_config(cwd=self.cwd(args), cli=self.overrides(args), home=self.home, environ=self.environ)
