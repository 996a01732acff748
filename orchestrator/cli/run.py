"""The run commands: ``orchestrate [TASK]`` (interactive), ``exec``, ``plan`` and ``resume``.

Every handler goes through the public Python API (:class:`orchestrator.api.Orchestrator`). ``exec --json`` writes
only JSONL events to stdout; everything meant for humans goes to stderr. Ctrl-C or SIGTERM saves the session and
exits 130 with the command that resumes it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from orchestrator.cli import live, startup
from orchestrator.cli.context import CliContext, add_common_options, add_model_options, described
from orchestrator.cli.delivery import add_delivery_options, apply_delivery_flags
from orchestrator.cli.resuming import add_resume_answers, cd_to_session, pick, replayable
from orchestrator.core.errors import InputError, InterruptedRunError

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.api import Orchestrator
    from orchestrator.core.plan import Plan
    from orchestrator.engine.resume import Drift
    from orchestrator.engine.session import SessionResult
    from orchestrator.settings.config import LoadedConfig

__all__ = ["register"]

def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser("run", help="plan and run TASK interactively (the default command)", **described(
        "Plan TASK, show the plan, run it with a live view, review each diff. Interactive: it needs a terminal "
        "(stdin); without one it stops at once (exit 2): use `orchestrate exec TASK` in scripts and CI.",
        'orchestrate "add a --verbose flag to cli.py"',
        'orchestrate run -m gpt-4o-mini -C ~/src/app "fix the failing test"'))
    add_common_options(run)
    add_delivery_options(run)
    run.add_argument("task", nargs="?", help="what to do (asked for when missing)")
    run.set_defaults(handler=handle_run)

    ex = subparsers.add_parser("exec", help="run TASK non-interactively (scripts, CI)", **described(
        "Run TASK without prompts. TASK '-' reads it from stdin. `exec resume [--last | ID]` continues a session.",
        'orchestrate exec --full-auto --json "rename util.py to paths.py" > events.jsonl',
        "orchestrate exec resume --last",
        'orchestrate exec resume --last "also add a --quiet flag"   # a follow-up in the same session',
        'orchestrate exec resume ID --retry-failed "the tests use pytest, not unittest"'))
    add_common_options(ex)
    add_delivery_options(ex)
    ex.add_argument("task", help="what to do; '-' reads stdin; 'resume' continues a session")
    ex.add_argument("session", nargs="?", help="with `resume`: the session id (or a unique prefix)")
    ex.add_argument("--last", action="store_true", help="with `resume`: the newest session of this directory")
    add_resume_answers(ex, "with `resume`: ")
    ex.add_argument("--json", action="store_true", help="JSONL events on stdout (human output on stderr)")
    ex.add_argument("--force", action="store_true",
                    help="with `resume`: continue even if the repository changed outside the session")
    ex.set_defaults(handler=handle_exec)

    plan = subparsers.add_parser("plan", help="plan TASK and print the DAG, run nothing", **described(
        "Ask the planner for TASK's plan and print its steps (the DAG); nothing runs, so only model and config "
        "options apply.", 'orchestrate plan "split app.py into modules"',
        "echo 'add tests' | orchestrate plan --json -"))
    add_model_options(plan)
    plan.add_argument("task", help="what to plan; '-' reads stdin")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(handler=handle_plan)

    resume = subparsers.add_parser("resume", help="continue an interrupted or failed session", **described(
        "Continue an interrupted or failed session where it stopped, in its directory, with its models; "
        "--retry-failed runs its failed steps again, and \"guidance\" tells their coder what to do differently "
        "(after a session that succeeded, guidance is a follow-up: new steps in the same session). "
        "Interactive: it needs a terminal (stdin); in scripts use `orchestrate exec resume --last` (or ID).",
        "orchestrate resume", "orchestrate resume --last", "orchestrate resume 20261129-2231",
        'orchestrate resume --last --retry-failed "use the existing parse_args helper"',
        'orchestrate resume --last "now add tests for it"   # after a session that succeeded: a follow-up'))
    add_common_options(resume)
    resume.add_argument("session", nargs="?", help="session id or unique prefix (a picker without it)")
    resume.add_argument("--last", action="store_true", help="the newest session of this directory")
    resume.add_argument("--all", action="store_true", help="pick among sessions of every directory")
    add_resume_answers(resume, "")
    resume.add_argument("--force", action="store_true",
                        help="continue without asking even if the repository changed outside the session")
    resume.set_defaults(handler=handle_resume)


# ---------------------------------------------------------------------------------------------------- handlers
def handle_run(args: argparse.Namespace, ctx: CliContext) -> int:
    _need_terminal("TASK", "`orchestrate exec TASK` (or `exec resume`)")
    apply_delivery_flags(args)
    loaded = startup.load_run_config(args, ctx, ask=True, human=ctx.out)
    task = startup.expand_prompt(args.task or _ask_task(ctx), loaded, ctx)
    orch = _orchestrator(args, ctx, interactive=True, human=ctx.out, loaded=loaded)
    live.add_header(orch, ctx.out)
    return live.summary_or(_report, ctx, *_timed(_drive, orch, orch.run, task))


def handle_exec(args: argparse.Namespace, ctx: CliContext) -> int:
    human = ctx.err
    apply_delivery_flags(args, resuming=args.task == "resume")
    if args.task == "resume":
        session_id = pick(args, ctx, interactive=False)
        cd_to_session(args, ctx, session_id)
        orch = _orchestrator(args, ctx, interactive=False, human=human, json_out=args.json)
        resume = partial(orch.resume, force=args.force, retry_failed=args.retry_failed, guidance=args.guidance or "")
        return _report(_drive(orch, resume, session_id), human)
    loaded = startup.load_run_config(args, ctx, ask=False, human=human)
    task = startup.expand_prompt(_read_task(args.task), loaded, ctx)
    orch = _orchestrator(args, ctx, interactive=False, human=human, json_out=args.json, loaded=loaded)
    return _report(_drive(orch, orch.run, task), human)


def handle_plan(args: argparse.Namespace, ctx: CliContext) -> int:
    loaded = startup.load_run_config(args, ctx, ask=False, human=ctx.err)
    task = startup.expand_prompt(_read_task(args.task), loaded, ctx)
    orch = _orchestrator(args, ctx, interactive=False, human=ctx.err, loaded=loaded)
    plan: Plan = _drive(orch, orch.plan, task)
    if args.json:
        ctx.out.file.write(plan.model_dump_json() + "\n")
    else:
        ctx.out.print(plan)
    return 0


def handle_resume(args: argparse.Namespace, ctx: CliContext) -> int:
    _need_terminal("resume", "`orchestrate exec resume --last` (or `exec resume ID`)")
    session_id = pick(args, ctx, interactive=True)
    cd_to_session(args, ctx, session_id)
    orch = _orchestrator(args, ctx, interactive=True, human=ctx.out)
    resume = partial(orch.resume, force=args.force, confirm_drift=partial(_confirm_drift, ctx.out, session_id),
                     retry_failed=args.retry_failed, guidance=args.guidance or "")
    live.add_header(orch, ctx.out)
    return live.summary_or(_report, ctx, *_timed(_drive, orch, resume, session_id))


def _confirm_drift(console: Console, session_id: str, drift: Drift) -> bool:
    from rich.markup import escape
    from rich.prompt import Confirm

    console.print(f"[yellow]The repository changed since session {session_id} last ran:[/] {escape(drift.describe())}",
                  highlight=False)
    # Asked synchronously inside the event loop, whose SIGINT handler only cancels the run: input() would go on
    # waiting for Enter. Here Ctrl-C raises at once (the API records the session as interrupted).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return Confirm.ask("Continue on the changed tree?", default=False, console=console)
    finally:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------------------------------------------- helpers
def _orchestrator(args: argparse.Namespace, ctx: CliContext, *, interactive: bool, human: Console,
                  json_out: bool = False, loaded: LoadedConfig | None = None) -> Orchestrator:
    """The run's Orchestrator (see :mod:`orchestrator.cli.startup`); ``loaded``: the config, if already loaded."""
    if loaded is None:
        loaded = startup.load_run_config(args, ctx, ask=False, human=human)
    return startup.open_orchestrator(loaded, ctx, cwd=ctx.cwd(args), interactive=interactive, human=human,
                                     json_out=json_out, session_options=replayable(args))


