"""``orchestrate sandbox run [-s MODE] [--network] [-C DIR] [--backend B] -- CMD...`` and ``sandbox status``.

``run`` confines one command exactly as an agent's command is confined (the config's ``[sandbox]`` settings, the
workspace being the working directory), passes stdio through, and exits with the command's status. A sandbox that
cannot confine the command exits 2 with how to fix it. ``status`` shows which mechanisms work on this machine.
"""

from __future__ import annotations

import argparse

from orchestrator.cli.context import CliContext, described
from orchestrator.core.errors import UsageError

__all__ = ["register", "handle_run", "handle_status"]

_MODES = ("read-only", "workspace-write", "danger-full-access")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sandbox", help="run a command in the sandbox", **described(
        "Run commands confined the way agents' commands are, and show which sandbox mechanisms work here.",
        "orchestrate sandbox run -- make test", "orchestrate sandbox status"))
    actions = parser.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run",
        help="run one command confined as an agent's command would be",
        **described("Run CMD confined as an agent's command would be (config [sandbox] settings; the workspace is "
                    "the working directory), with stdio passed through; exit with CMD's status.",
                    "orchestrate sandbox run -- pytest -q", "orchestrate sandbox run -s read-only --network -- curl -I "
                    "https://pypi.org"),
    )
    run.add_argument("-s", "--sandbox", "--mode", dest="mode", choices=_MODES,
                     help="sandbox mode (default: the config's sandbox_mode)")
    run.add_argument("--network", action="store_true", help="allow network access (default: sandbox.network)")
    run.add_argument("--backend", choices=["bwrap", "landlock"], help="force one mechanism (default: sandbox.backend)")
    run.add_argument("-C", "--cd", dest="cd", metavar="DIR", help="run in (and confine to) DIR")
    run.add_argument("-c", "--config", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config key, e.g. -c sandbox.protect_git=false (repeatable)")
    run.add_argument("-p", "--profile", help="config profile [profiles.NAME]")
    run.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD...", help="the command and its arguments")
    run.set_defaults(handler=handle_run)
    status = actions.add_parser("status", help="show which sandbox mechanisms work here", **described(
        "Probe bubblewrap and Landlock + seccomp on this machine and say which limits are in force.",
        "orchestrate sandbox status"))
    status.set_defaults(handler=handle_status)


def handle_run(args: argparse.Namespace, ctx: CliContext) -> int:
    from rich.markup import escape

    from policies.sandbox import build_sandbox, policy_for

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("sandbox run: no command given", hint="orchestrate sandbox run -- CMD...")
    cwd = ctx.cwd(args)
    settings = ctx.load_config(args).settings
    updates: dict[str, object] = {}
    if args.mode:
        updates["sandbox_mode"] = args.mode
    if args.network:
        updates["sandbox"] = settings.sandbox.model_copy(update={"network": True})
    settings = settings.model_copy(update=updates)

    def warn(message: str) -> None:
        ctx.err.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)

    sandbox = build_sandbox(settings, backends=[args.backend] if args.backend else None, on_warning=warn, home=ctx.home)
    policy = policy_for(settings, cwd)
    import asyncio  # lazily: `orchestrate --help` stays fast

    result = asyncio.run(sandbox.run(command, policy=policy, cwd=cwd, env=ctx.environ, stdio="inherit"))
    if result.timed_out:
        warn("the command timed out")
    return result.exit_code


def handle_status(args: argparse.Namespace, ctx: CliContext) -> int:
    from rich.markup import escape

    from policies.sandbox.probe import BACKENDS, FIX_HINT, probe

    found = probe()
    for name in BACKENDS:
        status = found.status(name)
        mark = "[green]works[/]" if status.available else "[red]unavailable[/]"
        ctx.out.print(f"{name}: {mark} ({escape(status.detail)})", highlight=False, soft_wrap=True)
    from policies.sandbox.factory import build_sandbox

    for line in build_sandbox(ctx.load_config(args).settings).describe_limits():
        ctx.out.print(f"limits: {escape(line)}", highlight=False, soft_wrap=True)
    if not any(found.status(n).available for n in BACKENDS):
        ctx.out.print(f"no sandbox mechanism works: {escape(FIX_HINT)}", highlight=False, soft_wrap=True)
        return 1
    return 0
