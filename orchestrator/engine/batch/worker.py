"""Run ONE batch task and return its :class:`~orchestrator.engine.batch.results.TaskOutcome` (never raises for a
task's own failure; the driver records what it returns).

The task runs in ``WORK/ID/``: ``repo/`` (a fresh clone), ``home/`` (the session's ``ORCHESTRATE_HOME``, seeded with
the user's config, rules, prompts and AGENTS.md) and ``start`` (the snapshot the session started from, written once
``setup`` has run). The session is the real ``orchestrate exec --json -a never`` in a child process; a work
directory that already holds a started session is resumed with ``orchestrate exec resume --last`` instead of being
cloned again. The patch is taken before ``check`` runs, so what the check writes is never part of it. The check runs
confined, through ``orchestrate sandbox run`` (the sandbox the session's own commands get).

This module runs on the worker's machine (a Ray node, or a thread of the local pool); it reads nothing of the
driver's but what :class:`WorkerSpec` carries.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.core.contracts import Usage
from orchestrator.core.errors import GitError
from orchestrator.engine.batch import gitops
from orchestrator.engine.batch.procs import Finished, run_child, tail
from orchestrator.engine.batch.results import TaskOutcome, TaskResult
from orchestrator.engine.batch.tasks import BatchTask

__all__ = ["RunOptions", "WorkerSpec", "run_task"]


class RunOptions(BaseModel):
    """The batch's run options, given to every task's session (a task's own model/profile/config win)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    role_models: tuple[str, ...] = ()
    profile: str | None = None
    overrides: tuple[str, ...] = ()
    sandbox_mode: str | None = None
    budget_usd: float | None = None
    max_parallel: int | None = None


class WorkerSpec(BaseModel):
    """Everything a worker needs, shipped with each task (no shared filesystem assumed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    work_root: str
    options: RunOptions = Field(default_factory=RunOptions)
    home_files: dict[str, str] = Field(default_factory=dict)  # relative path in the home → text
    env: dict[str, str] = Field(default_factory=dict)  # added to the environment of the task's commands
    task_timeout_s: float = 0.0  # 0: none
    check_timeout_s: float = 1800.0


class _TaskError(Exception):
    """The task could not run (its result is ``error``)."""


class _Session(BaseModel):
    session_id: str | None = None
    status: str | None = None  # session.completed's status; None: it never completed
    usage: Usage = Field(default_factory=Usage)
    returncode: int | None = None
    error: str | None = None
    log: str = ""


def run_task(task: BatchTask, spec: WorkerSpec) -> TaskOutcome:
    """Run ``task`` (see the module docstring). An interrupted session gives ``interrupted=True`` (not recorded)."""
    started = time.monotonic()
    work = Path(spec.work_root) / task.id
    try:
        return _run(task, spec, work, started)
    except (GitError, _TaskError, OSError) as exc:
        error = str(exc)
    except Exception as exc:  # a bug here must cost one task, not the batch (the log keeps the traceback)
        error = f"internal error: {type(exc).__name__}: {exc}"
        import traceback

        return _error(task, error, started, log=traceback.format_exc())
    return _error(task, error, started, log=error)


def _error(task: BatchTask, error: str, started: float, *, log: str) -> TaskOutcome:
    result = TaskResult(id=task.id, status="error", error=error, duration_s=round(time.monotonic() - started, 3))
    return TaskOutcome(result=result, log=log)


def _run(task: BatchTask, spec: WorkerSpec, work: Path, started: float) -> TaskOutcome:
    repo, home, start_file = work / "repo", work / "home", work / "start"
    env = {**os.environ, **spec.env, "ORCHESTRATE_HOME": str(home)}
    resume = start_file.is_file() and _stored_session(home) is not None
    if not resume:
        start = _prepare(task, spec, work, env)
        start_file.write_text(start)
    else:
        start = start_file.read_text().strip()
    session = _session(task, spec, repo, env, resume=resume)
    if session.session_id is None and resume:  # a finished session resumed: it only repeats its last event
        session = session.model_copy(update={"session_id": _stored_session(home)})
    if session.returncode == 130 and session.status in (None, "interrupted"):
        return TaskOutcome(result=TaskResult(id=task.id, status="error", session_id=session.session_id,
                                             error="interrupted"), log=session.log, interrupted=True)
    patch, files = gitops.diff(repo, start, gitops.snapshot(repo))
    check_passed, check_log = None, ""
    if task.check and session.status is not None:
        check_passed, check_log = _check(task, spec, repo, env)
    status = ("error" if session.status is None else
              "failed" if session.status != "succeeded" or check_passed is False else "succeeded")
    error = session.error if status != "succeeded" else None
    if error is None and check_passed is False:
        error = "the check failed"
    result = TaskResult(id=task.id, status=status, session_id=session.session_id, check_passed=check_passed,
                        files_changed=files, usage=session.usage, duration_s=round(time.monotonic() - started, 3),
                        error=error)
    return TaskOutcome(result=result, patch=patch, log=session.log + check_log)


def _prepare(task: BatchTask, spec: WorkerSpec, work: Path, env: Mapping[str, str]) -> str:
    """A fresh clone with the seeded home and ``setup`` run; returns the start snapshot."""
    shutil.rmtree(work, ignore_errors=True)
    repo = work / "repo"
    gitops.clone(task.repo, repo, task.ref)
    for rel, text in spec.home_files.items():
        path = work / "home" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (work / "home").mkdir(exist_ok=True)
    if task.setup:
        # Unconfined, like any build step the user writes: it runs on the pristine checkout, before any model output.
        done = run_child(["bash", "-lc", task.setup], cwd=repo, env=env, timeout_s=spec.check_timeout_s or None,
                         merge_stderr=True)
        if done.returncode != 0:
            last = (done.stdout.strip().splitlines() or ["no output"])[-1]
            status = "timed out" if done.returncode is None else f"exit {done.returncode}"
            raise _TaskError(f"setup failed ({status}): {last}")
    return gitops.snapshot(repo)


def _session(task: BatchTask, spec: WorkerSpec, repo: Path, env: Mapping[str, str], *, resume: bool) -> _Session:
    head = ["exec", "resume", "--last", "--force"] if resume else ["exec"]
    argv = [sys.executable, "-m", "orchestrator", *head, "--json", "-a", "never", *_options(task, spec.options)]
    done = run_child([*argv, *([] if resume else ["-"])], cwd=repo, env=env, stdin=None if resume else task.task,
                     timeout_s=spec.task_timeout_s or None)
    session = _read_events(done)
    if done.returncode is None:
        session = session.model_copy(update={"status": session.status or "failed",
                                             "error": f"timed out after {spec.task_timeout_s:g}s"})
    return session


def _stored_session(home: Path) -> str | None:
    """The id of the newest session stored in the task's home (a task's home holds its one session)."""
    root = home / "sessions"
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []
    return names[-1] if names else None


def _options(task: BatchTask, options: RunOptions) -> list[str]:
    """The session's command-line options: the task's model, profile and config win over the batch's."""
    argv: list[str] = []
    if task.model:
        argv += ["-m", task.model]
    else:
        argv += ["-m", options.model] if options.model else []
        for role_model in options.role_models:
            argv += ["--role-model", role_model]
    profile = task.profile or options.profile
    argv += ["-p", profile] if profile else []
    argv += ["-s", options.sandbox_mode] if options.sandbox_mode else []
    argv += ["--budget-usd", str(options.budget_usd)] if options.budget_usd is not None else []
    argv += ["--max-parallel", str(options.max_parallel)] if options.max_parallel is not None else []
    for override in (*options.overrides, *task.config_overrides()):
        argv += ["-c", override]
    return argv


