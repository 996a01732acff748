"""Which session ``resume`` and ``exec resume`` continue, and how: the session picker, ``--last``, the session's own
directory and model options (replayed unless given again), and the answers a resume takes (``--retry-failed``,
``"guidance"``: see :meth:`orchestrator.api.Orchestrator.resume`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from orchestrator.cli.context import CliContext
from orchestrator.core.errors import InputError

__all__ = ["add_resume_answers", "pick", "replayable", "cd_to_session"]


class _Intermixed(argparse.ArgumentParser):
    """Positionals may follow options (``exec resume --last "guidance"``, ``resume ID --retry-failed "guidance"``):
    plain argparse binds the optional positionals to nothing as soon as the first positional is read, and then
    refuses the later one. Intermixed parsing calls this method again inside: that inner call parses plainly."""

    _inner = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def add_resume_answers(parser: argparse.ArgumentParser, lead: str) -> None:
    """``["guidance"]`` and ``--retry-failed`` (``lead`` starts their help: exec's say "with `resume`: "); the
    parser then takes its positionals anywhere among its options."""
    parser.__class__ = _Intermixed
    parser.add_argument("guidance", nargs="?", help=(
        f"{lead}guidance for the steps that run again (failed ones: implies --retry-failed), or, after a session "
        "that succeeded, a follow-up: new steps planned in the same session"))
    parser.add_argument("--retry-failed", action="store_true",
                        help=f"{lead}run the failed steps (and the steps skipped after them) again")


def pick(args: argparse.Namespace, ctx: CliContext, *, interactive: bool) -> str:
    """The session to resume: the id given, the newest here with --last, or a picker (interactive). With --last, a
    lone positional is the guidance (``exec resume --last "follow-up"``, as Codex takes it)."""
    from orchestrator.compose import open_store

    if args.last and args.session and not args.guidance:
        args.session, args.guidance = None, args.session
    if args.last and args.session:
        raise InputError("--last and a session id were both given", hint='resume --last "guidance" or resume ID')
    store = open_store(ctx.home)
    try:
        if args.session:
            return store.resolve(args.session)
        metas = store.list_sessions(cwd=None if getattr(args, "all", False) else ctx.cwd(args))
    finally:
        store.close()
    if not metas:
        raise InputError("no session to resume here", hint="`orchestrate sessions --all` lists every directory's")
    if args.last or not interactive:
        if not args.last:
            raise InputError("exec resume needs a session id or --last")
        return metas[0].id
    return _picker(ctx, metas)


def _picker(ctx: CliContext, metas: list[Any]) -> str:
    from rich.markup import escape
    from rich.prompt import IntPrompt

    shown = metas[:20]
    for n, m in enumerate(shown, 1):
        ctx.out.print(f"{n:>3}. {m.id}  {m.effective_status:<11} {escape(m.task[:60])}", highlight=False)
    choice = IntPrompt.ask("Resume which session?", choices=[str(n) for n in range(1, len(shown) + 1)],
                           default=1, console=ctx.out)
    return str(shown[choice - 1].id)


# Options that choose models and config, kept with a session and replayed by resume unless given again. The safety
# options (-s, -a, --full-auto, --yolo) are not replayed: loosening the sandbox is decided anew by each command.
_REPLAYED = ("model", "role_model", "profile", "overrides", "max_parallel", "budget_usd")
_MODEL_CHOICE = frozenset({"model", "role_model", "profile"})


def replayable(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in _REPLAYED if getattr(args, name, None) not in (None, [], ())}


def cd_to_session(args: argparse.Namespace, ctx: CliContext, session_id: str) -> None:
    """Resume runs in the session's directory (its config and working tree), unless -C says otherwise, with the
    session's model and config options unless this command gives its own."""
    from orchestrator.compose import open_store

    store = open_store(ctx.home)
    try:
        with store.open(session_id) as session:
            meta = session.meta
    finally:
        store.close()
    given = {name for name in _REPLAYED if getattr(args, name, None) not in (None, [], ())}
    if given & _MODEL_CHOICE:  # any model option given now chooses the models anew (-m must not lose to stored roles)
        given |= _MODEL_CHOICE
    for name, value in meta.options.items():
        if name in _REPLAYED and name not in given:
            setattr(args, name, value)
    if getattr(args, "cd", None):
        return
    args.cd = meta.cwd
    if not Path(args.cd).is_dir():
        raise InputError(f"session {session_id} ran in {args.cd}, which no longer exists")
