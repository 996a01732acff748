"""``orchestrate sessions`` (list, newest first) and ``sessions rm ID...`` (delete)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.cli.context import CliContext, described

if TYPE_CHECKING:
    from orchestrator.store.sessions import SessionMeta

__all__ = ["register", "handle_sessions", "handle_sessions_rm"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sessions = subparsers.add_parser("sessions", help="list sessions (this directory's, newest first)", **described(
        "List the sessions started in this directory (or every directory's with --all), newest first, with their "
        "status; `sessions rm ID...` deletes some.", "orchestrate sessions", "orchestrate sessions --all --json"))
    sessions.add_argument("-C", "--cd", dest="cd", metavar="DIR", help="list the sessions of DIR")
    sessions.add_argument("--all", action="store_true", help="sessions of every directory")
    sessions.add_argument("--json", action="store_true", help="print a JSON array")
    sessions.set_defaults(handler=handle_sessions)
    actions = sessions.add_subparsers(dest="sessions_action", metavar="{rm}")
    rm = actions.add_parser("rm", help="delete sessions (full id or unique prefix)", **described(
        "Delete sessions and their saved work; every id is checked first, so a bad one deletes nothing.",
        "orchestrate sessions rm 20261129-223056-a24f9f", "orchestrate sessions rm 2026112"))
    rm.add_argument("ids", nargs="+", metavar="ID", help="session id or unique prefix")
    rm.add_argument("--branches", action="store_true",
                    help="also delete the branch a --branch session delivered (its failed-step branches always go)")
    rm.set_defaults(handler=handle_sessions_rm)


def handle_sessions(args: argparse.Namespace, ctx: CliContext) -> int:
    from orchestrator.compose import open_store

    store = open_store(ctx.home)
    try:
        metas = store.list_sessions(cwd=None if args.all else ctx.cwd(args))
    finally:
        store.close()
    if args.json:
        rows = [{"id": m.id, "cwd": m.cwd, "branch": m.git.branch, "status": m.effective_status,
                 "updated": m.updated, "task": m.task} for m in metas]
        ctx.out.file.write(json.dumps(rows) + "\n")
        return 0
    if not metas:
        ctx.out.print("no sessions" + ("" if args.all else " here (--all lists every directory)"))
        return 0
    from orchestrator.terminal.session_list import session_lines

    # On a terminal the listing fits its width; piped, nothing is cut (scripts need whole ids and tasks).
    width = ctx.out.width if ctx.out.is_terminal else None
    home = ctx.environ.get("HOME") if width else None  # "~/..." only for a person
    for line in session_lines(metas, width=width, show_cwd=args.all, home=Path(home) if home else None):
        ctx.out.print(line, soft_wrap=True, highlight=False)
    return 0


def _remove_branches(ctx: CliContext, meta: SessionMeta, *, branches: bool) -> None:
    """The removed session's failed-step branches go; its delivered branch only with ``--branches`` (it is the work)."""
    from orchestrator.engine.delivery import remove_delivery

    deleted, kept = remove_delivery(meta, branches=branches)
    for name in deleted:
        ctx.out.print(f"  deleted branch {name}", highlight=False)
    if kept:
        ctx.out.print(f"  kept branch {kept} (its work): `git branch -D {kept}` or `sessions rm --branches` deletes it",
                      highlight=False)


def handle_sessions_rm(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove each session named (all names are resolved first, so a bad one removes nothing)."""
    from orchestrator.compose import open_store

    store = open_store(ctx.home)
    try:
        ids = list(dict.fromkeys(store.resolve(name) for name in args.ids))
        for session_id in ids:
            store.check_removable(session_id)
        for session_id in ids:
            with store.open(session_id) as session:
                meta = session.meta
            store.remove(session_id)
            ctx.out.print(f"removed {session_id}", highlight=False)
            _remove_branches(ctx, meta, branches=args.branches)
    finally:
        store.close()
    return 0
