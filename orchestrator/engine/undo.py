"""``orchestrate undo``: put the user's files back as they were before one applied step, or before a whole session.

Every applied step is a checkpoint: its journal entry (:class:`~orchestrator.core.records.JournalEntry`) holds each
touched path's bytes and mode before the edit, and the state the edit left it in. Undo works from the session store
alone, so after a crash too:

- **Order.** A whole session is undone step by step, in the reverse of the order its edits reached the tree (the
  order of its ``edit.applied`` events; an edit a crash cut short, journaled ``intent`` without ``done``, counts as
  the last one).
- **Check first, then write.** Nothing is written unless every path to restore is in a state undo knows: the state
  the step left it in, or already the state before it (an edit cut short before it wrote, an undo cut short). A path
  in any other state was changed since (by the user, or by a later step of the session that is not undone first):
  the undo is refused naming those paths (:class:`~orchestrator.core.errors.InputError`, exit 2), the tree untouched.
  ``force`` restores them anyway.
- **An edit a crash cut short** (``intent`` without ``done``) is not finished first: its paths must be either all as
  the edit left them (its diff is fully applied) or as they were before; undo then restores the "before".
- **Recorded.** Each undone step's entry goes ``undoing`` (before writing) then ``undone`` with an ``undo`` event, in
  one transaction; the step's record becomes ``skipped`` (reason ``undone``), its conversation is dropped, and a
  session that had ``succeeded`` is ``failed`` (not all its steps are applied any more). So a second undo says "already
  undone", a resume never counts the step as applied and never runs it again on its own; its pending dependents are
  skipped; ``resume --retry-failed ["guidance"]`` runs it again, from scratch. An undo killed halfway is finished by
  running it again.

The session must not be running (:meth:`SessionStore.claim`), and the tree lock is held from the check to the last
write, so no edit of another session lands in between. A session that delivered its steps as commits (``apply.mode``
``commit`` or ``branch``, :mod:`orchestrator.engine.delivery`) is refused with the git command that takes it back:
undo restores uncommitted edits, it never rewrites history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from orchestrator.core.errors import InputError, OrchestrateError
from orchestrator.core.events import EditApplied, EventSink, UndoApplied, now_iso
from orchestrator.core.records import FileImage, JournalEntry
from orchestrator.store.sessions import SessionStore, Store
from orchestrator.workspace import checkpoints
from orchestrator.workspace.staging import Workspace

__all__ = ["UndoReport", "undo", "resolve_session", "undo_hint", "applied_order"]

TreeLock = Callable[[Path], AbstractContextManager[object]]
UNDONE_REASON = "undone by orchestrate undo"


@dataclass(frozen=True)
class UndoReport:
    """What an undo did: the ``undo`` events it emitted (one per step, in the order undone), or why nothing."""

    session_id: str
    undone: tuple[UndoApplied, ...] = ()
    nothing: str = ""  # why there was nothing to undo ("already undone", "applied no edits"), when ``undone`` is empty


def undo_hint(session_id: str) -> str:
    """The line an end summary shows to offer taking a session's changes back."""
    return f"to take these changes back: orchestrate undo {session_id}"


def resolve_session(store: Store, name: str | None, *, last: bool, cwd: Path) -> str:
    """The session ``undo`` means: ``name`` (an id or unique prefix), or with ``last`` the newest one started in
    ``cwd``. :class:`InputError` naming what is missing."""
    if name:
        return store.resolve(name)
    latest = store.latest(cwd=cwd) if last else None
    if latest is not None:
        return latest.id
    if last:
        raise InputError(f"no session was started in {cwd}", hint="`orchestrate sessions --all` lists them")
    raise InputError("say which session to undo", hint="orchestrate undo --last, or orchestrate undo SESSION_ID")


def applied_order(session: SessionStore) -> list[JournalEntry]:
    """The session's journal entries in the order their edits reached the tree (undone ones included)."""
    order: list[str] = []
    for event in session.events():
        if isinstance(event, EditApplied):
            order = [s for s in order if s != event.step_id] + [event.step_id]
    plan = session.load_plan()
    for step_id in [s.id for s in plan.steps] if plan is not None else []:
        if step_id not in order:
            order.append(step_id)  # no edit.applied: nothing, or an edit a crash cut short (the last one)
    entries = (session.journal_entry(step_id) for step_id in order)
    return [e for e in entries if e is not None]


def undo(store: Store, session_id: str, *, step_id: str | None, force: bool, events: EventSink,
         tree_lock: TreeLock) -> UndoReport:
    """Undo step ``step_id`` of the session (None: every applied step); see the module docstring.

    :class:`InputError` (nothing written) for an unknown step, a refusal, a session running or delivered as commits,
    a tree that is gone or a file undo cannot read; :class:`OrchestrateError` when writing fails halfway (the entry
    stays ``undoing``: running undo again finishes it).
    """
    with store.open(session_id) as session:
        session.claim()
        _check_delivery(session)
        entries = applied_order(session)
        todo = _chosen(session, entries, step_id)
        if isinstance(todo, str):
            return UndoReport(session.id, nothing=todo)
        root = Path(todo[0].root)
        if not root.is_dir():
            raise InputError(f"session {session.id} worked in {root}, which is gone: nothing to restore")
        workspace = Workspace(root)
        later = {f: e.step_id for e in entries[entries.index(todo[-1]) + 1:]
                 if e.state != "undone" and e not in todo for f in e.files}  # applied after, and staying
        with tree_lock(workspace.top):
            try:
                problems = _problems(workspace, todo, later)
            except OSError as exc:
                raise InputError(f"cannot undo session {session.id}: {exc}; nothing was changed") from None
            if problems and not force:
                raise _refusal(session.id, step_id, problems)
            undone: list[UndoApplied] = []
            for entry in todo:
                try:
                    undone.append(_undo_one(session, workspace, entry, forced=bool(problems), events=events))
                except OSError as exc:
                    raise OrchestrateError(f"undo of step {entry.step_id} of session {session.id} stopped: {exc}",
                                           hint="fix that, then run the same undo again: it finishes") from None
            return UndoReport(session.id, tuple(undone))


