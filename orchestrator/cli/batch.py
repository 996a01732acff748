"""``orchestrate batch TASKS.jsonl``: one non-interactive session per task, each in a fresh clone, on a local pool or
a Ray cluster (:mod:`orchestrator.engine.batch`). Results go to ``OUT/results.jsonl`` and ``OUT/patches/ID.patch``;
running the same command again skips finished tasks and resumes interrupted ones.

Human output: a live progress display on stderr, then a summary table on stdout. ``--json``: the batch events
(:mod:`orchestrator.engine.batch.events`) on stdout, one a line. Exit 0 when every task succeeded, 1 otherwise, 2 for
bad input (the tasks file's bad line is named), 130 interrupted.
"""

from __future__ import annotations

import argparse
import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.cli.context import CliContext, add_common_options, described
from orchestrator.core.errors import InputError, UsageError

if TYPE_CHECKING:
    from orchestrator.engine.batch.events import BatchEvent, BatchSink, BatchSummary
    from orchestrator.engine.batch.runner import Backend, BatchRun
    from orchestrator.engine.batch.worker import WorkerSpec
    from orchestrator.settings.config import LoadedConfig

__all__ = ["register", "handle_batch"]

# What the user's home holds that shapes a session (never its sessions/): copied into every task's home.
_HOME_GLOBS = ("config.toml", "AGENTS.md", "AGENTS.override.md", "rules/*.rules", "prompts/*.md")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "batch", help="run one session per line of a tasks file, locally or on a Ray cluster",
        **described("Run each task of TASKS.jsonl (one JSON object a line: id, repo, ref?, task, setup?, check?, "
                    "model?, profile?, config?) as a non-interactive session in its own fresh clone. Results: "
                    "OUT/results.jsonl and OUT/patches/ID.patch. Run it again to resume.",
                    "orchestrate batch tasks.jsonl --max-concurrency 4 --json",
                    "orchestrate batch tasks.jsonl --backend ray --ray-address auto"))
    add_common_options(p)
    p.add_argument("tasks", metavar="TASKS.jsonl", help="the tasks file")
    p.add_argument("--backend", choices=["local", "ray"], help="where tasks run (default: batch.backend)")
    p.add_argument("--ray-address", metavar="ADDR", help="Ray cluster to join (default: a local cluster)")
    p.add_argument("--max-concurrency", type=int, metavar="N",
                   help="tasks run at once (default: batch.max_concurrency)")
    p.add_argument("--out", metavar="DIR", help="results directory (default: ./NAME.batch for TASKS NAME.jsonl)")
    p.add_argument("--batch-budget-usd", type=float, metavar="X",
                   help="start no further task once the batch's model cost reaches X dollars (--budget-usd: per task)")
    p.add_argument("--json", action="store_true", help="JSONL batch events on stdout")
    p.set_defaults(handler=handle_batch)


def handle_batch(args: argparse.Namespace, ctx: CliContext) -> int:
    from orchestrator.engine.batch.results import ResultsLog
    from orchestrator.engine.batch.runner import BatchRun
    from orchestrator.engine.batch.tasks import load_tasks

    _refuse_asking(args)
    tasks = load_tasks(_resolve(ctx, args, args.tasks))
    loaded = ctx.load_config(args)
    conf = loaded.settings.batch
    if args.max_concurrency is not None and args.max_concurrency < 1:
        raise UsageError("--max-concurrency must be at least 1")
    out = _resolve(ctx, args, args.out or f"{Path(args.tasks).stem}.batch")
    log = ResultsLog(out)
    spec = _spec(args, ctx, loaded, out)
    with log.locked():
        backend = _backend(args.backend or conf.backend, args, loaded)
        run = BatchRun(tasks=tasks, backend=backend, spec=spec, log=log,
                       max_concurrency=args.max_concurrency or conf.max_concurrency,
                       batch_budget_usd=args.batch_budget_usd or 0.0)
        summary = _run(run, ctx, json_out=args.json)
    return summary.exit_code


def _run(run: BatchRun, ctx: CliContext, *, json_out: bool) -> BatchSummary:
    if json_out:
        return _drive(run, _JsonSink(ctx))
    from orchestrator.cli.batch_view import ProgressSink, summary_table

    tasks = run.tasks
    with ProgressSink(ctx.err, total=len(tasks)) as sink:
        sink.skip(len({t.id for t in tasks} & run.log.load().keys()))
        summary = _drive(run, sink)
    ctx.out.print(summary_table(summary, run.log.load(), [t.id for t in tasks], run.log.out))
    return summary


def _refuse_asking(args: argparse.Namespace) -> None:
    """Batch sessions are ``exec`` sessions with approval ``never``: nobody is there to ask."""
    if args.approval_policy not in (None, "never") or args.full_auto:
        raise UsageError("batch sessions never ask for approval (approval_policy is always 'never')",
                         hint="drop -a/--full-auto; use -s to choose the sandbox")


def _resolve(ctx: CliContext, args: argparse.Namespace, raw: str) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else ctx.cwd(args) / path


def _spec(args: argparse.Namespace, ctx: CliContext, loaded: LoadedConfig, out: Path) -> WorkerSpec:
    from orchestrator.engine.batch.worker import RunOptions, WorkerSpec

    conf = loaded.settings.batch
    options = RunOptions(model=args.model, role_models=tuple(args.role_model), profile=args.profile,
                         overrides=tuple(args.overrides),
                         sandbox_mode="danger-full-access" if args.yolo else args.sandbox_mode,
                         budget_usd=args.budget_usd, max_parallel=args.max_parallel)
    env = {name: value for name, value in ctx.environ.items()
           if any(fnmatch.fnmatchcase(name, pattern) for pattern in conf.forward_env)}
    return WorkerSpec(work_root=str(Path(conf.work_dir).expanduser() if conf.work_dir else out / "work"),
                      options=options, home_files=_home_files(ctx), env=env,
                      task_timeout_s=conf.task_timeout_s, check_timeout_s=conf.check_timeout_s)


def _home_files(ctx: CliContext) -> dict[str, str]:
    root = ctx.home.root
    files: dict[str, str] = {}
    for pattern in _HOME_GLOBS:
        for path in sorted(root.glob(pattern)):
            try:
                files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read {path}: {exc}") from None
    return files


def _backend(name: str, args: argparse.Namespace, loaded: LoadedConfig) -> Backend:
    conf = loaded.settings.batch
    if name == "ray":
        from orchestrator.engine.batch.ray_backend import RayBackend

        return RayBackend(address=args.ray_address or conf.ray_address, num_cpus=conf.ray_num_cpus)
    if args.ray_address:
        raise UsageError("--ray-address is for --backend ray")
    from orchestrator.engine.batch.local import LocalBackend

    return LocalBackend()


def _drive(run: BatchRun, sink: BatchSink) -> BatchSummary:
    import anyio

    from orchestrator.engine.batch.runner import run_batch

    try:
        return anyio.run(run_batch, run, sink)
    except KeyboardInterrupt:
        from orchestrator.core.errors import InterruptedRunError

        raise InterruptedRunError("batch interrupted; finished tasks are saved",
                                  hint="run the same command again to resume") from None


class _JsonSink:
    def __init__(self, ctx: CliContext) -> None:
        self._file = ctx.out.file

    def emit(self, event: BatchEvent) -> None:
        self._file.write(event.to_json() + "\n")
        self._file.flush()