def _drive(orch: Orchestrator, fn: Callable[[str], Awaitable[Any]], arg: str) -> Any:
    """Run ``fn(arg)`` to completion; Ctrl-C or SIGTERM → InterruptedRunError naming the resume command."""
    import anyio

    outcome: list[Any] = []

    async def main() -> None:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_cancel_on_sigterm, group.cancel_scope)
                outcome.append(await fn(arg))
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await orch.aclose()

    from orchestrator.engine.scheduler import first_error

    try:
        anyio.run(main)
    except KeyboardInterrupt:
        outcome.clear()
    except BaseExceptionGroup as group:  # the error came through the SIGTERM watcher's task group
        if group.subgroup(KeyboardInterrupt) is None:  # Ctrl-C raised in the loop (a synchronous question)
            raise first_error(group) from None
        outcome.clear()
    if not outcome:
        if orch.session_id is None:
            raise InterruptedRunError("interrupted before a session started; nothing was changed")
        raise InterruptedRunError(f"interrupted; session {orch.session_id} is saved",
                                  hint=f"continue with: orchestrate resume {orch.session_id}")
    return outcome[0]


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """``fn(*args)`` and how long it took (the end summary's time)."""
    started = time.monotonic()
    return fn(*args), time.monotonic() - started


async def _cancel_on_sigterm(scope: Any) -> None:
    import anyio

    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            scope.cancel()
            return


