"""A run never truncates AGENTS.md silently: the step's event stream carries a warning naming the file and the bytes
dropped (issue 5, "Beyond Codex"), next to the ``memory.loaded`` event that names the docs the step received."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agents.docs import StepDocs
from memory import AgentsMdMemory
from orchestrator.core.events import ListSink, MemoryLoaded, WarningEvent

MakeMemory = Callable[..., AgentsMdMemory]
Write = Callable[[Path, str | bytes], Path]


def _warnings(sink: ListSink) -> list[WarningEvent]:
    return [e for e in sink.events if isinstance(e, WarningEvent)]


def test_cut_and_dropped_docs_are_warning_events_once_per_step(
    repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(repo / "AGENTS.md", "r" * 8)
    write(repo / "a" / "AGENTS.md", "a" * 8)
    write(repo / "a" / "b" / "AGENTS.md", "b" * 5)
    cwd = repo / "a" / "b"
    sink = ListSink()
    docs = StepDocs(make_memory(max_bytes=12), cwd, sink, "s1")
    assert docs.instructions([]) is not None
    docs.instructions([])  # a later call for the same step repeats nothing
    warnings = _warnings(sink)
    assert [w.step_id for w in warnings] == ["s1", "s1"]
    assert str(repo / "a" / "AGENTS.md") in warnings[0].message and "4 of 8 bytes dropped" in warnings[0].message
    assert str(cwd / "AGENTS.md") in warnings[1].message and "(5 bytes)" in warnings[1].message
    assert all("max_bytes" in w.message for w in warnings)
    loaded = [e for e in sink.events if isinstance(e, MemoryLoaded)]
    assert [list(e.sources) for e in loaded] == [[str(repo / "AGENTS.md"), str(repo / "a" / "AGENTS.md")]]


def test_scoped_doc_cut_when_the_coder_touches_a_file_is_a_warning(
    repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(repo / "a" / "b" / "AGENTS.md", "x" * 20)
    sink = ListSink()
    docs = StepDocs(make_memory(max_bytes=10), repo, sink, "s2")
    docs.instructions([])
    assert _warnings(sink) == []
    assert docs.on_touch("a/b/mod.py") is not None
    warnings = _warnings(sink)
    assert len(warnings) == 1 and str(repo / "a" / "b" / "AGENTS.md") in warnings[0].message
    assert "10 of 20 bytes dropped" in warnings[0].message


def test_no_warning_when_everything_fits(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "fits")
    sink = ListSink()
    StepDocs(make_memory(), repo, sink, "s3").instructions(["a/x.py"])
    assert _warnings(sink) == []