def _check_delivery(session: SessionStore) -> None:
    """Undo restores files; a session that delivered its steps as commits is taken back with git instead."""
    delivery = session.meta.options.get("delivery") or {}  # recorded by orchestrator.engine.delivery
    mode = delivery.get("mode", "worktree")
    if mode == "commit":
        raise InputError(f"session {session.id} committed its steps (apply.mode \"commit\"): undo restores uncommitted "
                         "edits only", hint="revert its commits: git revert --no-edit $(git log --format=%H "
                         f"--grep='Orchestrate-Session: {session.id}')")
    if mode == "branch":
        branch = delivery.get("branch") or f"orchestrate/{session.id}"
        raise InputError(f"session {session.id} worked on branch {branch} (apply.mode \"branch\"): your checkout was "
                         "never changed, nothing to undo", hint=f"to drop its work: orchestrate sessions rm --branches "
                         f"{session.id}")


def _chosen(session: SessionStore, entries: Sequence[JournalEntry], step_id: str | None) -> list[JournalEntry] | str:
    """The entries to undo, last applied first; or a line saying why there is nothing to undo."""
    if step_id is None:
        todo = [e for e in reversed(entries) if e.state != "undone"]
        if todo:
            return todo
        return f"session {session.id} is already undone" if entries else f"session {session.id} applied no edits"
    plan = session.load_plan()
    known = [s.id for s in plan.steps] if plan is not None else []
    if step_id not in known:
        listed = ", ".join(known) if known else "none"
        raise InputError(f"session {session.id} has no step {step_id!r}", hint=f"its steps: {listed}")
    entry = next((e for e in entries if e.step_id == step_id), None)
    if entry is None:
        return f"step {step_id} of session {session.id} applied no edit"
    if entry.state == "undone":
        return f"step {step_id} of session {session.id} is already undone"
    return [entry]


def _problems(workspace: Workspace, todo: Sequence[JournalEntry], later: dict[str, str]) -> list[tuple[str, str]]:
    """(path, who changed it) for every path not in a state undo knows, simulating the undo in order."""
    top = workspace.top
    virtual: dict[str, FileImage] = {}
    problems: list[tuple[str, str]] = []
    for entry in todo:
        post = _post(workspace, entry, untouched=not virtual.keys() & set(entry.files))
        for rel in entry.files:
            now = virtual.get(rel) or checkpoints.image(top, rel)
            before = checkpoints.before(entry, rel)
            if not (checkpoints.same(now, before) or (rel in post and checkpoints.same(now, post[rel]))):
                problems.append((rel, f"step {later[rel]}" if rel in later else "you"))
            virtual[rel] = before
    return problems


def _post(workspace: Workspace, entry: JournalEntry, *, untouched: bool) -> dict[str, FileImage]:
    """The state ``entry``'s edit left its paths in: recorded with ``done``; for an edit cut short before its
    ``done`` (or journaled before ``post`` existed), the current state when its whole diff is found applied."""
    if entry.post:
        return entry.post
    if untouched and workspace.check(entry.diff, reverse=True) is None:
        return checkpoints.images(workspace.top, entry.files)
    return {}


def _refusal(session_id: str, step_id: str | None, problems: Sequence[tuple[str, str]]) -> InputError:
    what = f"step {step_id} of session {session_id}" if step_id else f"session {session_id}"
    by_you = sorted({p for p, who in problems if who == "you"})
    by_steps = sorted({f"{p} (by {who})" for p, who in problems if who != "you"})
    named = ", ".join([*by_you, *by_steps])
    hint = "--force restores them anyway, losing those changes"
    if by_steps:
        hint = "undo the later steps first (or the whole session), or " + hint
    return InputError(f"not undoing {what}: changed since it applied: {named}; nothing was changed", hint=hint)


def _undo_one(session: SessionStore, workspace: Workspace, entry: JournalEntry, *, forced: bool,
              events: EventSink) -> UndoApplied:
    """Restore one step's paths, journaled ``undoing`` → ``undone``; the step record and the event land with it.
    A staging a crash left for the step goes too (the step will not continue from it)."""
    session.journal(entry.model_copy(update={"state": "undoing"}))
    checkpoints.restore(workspace.top, entry)
    staging_record = session.staging(entry.step_id)
    staging = workspace.attach(staging_record) if staging_record is not None else None
    if staging is not None:
        staging.remove()
    event = UndoApplied(session_id=session.id, step_id=entry.step_id, files=entry.files, forced=forced)
    record = session.step(entry.step_id)
    with session.transaction():
        session.journal(entry.model_copy(update={"state": "undone"}))
        session.set_step(record.model_copy(update={"status": "skipped", "reason": UNDONE_REASON,
                                                   "finished_at": now_iso()}))
        session.save_messages(entry.step_id, [])
        session.set_staging(entry.step_id, None)
        if session.meta.status == "succeeded":  # the engine's rule: a session succeeded when all its steps did
            session.update_meta(status="failed")
        session.append_event(event)
        session.after_commit(lambda: events.emit(event))
    return event
