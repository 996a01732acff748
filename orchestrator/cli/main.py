"""The ``orchestrate`` command: ``cli(argv) -> int``, testable as a function.

Subcommands live in one module each (``orchestrator.cli.<name>``) exposing ``register(subparsers)``; each registers
its parser(s) with ``set_defaults(handler=...)``. Modules import only argparse-level code at top level so
``orchestrate --help`` stays fast (litellm is never imported on this path). Errors are rendered here, once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from orchestrator.cli.context import VALUE_OPTIONS, CliContext, add_common_options, described
from orchestrator.core.errors import OrchestrateError

__all__ = ["cli", "run", "build_parser"]

# Subcommand word → module registering it. "run" is the default command (`orchestrate [TASK]`).
SUBCOMMANDS: dict[str, str] = {
    "run": "orchestrator.cli.run",
    "exec": "orchestrator.cli.run",
    "plan": "orchestrator.cli.run",
    "resume": "orchestrator.cli.run",
    "sessions": "orchestrator.cli.sessions",
    "execpolicy": "orchestrator.cli.execpolicy",
    "sandbox": "orchestrator.cli.sandbox",
    "memory": "orchestrator.cli.memory",
    "trust": "orchestrator.cli.trust",
    "untrust": "orchestrator.cli.trust",
    "models": "orchestrator.cli.models",
    "mcp-server": "orchestrator.cli.mcp_server",
    "batch": "orchestrator.cli.batch",
    "undo": "orchestrator.cli.undo",
    "review": "orchestrator.cli.review",
}


def build_parser() -> argparse.ArgumentParser:
    from orchestrator import __version__

    parser = argparse.ArgumentParser(prog="orchestrate", **described(
        "Multi-agent coding orchestrator: plan → parallel coders → review-gated, validated edits.\n\n"
        "`orchestrate TASK` runs interactively (= `orchestrate run TASK`); `orchestrate COMMAND --help` shows each "
        "command's options and examples.",
        'orchestrate "add a --verbose flag to the CLI"',
        'orchestrate exec --json "fix the failing test" > events.jsonl',
        "orchestrate sessions --all", "orchestrate models check"))
    parser.add_argument("--version", action="version", version=f"orchestrate {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    seen: set[str] = set()
    for module_name in dict.fromkeys(SUBCOMMANDS.values()):
        if module_name in seen:
            continue
        seen.add(module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a subcommand whose module is not built yet
        module.register(sub)
    return parser


def _normalise(argv: Sequence[str]) -> list[str]:
    """Move the subcommand word first (``-m X exec T`` → ``exec -m X T``); no word means ``run``."""
    args = list(argv)
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            break
        if token.startswith("-"):
            if token in VALUE_OPTIONS:
                i += 1
            i += 1
            continue
        if token in SUBCOMMANDS:
            return [token, *args[:i], *args[i + 1 :]]
        break
    if any(a in ("-h", "--help", "--version") for a in args[: i or len(args)]) and i >= len(args):
        return args
    return ["run", *args]


def one_edit_apart(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one insertion, deletion, substitution or swap of two neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _mistyped_command(normalised: Sequence[str]) -> str | None:
    """The subcommand a default-command ``TASK`` of one word most likely meant (``sesions`` → ``sessions``)."""
    words = [a for a in normalised[1:] if not a.startswith("-")]
    if normalised[:1] != ["run"] or len(words) != 1 or len(words[0].split()) != 1:
        return None
    word = words[0].lower()
    return next((name for name in SUBCOMMANDS if word == name or one_edit_apart(word, name)), None)


def cli(argv: Sequence[str] | None = None, ctx: CliContext | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code (DESIGN.md)."""
    raw = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in raw
    raw = [a for a in raw if a != "--debug"]
    parser = build_parser()
    normalised = _normalise(raw) if raw else ["run"]
    meant = _mistyped_command(normalised) if raw[:1] != ["run"] else None
    if meant is not None:  # a typo must not start a model run and leave a session behind
        task = next(a for a in normalised[1:] if not a.startswith("-"))
        print(f"orchestrate: unknown command '{task}'; did you mean `orchestrate {meant}`? "
              f"(to run it as a task: orchestrate run {task})", file=sys.stderr)
        return 2
    try:
        args = parser.parse_args(normalised)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if ctx is None:  # after parsing: `--help` and usage errors need no rich console (start-up time)
        from rich.console import Console

        ctx = CliContext(out=Console(), err=Console(stderr=True), debug=debug)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args, ctx))
    except OrchestrateError as exc:
        if ctx.debug:
            ctx.err.print_exception()
        from rich.markup import escape

        ctx.err.print(f"[bold red]error:[/] {escape(exc.render())}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        ctx.err.print("interrupted")
        return 130
    except EOFError:  # input closed at a question asked before any run started (trust, picker, task): no answer
        ctx.err.print("[bold red]error:[/] no answer (input closed); nothing was changed", highlight=False)
        return 2


def run() -> None:
    """Console-script entry point."""
    sys.exit(cli())


__all__ += ["add_common_options"]
