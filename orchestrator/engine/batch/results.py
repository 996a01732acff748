"""What a batch leaves in ``--out``: ``results.jsonl``, ``patches/ID.patch`` and ``logs/ID.log``.

Only the driver writes here (workers return their outcome; no shared filesystem is assumed). Durability contract: a
task's patch is written and renamed into place first, then its result line is appended and fsynced. So a result line
always has its patch, and a SIGKILL at any moment loses no finished task: at worst the last line is torn, and
:meth:`ResultsLog.load` drops it (that task simply runs again).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.core.contracts import Usage
from orchestrator.core.errors import InputError, Location

__all__ = ["TaskStatus", "TaskResult", "TaskOutcome", "ResultsLog"]

TaskStatus = Literal["succeeded", "failed", "error"]


class TaskResult(BaseModel):
    """One line of ``results.jsonl``.

    ``status``: ``succeeded`` (the session succeeded and the check, if any, passed), ``failed`` (the session failed
    or the check failed), ``error`` (the task could not run: clone, checkout or setup failed, bad config, crash).
    ``check_passed`` is ``None`` without a check or when it did not run. ``files_changed``: the patch's paths.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    status: TaskStatus
    session_id: str | None = None
    check_passed: bool | None = None
    files_changed: tuple[str, ...] = ()
    usage: Usage = Field(default_factory=Usage)
    duration_s: float = 0.0
    error: str | None = None


class TaskOutcome(BaseModel):
    """What a worker returns to the driver: the result, the patch (``git diff --binary``) and a log tail.

    ``interrupted``: the session was interrupted (Ctrl-C) and saved; the driver records nothing, so the next run of
    the batch resumes it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    result: TaskResult
    patch: bytes = b""
    log: str = ""
    interrupted: bool = False


class ResultsLog:
    """``results.jsonl`` and the patches under ``out``; one instance per batch run (the driver's)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = out / "results.jsonl"
        self.patches = out / "patches"
        self.logs = out / "logs"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold ``out/.lock`` meanwhile: a second batch on the same ``out`` is an :class:`InputError` (the kernel drops
        the lock when its holder dies, SIGKILL included, so a killed batch leaves no stale lock)."""
        import fcntl

        self.out.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.out / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError(f"another batch is running with --out {self.out}",
                                 hint="wait for it, or choose another --out") from None
            yield
        finally:
            os.close(fd)

    def load(self) -> dict[str, TaskResult]:
        """The results recorded so far, by id. A torn last line (a kill mid-write) is cut off the file; any other bad
        line is an :class:`InputError` naming it."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        complete = data[: data.rfind(b"\n") + 1]  # a tail without its newline was torn by a kill
        results: dict[str, TaskResult] = {}
        for number, line in enumerate(complete.splitlines(), 1):
            if not line.strip():
                continue
            try:
                result = TaskResult.model_validate_json(line)
            except ValidationError:
                raise InputError("not a batch result line", location=Location(self.path, number),
                                 hint="remove the line (its task then runs again)") from None
            results[result.id] = result
        if len(complete) < len(data):
            with self.path.open("r+b") as f:
                f.truncate(len(complete))
        return results

    def record(self, outcome: TaskOutcome) -> None:
        """Write ``outcome``'s patch and log, then append its result line (fsynced): the result is then durable."""
        result = outcome.result
        self.patches.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.patches / f"{result.id}.patch", outcome.patch)
        (self.logs / f"{result.id}.log").write_text(outcome.log, encoding="utf-8")
        line = json.dumps(result.model_dump(mode="json"), ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash before the result line is written
    finally:
        os.close(dir_fd)
