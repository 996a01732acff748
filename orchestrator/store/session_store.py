"""One session's durable state (:class:`SessionStore`) and the records it keeps; opened through
:class:`orchestrator.store.sessions.Store` (which owns the diskcache databases: this module only uses the open cache).

Every write is a committed SQLite transaction before the call returns (synchronous FULL: fsynced, so it survives a
killed process and a power cut); :meth:`SessionStore.transaction` groups writes that must land together (a
transition + its event), and :meth:`SessionStore.after_commit` defers what announces them until they are committed.
One process at a time runs a session (:meth:`SessionStore.claim`, a lock the kernel drops if the process dies).

Testing hook: ``ORCHESTRATE_CRASH_AT=<kind>[:<n>]`` kills the process with SIGKILL right after the n-th (default: first)
transition of that kind is committed (after the outermost transaction ends, before its event reaches any sink).
Kinds: event types (``plan.created``, ``step.started``, ``command.executed``, ``review.completed``,
``validation.completed``, ``edit.applied``, ``step.completed``...) and ``edit.intent`` / ``edit.done`` (the edit
journal). The crash tests use it to kill a real run at every kind of transition; it is product code, inert unless the
variable is set.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.core.contracts import Message, Usage
from orchestrator.core.errors import InputError
from orchestrator.core.events import Event, UsageReported, UsageTotals, now_iso, parse_event
from orchestrator.core.plan import Plan
from orchestrator.core.records import JournalEntry, SessionMeta, SessionStatus, StagingRecord, StepRecord
from orchestrator.store.locks import FileLock

if TYPE_CHECKING:
    from diskcache import Cache

    from orchestrator.store.sessions import Store

__all__ = [
    "CRASH_ENV",
    "SessionStatus",
    "SessionMeta",
    "StepRecord",
    "StagingRecord",
    "JournalEntry",
    "SessionStore",
    "file_digest",
]

CRASH_ENV = "ORCHESTRATE_CRASH_AT"


class SessionStore:
    """One session's durable state. Open it through :class:`Store`; close it (or use ``with``) when done."""

    def __init__(self, store: Store, directory: Path, cache: Cache) -> None:
        self.dir = directory
        self._store = store
        self._cache = cache
        self._meta = SessionMeta.model_validate_json(cache["meta"])
        self._usage: dict[str, Usage] = {k: Usage(**v) for k, v in json.loads(cache.get("usage", "{}")).items()}
        self._local = threading.local()  # transaction nesting, per thread (each thread has its own connection)
        self._crash = _CrashPoint.from_env()
        self._run_lock = FileLock(directory / "run.lock")
        self._replayed: dict[str, int] = {}  # per reply key: how many kept replies this process has taken

    @property
    def id(self) -> str:
        return self._meta.id

    @property
    def meta(self) -> SessionMeta:
        return self._meta

    @property
    def stagings_dir(self) -> Path:
        return self.dir / "stagings"

    def close(self) -> None:
        self._cache.close()
        self._run_lock.release()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them are committed together, or none (re-entrant, per thread).

        When the outermost transaction of the thread has committed, the callbacks given to :meth:`after_commit`
        inside it run, in order; when it rolls back, they are dropped.
        """
        depth: int = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        if depth == 0:
            self._local.pending = []
        try:
            with self._cache.transact():
                yield
        finally:
            self._local.depth = depth
            pending: list[Callable[[], None]] = self._local.pending if depth == 0 else []
            if depth == 0:
                self._local.pending = []
        if depth == 0:
            if self._crash is not None:
                self._crash.fire_if_due()  # a kill between the commit and what announces it
            _run_all(pending)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once what this thread wrote so far is committed: now, or when its transaction ends."""
        if getattr(self._local, "depth", 0) == 0:
            callback()
        else:
            self._local.pending.append(callback)

    def claim(self) -> None:
        """Become the one process running this session (until :meth:`close`); :class:`InputError` if one is."""
        if not self._run_lock.try_acquire():
            raise InputError(f"session {self.id} is already running (pid {self._meta.pid})",
                             hint="wait for it to finish, or stop it first")

    def _committed(self, kind: str) -> None:
        """A transition of ``kind`` was written (it is durable once the outermost transaction ends)."""
        if self._crash is not None:
            self._crash.reached(kind)

    # ---------------------------------------------------------------------------------------------- meta, plan
    def update_meta(self, **changes: Any) -> SessionMeta:
        """Change meta fields (``status``, ``task``...), stamp ``updated``, and refresh the listing index."""
        self._meta = self._meta.model_copy(update={**changes, "updated": now_iso()})
        text = self._meta.model_dump_json()
        self._cache["meta"] = text
        self._store.index_put(self._meta.id, text)
        return self._meta

    def save_plan(self, plan: Plan) -> None:
        self._cache["plan"] = plan.model_dump_json()

    def load_plan(self) -> Plan | None:
        raw = self._cache.get("plan")
        return None if raw is None else Plan.model_validate_json(raw)

    # ---------------------------------------------------------------------------------------------- steps
    def set_step(self, record: StepRecord) -> None:
        self._cache[f"step:{record.step_id}"] = record.model_dump_json()

    def step(self, step_id: str) -> StepRecord:
        raw = self._cache.get(f"step:{step_id}")
        return StepRecord(step_id=step_id) if raw is None else StepRecord.model_validate_json(raw)

    def steps(self, step_ids: Sequence[str]) -> dict[str, StepRecord]:
        return {step_id: self.step(step_id) for step_id in step_ids}

    # ---------------------------------------------------------------------------------------------- events, usage
    def append_event(self, event: Event, *, reply: tuple[str, str] | None = None) -> None:
        """Persist ``event``; a ``usage`` event also adds to the session's usage totals in the same transaction.

        ``reply`` (key, response JSON) is the model reply a ``usage`` event paid for: kept with it, in the same
        transaction, so that a resumed step asking the same again gets it back (:meth:`take_reply`), unpaid.
        """
        with self.transaction():
            self._committed(event.type)
            self._cache.push(event.to_json(), prefix="event")
            if isinstance(event, UsageReported):
                usage = Usage(prompt_tokens=event.prompt_tokens, completion_tokens=event.completion_tokens,
                              cost_usd=event.cost_usd)
                self._usage[event.role] = self._usage.get(event.role, Usage()) + usage
                self._cache["usage"] = json.dumps({k: v.model_dump() for k, v in self._usage.items()})
            if reply is not None:
                key = f"reply:{reply[0]}"
                self._cache[key] = json.dumps([*json.loads(self._cache.get(key, "[]")), reply[1]])

    def take_reply(self, key: str) -> str | None:
        """The next kept reply for ``key`` this process has not taken yet (replies are taken in the order kept)."""
        kept: list[str] = json.loads(self._cache.get(f"reply:{key}", "[]"))
        taken = self._replayed.get(key, 0)
        if taken >= len(kept):
            return None
        self._replayed[key] = taken + 1
        return kept[taken]

    def events(self) -> list[Event]:
        keys = sorted(k for k in self._cache if isinstance(k, str) and k.startswith("event-"))
        return [parse_event(self._cache[k]) for k in keys]

    def usage(self) -> UsageTotals:
        total = sum(self._usage.values(), Usage())
        return UsageTotals(prompt_tokens=total.prompt_tokens, completion_tokens=total.completion_tokens,
                           cost_usd=total.cost_usd, by_role={k: v.model_dump() for k, v in self._usage.items()})

    # ---------------------------------------------------------------------------------------------- checkpoints
    def save_messages(self, step_id: str, messages: Sequence[Message]) -> None:
        dumped = [m.model_dump(mode="json", exclude_none=True) for m in messages]
        self._cache[f"messages:{step_id}"] = json.dumps(dumped)

    def load_messages(self, step_id: str) -> list[Message] | None:
        raw = self._cache.get(f"messages:{step_id}")
        return None if raw is None else [Message.model_validate(m) for m in json.loads(raw)]

    def set_staging(self, step_id: str, record: StagingRecord | None) -> None:
        if record is None:
            self._cache.delete(f"staging:{step_id}")
        else:
            self._cache[f"staging:{step_id}"] = record.model_dump_json()

    def staging(self, step_id: str) -> StagingRecord | None:
        raw = self._cache.get(f"staging:{step_id}")
        return None if raw is None else StagingRecord.model_validate_json(raw)

    # ---------------------------------------------------------------------------------------------- edit journal
    def journal(self, entry: JournalEntry) -> None:
        """Record an edit's ``intent``/``done`` (or its undo's ``undoing``/``undone``); with ``done`` and ``undone``,
        also the touched files' content hashes now (drift)."""
        with self.transaction():
            self._committed(f"edit.{entry.state}")
            self._cache[f"journal:{entry.step_id}"] = entry.model_dump_json()
            if entry.state in ("done", "undone"):
                root = Path(entry.root)
                touched = self.touched_files()
                touched.update({str(root / f): file_digest(root / f) for f in entry.files})
                self._cache["touched"] = json.dumps(touched, sort_keys=True)

    def retake_touched(self) -> None:
        """Take the touched files' current contents as the reference (the user accepted outside changes)."""
        touched = {path: file_digest(Path(path)) for path in self.touched_files()}
        self._cache["touched"] = json.dumps(touched, sort_keys=True)

    def touched_files(self) -> dict[str, str | None]:
        """Absolute path → sha256 of its content right after the session's last edit of it (None: deleted)."""
        return dict(json.loads(self._cache.get("touched", "{}")))

    def journal_entry(self, step_id: str) -> JournalEntry | None:
        raw = self._cache.get(f"journal:{step_id}")
        return None if raw is None else JournalEntry.model_validate_json(raw)

    def open_journal(self) -> list[JournalEntry]:
        """Edits whose ``intent`` was recorded but not their ``done``: to finish or roll back on resume."""
        entries = (JournalEntry.model_validate_json(self._cache[k]) for k in self._cache
                   if isinstance(k, str) and k.startswith("journal:"))
        return [e for e in entries if e.state == "intent"]

    # ---------------------------------------------------------------------------------------------- approvals
    def add_session_approval(self, prefix: Sequence[str]) -> None:
        approvals = self.session_approvals()
        if list(prefix) not in approvals:
            self._cache["approvals"] = json.dumps([*approvals, list(prefix)])

    def session_approvals(self) -> list[list[str]]:
        return list(json.loads(self._cache.get("approvals", "[]")))


def _run_all(callbacks: Sequence[Callable[[], None]]) -> None:
    """Call each callback even if one raises; then raise the first error."""
    errors: list[BaseException] = []
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def file_digest(path: Path) -> str | None:
    """sha256 of ``path``'s bytes, None if it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


class _CrashPoint:
    """The ``ORCHESTRATE_CRASH_AT`` testing hook: SIGKILL after the n-th committed transition of one kind."""

    def __init__(self, kind: str, nth: int) -> None:
        self.kind = kind
        self.remaining = nth
        self.due = False

    @classmethod
    def from_env(cls) -> _CrashPoint | None:
        spec = os.environ.get(CRASH_ENV, "")
        if not spec:
            return None
        kind, _, nth = spec.partition(":")
        return cls(kind, int(nth or "1"))

    def reached(self, kind: str) -> None:
        if kind == self.kind:
            self.remaining -= 1
            self.due = self.remaining == 0

    def fire_if_due(self) -> None:
        if self.due:
            os.kill(os.getpid(), signal.SIGKILL)
