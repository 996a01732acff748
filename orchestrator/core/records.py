"""The records a session's store keeps (:mod:`orchestrator.store.session_store`): what a session is, where a step's
staging lives, a step's state, and the edit journal's entries. Frozen pydantic models, stored as JSON."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.core.events import GitInfo, now_iso
from orchestrator.core.plan import StepStatus

__all__ = ["SessionStatus", "SessionMeta", "StagingRecord", "StepRecord", "JournalEntry", "FileImage"]

SessionStatus = Literal["running", "succeeded", "failed", "interrupted"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SessionMeta(_Record):
    """What a session is: listed by ``orchestrate sessions`` (the index keeps a copy of it)."""

    id: str
    cwd: str
    git: GitInfo = Field(default_factory=GitInfo)
    task: str
    profile: str = ""
    # The command-line choices the session started with (model, role models, profile, -c ...): resume replays them
    # unless given again, so a resumed step talks to the same models.
    options: dict[str, Any] = Field(default_factory=dict)
    status: SessionStatus = "running"
    # Follow-up requests (``resume ID "guidance"`` after it succeeded), in order: the steps of follow-up N are "fN.*".
    followups: tuple[str, ...] = ()
    created: str = Field(default_factory=now_iso)
    updated: str = Field(default_factory=now_iso)
    pid: int = Field(default_factory=os.getpid)

    @property
    def effective_status(self) -> SessionStatus:
        """``running`` only while the recorded process is alive; a killed run reads as ``interrupted``."""
        if self.status == "running" and not _alive(self.pid):
            return "interrupted"
        return self.status


class StagingRecord(_Record):
    """Where a step's staging lives, what it is based on, and (after an interruption) its uncommitted diff."""

    kind: Literal["worktree", "copy"]
    path: str
    base: str
    diff: str | None = None


class StepRecord(_Record):
    step_id: str
    status: StepStatus = "pending"
    attempt: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    summary: str = ""
    reason: str = ""
    files: tuple[str, ...] = ()
    guidance: str = ""  # the user's guidance for the step's next run (resume --retry-failed "...", a failure answer)
    retries: int = 0  # times the user had it run again after it failed (its model replies are kept per retry)


class FileImage(_Record):
    """A path's state at a checkpoint: sha256 of its bytes (a symlink's: of its target) and its ``st_mode``; both
    None when it does not exist."""

    sha256: str | None = None
    mode: int | None = None


class JournalEntry(_Record):
    """An edit applied to the user's tree: ``intent`` is written before touching it, ``done`` after.

    ``preimages`` maps each touched path (relative to the tree root) to its content before the edit (base64; a
    symlink's target), or None if it did not exist: enough to roll a half-applied edit back. The entry is also the
    step's checkpoint for ``orchestrate undo`` (:mod:`orchestrator.engine.undo`): ``premodes`` are the paths' modes
    before the edit (``st_mode``, None: absent), ``post`` their state right after it (written with ``done``), and
    ``new_dirs`` the directories the edit created. Undo journals ``undoing`` before it writes and ``undone`` after.
    Entries written before these fields existed read with them empty.
    """

    step_id: str
    state: Literal["intent", "done", "undoing", "undone"]
    diff: str
    files: tuple[str, ...]
    root: str
    preimages: dict[str, str | None] = Field(default_factory=dict)
    premodes: dict[str, int | None] = Field(default_factory=dict)
    post: dict[str, FileImage] = Field(default_factory=dict)
    new_dirs: tuple[str, ...] = ()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
