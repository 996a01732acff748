"""``orchestrate execpolicy check``: Codex-compatible rule checks, and (``--shell``) the full gate.

``check --rules F [--rules F ...] [--pretty] [--resolve-host-executables] -- CMD...`` prints exactly what
``codex execpolicy check`` prints for the same rules and argv. ``--shell`` evaluates CMD the way an agent's command is
evaluated (one argument is a shell script, run as ``bash -lc SCRIPT``; several are an argv) under ``-a POLICY -s MODE``
and prints ``{"decision", "commands", "bypass_sandbox", "reason", "proposed_amendment"}``; without ``--rules`` it
loads the run's rules (built-in, user, trusted project). ``bypass_sandbox`` is orchestrate's narrower grant, not
Codex's: true only for a command listed in ``[sandbox] unconfined_prefixes`` (``-c`` sets it here too) that the agent
cannot bend into running something else; an ``allow`` rule alone means "in the sandbox, without asking"
(docs/rules.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from orchestrator.cli.context import CliContext, described
from orchestrator.core.errors import UsageError

__all__ = ["register", "handle"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("execpolicy", help="check commands against .rules files (Codex execpolicy)",
                                   **described("Check commands against .rules files, as Codex's execpolicy does, "
                                               "or (check --shell) against the full gate an agent's command meets.",
                                               "orchestrate execpolicy check --shell -- 'git push origin main'"))
    sub = parser.add_subparsers(dest="execpolicy_command", metavar="COMMAND", required=True)
    check = sub.add_parser("check", help="evaluate a command against rules and print the JSON result",
                           **described(__doc__ or "", "orchestrate execpolicy check -r my.rules --pretty -- git status",
                                       "orchestrate execpolicy check --shell -a on-request -- 'rm -rf build'"))
    check.add_argument("-r", "--rules", action="append", default=[], metavar="PATH",
                       help="rules file to load (repeatable; loaded in order)")
    check.add_argument("--pretty", action="store_true", help="pretty-print the JSON")
    check.add_argument("--resolve-host-executables", action="store_true",
                       help="let an absolute program path fall back to its basename's rules (host_executable)")
    check.add_argument("--shell", action="store_true",
                       help="evaluate the full gate (shell parsing, heuristics, approval policy)")
    check.add_argument("-a", "--ask-for-approval", dest="approval_policy",
                       choices=["untrusted", "on-failure", "on-request", "never"], help="approval policy (--shell)")
    check.add_argument("-s", "--sandbox", dest="sandbox_mode",
                       choices=["read-only", "workspace-write", "danger-full-access"], help="sandbox mode (--shell)")
    check.add_argument("-C", "--cd", dest="cd", metavar="DIR", help="evaluate as if run in DIR (--shell)")
    check.add_argument("-c", "--config", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key (--shell)")
    check.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD...", help="the command to check")
    check.set_defaults(handler=handle)


def _dump(data: Any, pretty: bool) -> str:
    if pretty:
        return json.dumps(data, ensure_ascii=False, indent=2)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _emit(ctx: CliContext, text: str) -> None:
    ctx.out.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)


def handle(args: argparse.Namespace, ctx: CliContext) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("execpolicy check: no command given (usage: execpolicy check --rules F -- CMD...)")
    if args.shell:
        return _shell(args, ctx, command)
    if not args.rules:
        raise UsageError("execpolicy check: --rules PATH is required (repeatable)")
    from policies.policy import Policy
    from policies.rules import load_policy

    policy = load_policy(Path(p) for p in args.rules)
    matches = policy.matches(command, resolve_host_executables=args.resolve_host_executables)
    _emit(ctx, Policy.check_json(matches, pretty=args.pretty))
    return 0


def _shell(args: argparse.Namespace, ctx: CliContext, command: list[str]) -> int:
    from orchestrator.workspace.gitrun import committed_files
    from policies.gate import build_gate, gate_for
    from policies.rules import load_policy

    loaded = ctx.load_config(args)
    cwd = ctx.cwd(args)
    if args.rules:
        gate = gate_for(load_policy(Path(p) for p in args.rules), loaded.settings)
    else:
        gate = build_gate(loaded.settings, home=ctx.home, cwd=cwd, project_root=loaded.project_root,
                          trusted=loaded.trust_level == "trusted", committed=committed_files)
    for notice in (*loaded.notices, *gate.notices):
        ctx.err.print(f"note: {notice}", markup=False, highlight=False)
    argv = ["bash", "-lc", command[0]] if len(command) == 1 else command
    verdict = gate.evaluate(argv, cwd=cwd)
    output = {
        "decision": verdict.decision,
        "commands": [list(c) for c in verdict.commands],
        "bypass_sandbox": verdict.bypass_sandbox,
        "reason": verdict.reason,
        "proposed_amendment": list(verdict.proposed_amendment) if verdict.proposed_amendment else None,
    }
    _emit(ctx, _dump(output, args.pretty))
    return 0
