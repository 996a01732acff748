"""Durable session state under ``$ORCHESTRATE_HOME/sessions/`` (the only module that opens diskcache databases).

Layout: ``sessions/<id>/db/`` is one diskcache (SQLite, WAL) per session holding the meta, the plan, one record per
step, the events, per-step checkpoints (conversation + staging), the edit journal, the hashes of the files its edits
touched and its approvals (see :mod:`orchestrator.store.session_store`); ``sessions/<id>/stagings/`` holds the step
stagings; ``sessions/.index/`` maps session id → a small summary so that listing thousands of sessions reads one
database. :class:`Store` creates, finds, lists, removes and prunes sessions (pruning runs at most once a day, when a
session is created, and records when it last ran in the index).

Session ids sort by creation time: ``YYYYMMDD-HHMMSS-xxxxxx`` (UTC, 6 random hex digits).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.core.errors import InputError, SessionNotFoundError
from orchestrator.core.events import GitInfo
from orchestrator.store.session_store import (
    CRASH_ENV,
    JournalEntry,
    SessionMeta,
    SessionStatus,
    SessionStore,
    StagingRecord,
    StepRecord,
    file_digest,
)

if TYPE_CHECKING:
    from diskcache import Cache

    from orchestrator.core.contracts import RemoveTree
    from orchestrator.settings.home import Home

__all__ = [
    "CRASH_ENV",
    "SessionStatus",
    "SessionMeta",
    "StepRecord",
    "StagingRecord",
    "JournalEntry",
    "Store",
    "SessionStore",
    "file_digest",
    "new_session_id",
]

_INDEX_DIR = ".index"
_PRUNED_KEY = "__pruned__"  # in the index: when old sessions were last pruned (ISO time); not a session id
# Never evict: this is a store, not a cache. FULL sync under WAL fsyncs every commit: what a session announced (an
# event reaches its consumers only once committed) survives a power cut too, not only a killed process (~0.2 ms a
# commit here). Every value stays inside SQLite (diskcache would write values over 32 KiB to side files, outside the
# transaction and never fsynced).
_SETTINGS: dict[str, Any] = {"eviction_policy": "none", "sqlite_synchronous": 2, "size_limit": 2**40,
                             "disk_min_file_size": 2**40}


def new_session_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


def _open_cache(directory: Path) -> Cache:
    from diskcache import Cache

    return Cache(str(directory), **_SETTINGS)


class Store:
    """All sessions of one ``$ORCHESTRATE_HOME``."""

    def __init__(self, home: Home, *, remove_tree: RemoveTree | None = None) -> None:
        """``remove_tree`` deletes a removed or pruned session's directory (default: just the files; the composition
        root passes :func:`orchestrator.workspace.gitrun.remove_session_tree`, which also forgets its staging
        worktrees in the user's repository)."""
        self.root = home.sessions_dir
        self._remove_tree = remove_tree or _remove_files
        self._index: Cache | None = None

    def _idx(self) -> Cache:
        if self._index is None:
            self._index = _open_cache(self.root / _INDEX_DIR)
        return self._index

    def index_put(self, session_id: str, meta_json: str) -> None:
        self._idx()[session_id] = meta_json

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def create(self, *, cwd: Path, task: str, profile: str = "", git: GitInfo | None = None,
               keep_days: int = 0, options: Mapping[str, Any] | None = None) -> SessionStore:
        """A new session (status ``running``, claimed by this process), written to disk and to the index.

        With ``keep_days`` > 0, finished sessions older than that are pruned first, at most once a day (the time of
        the last pruning is kept in the index), so creating a session stays cheap.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        self.prune_daily(keep_days)
        while True:
            session_id = new_session_id()
            directory = self.root / session_id
            try:
                directory.mkdir()
                break
            except FileExistsError:
                continue
        meta = SessionMeta(id=session_id, cwd=str(cwd), git=git or GitInfo(), task=task, profile=profile,
                           options=dict(options or {}))
        cache = _open_cache(directory / "db")
        cache["meta"] = meta.model_dump_json()
        session = SessionStore(self, directory, cache)
        session.claim()  # before it is listed: `resume --last` can never take a session still being started
        self.index_put(session_id, meta.model_dump_json())
        return session

    def resolve(self, id_or_prefix: str) -> str:
        """The full id of the one session whose id is or starts with ``id_or_prefix``."""
        if id_or_prefix and (self.root / id_or_prefix / "db").is_dir():
            return id_or_prefix
        names = [p for p in self._ids() if id_or_prefix and p.startswith(id_or_prefix)]
        if len(names) == 1:
            return names[0]
        if not names:
            raise SessionNotFoundError(f"no session {id_or_prefix!r}", hint="`orchestrate sessions --all` lists them")
        shown = ", ".join(sorted(names)[:5])
        raise SessionNotFoundError(f"{id_or_prefix!r} matches {len(names)} sessions ({shown}...)",
                                   hint="give more of the id")

    def _ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [e.name for e in os.scandir(self.root) if e.is_dir() and not e.name.startswith(".")]

    def open(self, id_or_prefix: str) -> SessionStore:
        session_id = self.resolve(id_or_prefix)
        directory = self.root / session_id
        cache = _open_cache(directory / "db")
        if "meta" not in cache:
            cache.close()
            raise SessionNotFoundError(f"session {session_id} has no metadata (it was never started)")
        return SessionStore(self, directory, cache)

    def list_sessions(self, *, cwd: Path | None = None) -> list[SessionMeta]:
        """Sessions newest first, only those started in ``cwd`` when given. Reads the index alone."""
        index = self._idx()
        metas = [SessionMeta.model_validate_json(index[k]) for k in list(index) if k != _PRUNED_KEY]
        if cwd is not None:
            metas = [m for m in metas if m.cwd == str(cwd)]
        # Ids only have second resolution; ``created`` has milliseconds, so two sessions started in the same second
        # (scripts, CI) still list, and ``--last`` resolves, in the order they were started.
        return sorted(metas, key=lambda m: (m.created, m.id), reverse=True)

    def latest(self, *, cwd: Path | None = None) -> SessionMeta | None:
        metas = self.list_sessions(cwd=cwd)
        return metas[0] if metas else None

    def meta(self, session_id: str) -> SessionMeta | None:
        """The indexed meta of one session (None if the index does not know it)."""
        raw = self._idx().get(session_id)
        return None if raw is None else SessionMeta.model_validate_json(raw)

    def remove(self, id_or_prefix: str) -> str:
        """Delete one session (full id or unique prefix) and its stagings. Refuses one whose process is alive."""
        session_id = self.resolve(id_or_prefix)
        self.check_removable(session_id)
        self._remove_dir(session_id)
        return session_id

    def check_removable(self, session_id: str) -> None:
        """Raise :class:`InputError` if the process recorded as running the session is alive."""
        meta = self.meta(session_id)
        if meta is not None and meta.effective_status == "running":
            raise InputError(f"session {session_id} is running (pid {meta.pid})",
                             hint="stop it first (Ctrl-C), then remove it")

    def _remove_dir(self, session_id: str) -> None:
        self._remove_tree(self.root / session_id)
        self._idx().pop(session_id, None)

    def prune(self, keep_days: int, *, now: datetime | None = None) -> list[str]:
        """Remove finished sessions not updated for ``keep_days`` days (0 keeps everything). Returns their ids."""
        if keep_days <= 0:
            return []
        cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
        stale = [m.id for m in self.list_sessions() if m.effective_status != "running"
                 and _parse_time(m.updated) < cutoff]
        for session_id in stale:
            self._remove_dir(session_id)
        return stale

    def prune_daily(self, keep_days: int, *, now: datetime | None = None) -> list[str]:
        """:meth:`prune`, unless it already ran in the last 24 hours (recorded in the index)."""
        if keep_days <= 0:
            return []
        now = now or datetime.now(UTC)
        last = self._idx().get(_PRUNED_KEY)
        if isinstance(last, str) and now - _parse_time(last) < timedelta(days=1):
            return []
        removed = self.prune(keep_days, now=now)
        self._idx()[_PRUNED_KEY] = now.isoformat()
        return removed


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _remove_files(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
