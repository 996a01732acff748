"""``orchestrate undo [--last | SESSION] [--step ID] [--force] [--json]``: restore the files as they were before a
session, or one of its steps (:mod:`orchestrator.engine.undo` says how, and when it refuses)."""

from __future__ import annotations

import argparse
from typing import Any

from orchestrator.cli.context import CliContext, described

__all__ = ["register", "handle"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("undo", help="restore the files as before a session or a step", **described(
        "Put your files back exactly as they were before a session (its steps undone last first), or before one of "
        "its steps: files it created are removed, deleted or renamed ones come back, modes are restored, and so are "
        "changes made by the commands the agents ran. Refuses, naming them, when files were changed since (by you or "
        "a later step): --force restores them anyway. Works after a crash, from the saved session. A session run "
        "with --commit or --branch is taken back with git instead (the refusal says how).",
        "orchestrate undo --last", "orchestrate undo --last --step s2",
        "orchestrate undo 20261129-223056-a24f9f --json", "orchestrate undo --last --force"))
    parser.add_argument("session", nargs="?", metavar="SESSION", help="session id (or unique prefix)")
    parser.add_argument("--last", action="store_true", help="the newest session started in this directory")
    parser.add_argument("--step", metavar="ID", help="undo only this step")
    parser.add_argument("--force", action="store_true", help="restore even files changed since (losing the changes)")
    parser.add_argument("--json", action="store_true", help="print the undo events, one JSON object a line")
    parser.add_argument("-C", "--cd", dest="cd", metavar="DIR", help="with --last: the sessions of DIR")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, ctx: CliContext) -> int:
    from functools import partial

    from orchestrator.compose import open_store
    from orchestrator.core.errors import InputError
    from orchestrator.core.events import JsonlSink, ListSink
    from orchestrator.engine.undo import resolve_session, undo
    from orchestrator.store.locks import tree_lock

    if args.session and args.last:
        raise InputError("give either --last or a session id, not both")
    store = open_store(ctx.home)
    try:
        session_id = resolve_session(store, args.session, last=args.last, cwd=ctx.cwd(args))
        sink = JsonlSink(ctx.out.file) if args.json else ListSink()
        report = undo(store, session_id, step_id=args.step, force=args.force, events=sink,
                      tree_lock=partial(tree_lock, home_root=ctx.home.root))
    finally:
        store.close()
    if args.json:  # stdout holds events only; the reason nothing was undone is for humans
        if report.nothing:
            ctx.err.print(report.nothing, markup=False, highlight=False)
        return 0
    for event in report.undone:
        files = ", ".join(event.files)
        forced = " (--force: over changes made since)" if event.forced else ""
        ctx.out.print(f"undid step {event.step_id} of session {event.session_id}: {files}{forced}",
                      markup=False, highlight=False)
    ctx.out.print(report.nothing or "your files are as they were before "
                  + (f"step {args.step}" if args.step else f"session {report.session_id}"),
                  markup=False, highlight=False)
    return 0
