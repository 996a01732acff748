"""The start-up header and the end summary of the interactive commands (``orchestrate TASK``, ``resume``).

:func:`add_header` puts the header (:mod:`orchestrator.terminal.header`) in front of the run's live view, so it is
printed once when the session starts; :func:`print_summary` prints the end summary
(:mod:`orchestrator.terminal.summary`) from the session's store once the run is over. ``exec`` has neither: its
output is the event stream (``--json``) or the one-line report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.api import Orchestrator
    from orchestrator.cli.context import CliContext
    from orchestrator.engine.session import SessionResult

__all__ = ["add_header", "print_summary", "summary_or"]


def add_header(orch: Orchestrator, console: Console) -> None:
    """Show the run's header on ``console`` when its session starts (before the live view's first lines)."""
    from orchestrator.terminal.header import ROLES, HeaderSink, RunHeader

    settings = orch.settings
    checks: tuple[str, ...] = ()
    if orch.checks is not None:
        from agents.checks import describe

        infos = orch.checks.infos()
        # Each check and why it was chosen; none: why, and how to add some (the line exec prints at start-up).
        checks = tuple(f"{c.command}  ({c.reason})" for c in infos) or (describe(infos, settings).removeprefix(
            "checks: "),)
    header = RunHeader(models=tuple((role, orch.gateway.model_for(role)) for role in ROLES),
                       sandbox=settings.sandbox_mode, approval=settings.approval_policy, workdir=str(orch.cwd),
                       checks=checks)
    orch.events.user = HeaderSink(console, header, orch.events.user)


def print_summary(ctx: CliContext, result: SessionResult, console: Console, *, elapsed_s: float) -> None:
    """The end summary of ``result`` (files changed, steps, usage, next steps), read from the session's store."""
    from orchestrator.compose import open_store
    from orchestrator.engine.undo import undo_hint
    from orchestrator.terminal.summary import read_summary

    store = open_store(ctx.home)
    try:
        with store.open(result.session_id) as session:
            summary = read_summary(session, result, elapsed_s=elapsed_s, undo_hint=undo_hint(result.session_id))
    finally:
        store.close()
    console.print(summary)
    if result.branch:  # apply.mode "branch": where the work is (the user's checkout was not touched)
        console.print(f"its commits are on branch {result.branch}", highlight=False, markup=False)


def summary_or(report: Callable[[SessionResult, Console], int], ctx: CliContext, result: SessionResult,
               elapsed_s: float) -> int:
    """The run's exit code, after the end summary on the terminal; a resumed session that had already finished gets
    ``report``'s one line instead (nothing ran: there is nothing to summarize)."""
    if result.already_finished:
        return report(result, ctx.out)
    print_summary(ctx, result, ctx.out, elapsed_s=elapsed_s)
    return result.exit_code
