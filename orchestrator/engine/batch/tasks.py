"""The tasks file of ``orchestrate batch``: one JSON object a line, validated up front (DESIGN.md, issue 16).

A line is ``{"id", "repo", "ref"?, "task", "setup"?, "check"?, "model"?, "profile"?, "config"?}``:

- ``id``: letters, digits, ``.``, ``_``, ``-`` (it names ``patches/ID.patch``); unique in the file.
- ``repo``: a git URL (``https://…``, ``ssh://…``, ``git@host:path``, ``file://…``) or a local repository path,
  relative paths taken from the tasks file's directory (so the file means the same from any cwd).
- ``ref``: a branch, tag or commit to check out (default: the clone's default branch).
- ``task``: what to do, as for ``orchestrate exec``.
- ``setup``: a shell command run once in the fresh checkout before the session (e.g. ``npm ci``).
- ``check``: a shell command run in the sandbox on the final tree; its exit status judges the task.
- ``model``, ``profile``: as ``-m`` and ``-p`` for this task; ``config``: ``{"dotted.key": value}`` as ``-c``.

Blank lines are skipped. Any bad line is an :class:`~orchestrator.core.errors.InputError` naming ``file:line`` (exit 2).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from orchestrator.core.errors import InputError, Location

__all__ = ["BatchTask", "load_tasks", "is_remote"]

_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)")
Scalar = str | int | float | bool
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class BatchTask(BaseModel):
    """One validated task. ``repo`` is absolute for a local path (see :func:`load_tasks`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=_ID)]
    repo: NonEmpty
    ref: NonEmpty | None = None
    task: NonEmpty
    setup: NonEmpty | None = None
    check: NonEmpty | None = None
    model: NonEmpty | None = None
    profile: NonEmpty | None = None
    config: dict[NonEmpty, Scalar | list[Scalar]] = Field(default_factory=dict)

    @field_validator("task")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the task is blank")
        return value

    def config_overrides(self) -> list[str]:
        """``config`` as ``-c key=value`` arguments (JSON scalars and arrays are valid TOML values)."""
        return [f"{key}={json.dumps(value)}" for key, value in self.config.items()]


def is_remote(repo: str) -> bool:
    """Whether ``repo`` is a git URL rather than a local path."""
    return _REMOTE.match(repo) is not None


def load_tasks(path: Path) -> list[BatchTask]:
    """Every task of ``path``, in file order. Raises :class:`InputError` at the first bad line (or a missing file)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the tasks file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    tasks: list[BatchTask] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        task = _parse_line(line, Location(path, number), base=path.resolve().parent)
        if task.id in first_line:
            raise InputError(f"duplicate task id {task.id!r} (first on line {first_line[task.id]})",
                             location=Location(path, number), hint="every task needs its own id")
        first_line[task.id] = number
        tasks.append(task)
    if not tasks:
        raise InputError(f"the tasks file {path} holds no task", hint='one JSON object a line: {"id", "repo", "task"}')
    return tasks


def _parse_line(line: str, where: Location, *, base: Path) -> BatchTask:
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"not a JSON object: {exc.msg} (column {exc.colno})", location=where) from None
    if not isinstance(data, dict):
        raise InputError("a task must be a JSON object", location=where, hint='{"id": ..., "repo": ..., "task": ...}')
    try:
        task = BatchTask.model_validate(data)
    except ValidationError as exc:
        raise InputError(_first_error(exc), location=where) from None
    if is_remote(task.repo):
        return task
    repo = (base / Path(task.repo).expanduser()).resolve()
    if not repo.is_dir():
        raise InputError(f"task {task.id!r}: repo {task.repo} is not a directory (nor a git URL)", location=where)
    return task.model_copy(update={"repo": str(repo)})


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "task"
    if error["type"] == "missing":
        return f"missing field {field!r}"
    if error["type"] == "extra_forbidden":
        return f"unknown field {field!r} (known: {', '.join(BatchTask.model_fields)})"
    if field == "id" and error["type"] == "string_pattern_mismatch":
        return f"bad id {error['input']!r}: use letters, digits, '.', '_' and '-' (it names the patch file)"
    return f"field {field!r}: {error['msg']}"
