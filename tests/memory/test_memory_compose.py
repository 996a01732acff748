"""Composition rules: global doc, blank files, the shared byte budget, UTF-8 cuts, and the instructions message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from memory import AgentsMdMemory, build_memory, describe_truncation, instructions_message, render_instructions
from memory.compose import cut_utf8
from orchestrator.core.contracts import Memory, MemoryContext, MemorySource
from orchestrator.core.errors import InputError
from orchestrator.settings.home import Home
from orchestrator.settings.schema import Settings

MakeMemory = Callable[..., AgentsMdMemory]
Write = Callable[[Path, str | bytes], Path]

SEP = "\n\n--- project-doc ---\n\n"


# ----------------------------------------------------------------------------------------------------- global doc


def test_global_override_first_then_agents_md_trimmed(
    orchestrate_home: Path, tmp_path: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(orchestrate_home / "AGENTS.md", "\n  global rules \n\n")
    memory = make_memory()
    context = memory.load(tmp_path)
    assert context.text == "global rules"
    assert context.sources == (MemorySource(path=orchestrate_home / "AGENTS.md", scope="global", bytes=12),)
    write(orchestrate_home / "AGENTS.override.md", "override rules\n")
    assert memory.load(tmp_path).text == "override rules"


def test_blank_global_override_falls_back_to_agents_md(
    orchestrate_home: Path, tmp_path: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(orchestrate_home / "AGENTS.override.md", " \n\t\n")
    write(orchestrate_home / "AGENTS.md", "global")
    assert make_memory().load(tmp_path).text == "global"


def test_global_directory_named_like_a_doc_is_skipped(
    orchestrate_home: Path, tmp_path: Path, make_memory: MakeMemory, write: Write
) -> None:
    (orchestrate_home / "AGENTS.override.md").mkdir()
    write(orchestrate_home / "AGENTS.md", "global")
    assert make_memory().load(tmp_path).text == "global"


def test_global_doc_is_not_counted_against_the_budget(
    orchestrate_home: Path, repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(orchestrate_home / "AGENTS.md", "G" * 100)
    write(repo / "AGENTS.md", "0123456789")
    context = make_memory(max_bytes=10).load(repo)
    assert context.text == "G" * 100 + SEP + "0123456789"
    assert not any(s.truncated for s in context.sources)


def test_global_plus_project_composition(
    orchestrate_home: Path, repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(orchestrate_home / "AGENTS.md", "global\n")
    write(repo / "AGENTS.md", "root doc\n")
    write(repo / "a" / "AGENTS.md", "a doc")
    context = make_memory().load(repo / "a")
    # Project docs are kept verbatim (not trimmed) and joined by a blank line, as Codex does.
    assert context.text == "global" + SEP + "root doc\n\n\na doc"
    assert [s.scope for s in context.sources] == ["global", "project", "project"]


def test_global_only_and_project_only_have_no_separator(
    orchestrate_home: Path, repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(repo / "AGENTS.md", "project")
    assert make_memory().load(repo).text == "project"
    (repo / "AGENTS.md").unlink()
    write(orchestrate_home / "AGENTS.md", "global")
    assert make_memory().load(repo).text == "global"


def test_no_docs_means_nothing_is_sent(repo: Path, make_memory: MakeMemory) -> None:
    context = make_memory().load(repo / "a")
    assert context == MemoryContext()
    assert render_instructions(context, repo / "a") is None
    assert instructions_message(context, repo / "a") is None


# ---------------------------------------------------------------------------------------------------- blank files


def test_empty_and_blank_project_docs_add_nothing(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "")
    write(repo / "a" / "AGENTS.md", "  \n\n ")
    write(repo / "a" / "b" / "AGENTS.md", "b")
    context = make_memory().load(repo / "a" / "b")
    assert context.text == "b"
    assert [s.path for s in context.sources] == [repo / "a" / "b" / "AGENTS.md"]


def test_empty_override_hides_that_directorys_agents_md(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.override.md", "")
    write(repo / "AGENTS.md", "hidden by the empty override")
    write(repo / "a" / "AGENTS.md", "a")
    assert make_memory().load(repo / "a").text == "a"


def test_blank_docs_consume_no_budget(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", " " * 50)
    write(repo / "a" / "AGENTS.md", "0123456789")
    context = make_memory(max_bytes=10).load(repo / "a")
    assert context.text == "0123456789"
    assert not context.sources[0].truncated


# --------------------------------------------------------------------------------------------------------- budget


def test_budget_is_shared_root_first_the_crossing_doc_is_cut_later_ones_dropped(
    repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(repo / "AGENTS.md", "A" * 6)
    write(repo / "a" / "AGENTS.md", "B" * 6)
    write(repo / "a" / "b" / "AGENTS.md", "C" * 6)
    context = make_memory(max_bytes=10).load(repo / "a" / "b")
    assert context.text == "AAAAAA\n\nBBBB"
    a, b, c = context.sources
    assert (a.bytes, a.truncated, a.dropped_bytes) == (6, False, 0)
    assert (b.bytes, b.truncated, b.dropped_bytes) == (4, True, 2)
    assert (c.bytes, c.truncated, c.dropped_bytes) == (0, True, 6)
    warnings = describe_truncation(context)
    assert len(warnings) == 2
    assert f"{b.path} truncated: 2 of 6 bytes dropped" in warnings[0]
    assert f"{c.path} left out (6 bytes)" in warnings[1]
    assert all("max_bytes" in w for w in warnings)


def test_doc_exactly_at_the_budget_is_whole_and_the_next_is_dropped(
    repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(repo / "AGENTS.md", "0123456789")
    write(repo / "a" / "AGENTS.md", "next")
    context = make_memory(max_bytes=10).load(repo / "a")
    assert context.text == "0123456789"
    assert [(s.truncated, s.dropped_bytes) for s in context.sources] == [(False, 0), (True, 4)]


def test_single_oversized_doc_is_cut_to_the_budget(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "A" * 2048)
    context = make_memory(max_bytes=1024).load(repo)
    assert context.text == "A" * 1024
    assert context.sources[0].bytes == 1024


def test_multibyte_text_is_cut_at_a_character_boundary(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "ab€€")  # € is 3 bytes: a b [e2 82 ac] [e2 82 ac] = 8 bytes
    write(repo / "a" / "AGENTS.md", "dropped")
    context = make_memory(max_bytes=6).load(repo / "a")
    assert context.text == "ab€"
    root, dropped = context.sources
    assert (root.bytes, root.truncated, root.dropped_bytes) == (5, True, 3)
    assert dropped.truncated and dropped.bytes == 0
    assert "\ufffd" not in context.text


@pytest.mark.parametrize(
    ("data", "limit", "cut"),
    [
        ("héllo".encode(), 2, 1),  # inside é (2 bytes)
        ("héllo".encode(), 3, 3),  # right after é
        ("a😀".encode(), 4, 1),  # inside a 4-byte emoji: back off 3
        ("a😀".encode(), 5, 5),  # fits
        (b"abc", 0, 0),
        (b"\x80\x80\x80\x80\x80", 4, 4),  # not UTF-8: cut at the byte budget
    ],
)
def test_cut_utf8(data: bytes, limit: int, cut: int) -> None:
    assert cut_utf8(data, limit) == cut


def test_invalid_utf8_is_replaced_not_fatal(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", b"ok \xff\xfe end")
    assert make_memory().load(repo).text == "ok \ufffd\ufffd end"


def test_zero_budget_disables_project_docs_but_not_the_global_doc(
    orchestrate_home: Path, repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(repo / "AGENTS.md", "project")
    memory = make_memory(max_bytes=0)
    assert memory.load(repo) == MemoryContext()
    write(orchestrate_home / "AGENTS.md", "global")
    context = memory.load(repo)
    assert context.text == "global"
    assert describe_truncation(context) == []


def test_unreadable_doc_is_a_one_line_input_error(repo: Path, make_memory: MakeMemory) -> None:
    # A regular file whose read fails even for root: /proc/self/mem at offset 0 gives EIO.
    if not Path("/proc/self/mem").is_file():
        pytest.skip("needs Linux /proc")
    doc = repo / "AGENTS.md"
    doc.symlink_to("/proc/self/mem")
    with pytest.raises(InputError) as err:
        make_memory().load(repo)
    assert str(err.value) == f"{doc}: cannot read AGENTS.md doc: Input/output error (fix its permissions or remove it)"


# ----------------------------------------------------------------------------------------------- message & seam


def test_render_instructions_is_codexs_message(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "Use pytest.")
    context = make_memory().load(repo)
    expected = f"# AGENTS.md instructions for {repo}\n\n<INSTRUCTIONS>\nUse pytest.\n</INSTRUCTIONS>"
    assert render_instructions(context, repo) == expected
    message = instructions_message(context, repo)
    assert message is not None
    assert (message.role, message.content) == ("user", expected)


def test_build_memory_reads_settings_and_implements_the_seam(
    orchestrate_home: Path, repo: Path, write: Write
) -> None:
    write(repo / "AGENTS.md", "0123456789")
    settings = Settings.model_validate({"memory": {"max_bytes": 4}})
    memory: Memory = build_memory(settings, Home(orchestrate_home))
    assert memory.load(repo).text == "0123"