def _read_events(done: Finished) -> _Session:
    """The session's id, final status and usage from its JSONL events; the error line from its stderr."""
    fields: dict[str, object] = {"returncode": done.returncode}
    for line in done.stdout.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        kind = event.get("type") if isinstance(event, dict) else None
        if kind in ("session.started", "session.resumed"):
            fields["session_id"] = event.get("session_id")
        elif kind == "session.completed":
            fields["status"] = event.get("status")
            usage = event.get("usage") or {}
            fields["usage"] = Usage(prompt_tokens=usage.get("prompt_tokens", 0),
                                    completion_tokens=usage.get("completion_tokens", 0),
                                    cost_usd=usage.get("cost_usd", 0.0))
        elif kind == "error" and "error" not in fields:
            fields["error"] = event.get("message")
    lines = done.stderr.splitlines()
    errors = [ln.removeprefix("error:").strip() for ln in lines if ln.startswith("error:")]
    # exec's summary names each failed step's reason ("  ✗ STEP: REASON") when no error line says more
    reasons = [ln.strip().removeprefix("✗").strip() for ln in lines if ln.lstrip().startswith("✗ ")]
    if errors or reasons:
        fields["error"] = errors[-1] if errors else "; ".join(reasons)
    elif "error" not in fields and done.returncode not in (0, None):
        fields["error"] = f"orchestrate exec exited {done.returncode}"
    return _Session.model_validate({**fields, "log": "$ orchestrate exec\n" + tail(done.stderr)})


def _check(task: BatchTask, spec: WorkerSpec, repo: Path, env: Mapping[str, str]) -> tuple[bool, str]:
    """Run ``task.check`` confined in the final tree: (passed, log)."""
    argv = [sys.executable, "-m", "orchestrator", "sandbox", "run", "-C", str(repo)]
    if spec.options.sandbox_mode:
        argv += ["--mode", spec.options.sandbox_mode]
    profile = task.profile or spec.options.profile
    argv += ["-p", profile] if profile else []
    for override in (*spec.options.overrides, *task.config_overrides()):
        argv += ["-c", override]
    done = run_child([*argv, "--", "bash", "-lc", str(task.check)], cwd=repo, env=env,
                     timeout_s=spec.check_timeout_s or None, merge_stderr=True)
    status = "timed out" if done.returncode is None else f"exit {done.returncode}"
    return done.returncode == 0, f"\n$ {task.check}  ({status})\n{tail(done.stdout)}"
