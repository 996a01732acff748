"""Scoped docs: a step gets the AGENTS.md of the directories below the cwd holding its files, for that step only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from memory import AgentsMdMemory, scoped_dirs

MakeMemory = Callable[..., AgentsMdMemory]
Write = Callable[[Path, str | bytes], Path]


def test_scoped_dirs_strictly_below_cwd_deduplicated_shallow_to_deep(repo: Path) -> None:
    (repo / "docs").mkdir()
    files = ["a/b/c/x.py", "a/y.py", "docs/", "top.py", "a/b/z.py"]
    assert scoped_dirs(repo, files) == [repo / "a", repo / "docs", repo / "a" / "b", repo / "a" / "b" / "c"]


def test_scoped_dirs_ignore_paths_outside_the_cwd(repo: Path) -> None:
    cwd = repo / "a"
    files = ["../sibling/x.py", str(repo / "other" / "y.py"), str(cwd / "b" / "z.py"), "b/../b/c/w.py", "", "."]
    assert scoped_dirs(cwd, files) == [cwd / "b", cwd / "b" / "c"]


def test_scoped_docs_for_a_step(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "root: already in load()")
    write(repo / "a" / "AGENTS.md", "a rules")
    write(repo / "a" / "b" / "AGENTS.override.md", "b local rules")
    write(repo / "a" / "b" / "AGENTS.md", "b rules: hidden by the override")
    write(repo / "lib" / "AGENTS.md", "lib rules: not touched by this step")
    memory = make_memory()
    context = memory.scoped(repo, ["a/b/c/new_file.py"])
    assert [s.path for s in context.sources] == [repo / "a" / "AGENTS.md", repo / "a" / "b" / "AGENTS.override.md"]
    assert all(s.scope == "project" for s in context.sources)
    assert context.text == (
        "--- a/AGENTS.md (applies to files under a/) ---\n\na rules\n\n"
        "--- a/b/AGENTS.override.md (applies to files under a/b/) ---\n\nb local rules"
    )
    # load() is unchanged by what a step touched: scoped docs are for that step only.
    assert memory.load(repo).text == "root: already in load()"


def test_scoped_docs_exclude_the_cwd_and_above(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "root")
    write(repo / "a" / "AGENTS.md", "a: the cwd's own doc comes from load()")
    write(repo / "a" / "b" / "AGENTS.md", "b")
    context = make_memory().scoped(repo / "a", ["b/x.py", "y.py", "../z.py"])
    assert [s.path for s in context.sources] == [repo / "a" / "b" / "AGENTS.md"]


def test_scoped_docs_use_fallbacks_and_skip_blank_docs(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "a" / "AGENTS.md", "\n")
    write(repo / "a" / "b" / "TEAM.md", "team")
    context = make_memory(fallback_filenames=["TEAM.md"]).scoped(repo, ["a/b/x.py"])
    assert [s.path for s in context.sources] == [repo / "a" / "b" / "TEAM.md"]


def test_scoped_docs_have_their_own_budget_and_report_truncation(
    repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    write(repo / "a" / "AGENTS.md", "A" * 8)
    write(repo / "a" / "b" / "AGENTS.md", "B" * 8)
    context = make_memory(max_bytes=10).scoped(repo, ["a/b/x.py"])
    assert [(s.bytes, s.truncated, s.dropped_bytes) for s in context.sources] == [(8, False, 0), (2, True, 6)]
    assert context.text.endswith("\n\nBB")


def test_scoped_docs_disabled_by_zero_budget_or_no_files(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "a" / "AGENTS.md", "a")
    assert make_memory(max_bytes=0).scoped(repo, ["a/x.py"]).sources == ()
    assert make_memory().scoped(repo, []).sources == ()
    assert make_memory().scoped(repo, ["x.py"]).text == ""


def test_absolute_files_through_a_symlinked_cwd(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "a" / "AGENTS.md", "a")
    link = repo.parent / "link"
    link.symlink_to(repo)
    context = make_memory().scoped(link, [str(link / "a" / "x.py")])
    assert [s.path for s in context.sources] == [repo / "a" / "AGENTS.md"]