def _report(result: SessionResult, human: Console) -> int:
    from rich.markup import escape

    if result.already_finished:  # one line: a script resuming a finished session learns its outcome, and what next
        then = ('follow up with: orchestrate resume ID "what to do next"' if result.status == "succeeded" else
                'retry with: orchestrate resume ID --retry-failed ["guidance"]').replace("ID", result.session_id)
        human.print(f"session {result.session_id} already finished: [bold]{result.status}[/] (nothing to resume; "
                    f"{escape(then)})", highlight=False, soft_wrap=True)
        return result.exit_code
    counts: dict[str, int] = {}
    for status in result.steps.values():
        counts[status] = counts.get(status, 0) + 1
    steps = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no steps run"
    usage = result.usage
    human.print(f"session {result.session_id}: [bold]{result.status}[/] ({steps}; "
                f"{usage.prompt_tokens + usage.completion_tokens} tokens, ${usage.cost_usd:.4f})", highlight=False)
    if result.branch:
        human.print(f"  its commits are on branch [bold]{escape(result.branch)}[/]", highlight=False)
    for step_id, reason in result.reasons.items():
        # The first line is the reason (batch reads the ✗ lines); the rest, e.g. a failing check's last output lines.
        first, *more = (reason or "").splitlines() or [""]
        mark, lead = ("[red]✗[/]", "") if result.steps.get(step_id) == "failed" else ("[dim]-[/]", "skipped: ")
        human.print(f"  {mark} {escape(step_id)}: {lead}{escape(first)}", highlight=False)
        for line in more:
            human.print(f"      [dim]{escape(line)}[/]", highlight=False, soft_wrap=True)
    return result.exit_code


def _need_terminal(command: str, instead: str) -> None:
    """The interactive commands read their answers from stdin: without a terminal there they stop here (exit 2)
    rather than at the first question, half-way through a run."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise InputError(f"`orchestrate {command}` is interactive and needs a terminal; "
                         f"use {instead}")


def _read_task(raw: str) -> str:
    task = sys.stdin.read() if raw == "-" else raw
    if not task.strip():
        raise InputError("the task is empty" + (" (stdin was empty)" if raw == "-" else ""))
    return task


def _ask_task(ctx: CliContext) -> str:
    if not ctx.out.is_terminal:
        raise InputError("no task given", hint='orchestrate "what to do", or orchestrate exec TASK for scripts')
    from rich.prompt import Prompt

    return Prompt.ask("What should I do?", console=ctx.out)
