"""``orchestrate mcp-server [OPTIONS]``: serve orchestrate's tools (plan, run, sessions) over MCP on stdio.

Register it in an MCP client as the command ``orchestrate`` with args ``["mcp-server"]``. The run options given here
(``-m``, ``--role-model``, ``-p``, ``-c``, ``-s``, ``-a``, ...) are the defaults of every call; a ``run`` call's
``sandbox`` / ``approval_policy`` arguments override them. Stdout carries only the protocol.
"""

from __future__ import annotations

import argparse

from orchestrator.cli.context import CliContext, add_common_options, described

__all__ = ["register", "handle"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "mcp-server", help="serve orchestrate as an MCP server on stdio (tools: plan, run, sessions)",
        **described("Serve orchestrate as an MCP server on stdio. Tools: plan(task, cwd), run(task, cwd, "
                    "sandbox?, approval_policy?) (non-interactive; approval policy 'never' unless given), "
                    "sessions(cwd?). The options below are the defaults of every call.",
                    "orchestrate mcp-server", "orchestrate mcp-server -m gpt-4o-mini --full-auto"))
    add_common_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, ctx: CliContext) -> int:
    from orchestrator.cli.mcp_tools import serve

    ctx.load_config(args)  # a bad option, profile or config file is reported now (exit 2), not on every call
    serve(environ=ctx.environ, defaults=ctx.overrides(args))
    return 0
