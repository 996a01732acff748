"""The undo engine on journal entries written directly (real git, real store, in process): entries journaled before
checkpoints had ``post``/``premodes``, and an edit cut short in a state undo does not know."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.core.errors import InputError
from orchestrator.core.events import EditApplied, ListSink
from orchestrator.core.plan import Plan, Step
from orchestrator.core.records import JournalEntry
from orchestrator.engine.undo import undo
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store
from orchestrator.workspace.staging import Workspace
from tests.engine.undo_support import fingerprint
from tests.support import make_repo


@contextlib.contextmanager
def _no_lock(top: Path) -> Iterator[None]:
    yield


def _applied(tmp_path: Path, *, old_format: bool, state: str = "done") -> tuple[Path, Store, str]:
    """A session whose one step s1 rewrote a.txt and created b.txt, journaled as ``state``."""
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    store = Store(Home(tmp_path / "home"))
    session = store.create(cwd=repo, task="t")
    session.save_plan(Plan(steps=(Step(id="s1", role="coder", goal="g"),)))
    ws = Workspace(repo)
    staging = ws.create_staging(session.stagings_dir, "s1")
    (staging.tree / "a.txt").write_text("A\n")
    (staging.tree / "b.txt").write_text("b\n")
    entries: list[JournalEntry] = []
    ws.apply("s1", staging.diff(), staging.changed_files(), entries.append)
    staging.remove()
    entry = entries[0] if state == "intent" else entries[-1]  # an intent has no post: git apply had not returned
    if old_format:
        entry = entry.model_copy(update={"post": {}, "premodes": {}, "new_dirs": ()})
    session.journal(entry)
    if state == "done":
        session.append_event(EditApplied(step_id="s1", files=entry.files))
    session.close()
    return repo, store, session.id


@pytest.mark.parametrize("state", ["done", "intent"])
def test_an_entry_without_post_states_is_undone_when_its_diff_is_applied(tmp_path: Path, state: str) -> None:
    repo, store, session_id = _applied(tmp_path, old_format=True, state=state)
    sink = ListSink()

    report = undo(store, session_id, step_id=None, force=False, events=sink, tree_lock=_no_lock)

    assert [e.step_id for e in report.undone] == ["s1"] and sink.of_type("undo")
    assert (repo / "a.txt").read_text() == "a\n" and not (repo / "b.txt").exists()
    assert fingerprint(repo)[0] == ""  # git status --porcelain: clean again
    store.close()


def test_an_edit_cut_short_in_an_unknown_state_is_refused_then_forced(tmp_path: Path) -> None:
    repo, store, session_id = _applied(tmp_path, old_format=False, state="intent")
    (repo / "a.txt").write_text("neither before nor after\n")
    before = fingerprint(repo)

    with pytest.raises(InputError, match=r"a\.txt") as refused:
        undo(store, session_id, step_id=None, force=False, events=ListSink(), tree_lock=_no_lock)

    assert "b.txt" in str(refused.value)  # the diff is not all there: every path must be as before, and is not
    assert fingerprint(repo) == before
    undo(store, session_id, step_id="s1", force=True, events=ListSink(), tree_lock=_no_lock)
    assert fingerprint(repo)[0] == "" and (repo / "a.txt").read_text() == "a\n"
    store.close()
