"""Discovery rules: project root, the directories searched, and the one doc picked per directory (Codex's rules)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from memory import AgentsMdMemory, candidate_names, find_project_root

MakeMemory = Callable[..., AgentsMdMemory]
Write = Callable[[Path, str | bytes], Path]

_UNIQUE_MARKER = ".orchestrate-test-root-marker"  # found nowhere above tmp_path, unlike .git could be


def _paths(memory: AgentsMdMemory, cwd: Path) -> list[Path]:
    return [s.path for s in memory.load(cwd).sources]


def test_git_directory_marks_the_root(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "root")
    write(repo / "a" / "b" / "AGENTS.md", "b")
    cwd = repo / "a" / "b" / "c"
    assert find_project_root(cwd, (".git",)) == repo
    memory = make_memory()
    assert _paths(memory, cwd) == [repo / "AGENTS.md", repo / "a" / "b" / "AGENTS.md"]
    assert memory.load(cwd).text == "root\n\nb"


def test_git_file_marks_the_root(tmp_path: Path, make_memory: MakeMemory, write: Write) -> None:
    # A worktree or submodule has a .git *file* ("gitdir: ..."); it is a root all the same.
    root = tmp_path / "worktree"
    write(root / ".git", "gitdir: /elsewhere/.git/worktrees/x\n")
    write(root / "AGENTS.md", "worktree doc")
    (root / "pkg").mkdir()
    assert find_project_root(root / "pkg", (".git",)) == root
    assert make_memory().load(root / "pkg").text == "worktree doc"


def test_nearest_marker_wins_and_nothing_above_the_root_is_read(
    tmp_path: Path, make_memory: MakeMemory, write: Write
) -> None:
    outer = tmp_path / "outer"
    write(outer / _UNIQUE_MARKER, "")
    write(outer / "AGENTS.md", "outer doc: above the inner root")
    inner = outer / "inner"
    write(inner / _UNIQUE_MARKER, "")
    write(inner / "AGENTS.md", "inner doc")
    (inner / "x").mkdir()
    memory = make_memory(root_markers=[_UNIQUE_MARKER])
    assert memory.project_root(inner / "x") == inner
    assert memory.load(inner / "x").text == "inner doc"


def test_custom_markers_any_of_them(tmp_path: Path, make_memory: MakeMemory, write: Write) -> None:
    root = tmp_path / "proj"
    write(root / "pyproject.toml", "[project]\n")
    write(root / "AGENTS.md", "root")
    (root / "src").mkdir()
    memory = make_memory(root_markers=[".hg", "pyproject.toml"])
    assert memory.project_root(root / "src") == root
    assert memory.load(root / "src").text == "root"
    # A marker can be a directory too.
    (root / "src" / ".hg").mkdir()
    assert memory.project_root(root / "src") == root / "src"
    assert memory.load(root / "src").text == ""


def test_empty_markers_read_only_the_cwd(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "root")
    write(repo / "a" / "AGENTS.md", "a")
    memory = make_memory(root_markers=[])
    assert memory.project_root(repo / "a") is None
    assert _paths(memory, repo / "a") == [repo / "a" / "AGENTS.md"]
    assert memory.load(repo / "a" / "b").sources == ()


def test_no_root_found_reads_only_the_cwd(tmp_path: Path, make_memory: MakeMemory, write: Write) -> None:
    write(tmp_path / "AGENTS.md", "parent doc, not in any project")
    write(tmp_path / "here" / "AGENTS.md", "here")
    memory = make_memory(root_markers=[_UNIQUE_MARKER])
    assert memory.project_root(tmp_path / "here") is None
    assert memory.load(tmp_path / "here").text == "here"


def test_cwd_itself_can_be_the_root(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "root")
    assert make_memory().load(repo).text == "root"


def test_never_reads_below_the_cwd_or_beside_it(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "root")
    write(repo / "a" / "b" / "AGENTS.md", "below the cwd")
    write(repo / "sibling" / "AGENTS.md", "beside the cwd")
    assert make_memory().load(repo / "a").text == "root"


def test_override_wins_over_agents_md(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "AGENTS.md", "versioned")
    write(repo / "AGENTS.override.md", "local")
    write(repo / "a" / "AGENTS.md", "a versioned")
    memory = make_memory()
    assert _paths(memory, repo / "a") == [repo / "AGENTS.override.md", repo / "a" / "AGENTS.md"]
    assert memory.load(repo / "a").text == "local\n\na versioned"


def test_fallbacks_in_order_after_agents_md(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    write(repo / "CLAUDE.md", "claude")
    write(repo / "TEAM.md", "team")
    write(repo / "a" / "TEAM.md", "a team")
    write(repo / "a" / "b" / "AGENTS.md", "b agents")
    write(repo / "a" / "b" / "CLAUDE.md", "b claude: AGENTS.md wins")
    memory = make_memory(fallback_filenames=["CLAUDE.md", "TEAM.md"])
    assert memory.load(repo / "a" / "b").text == "claude\n\na team\n\nb agents"
    # Without fallbacks, only AGENTS.override.md / AGENTS.md count.
    assert make_memory().load(repo / "a" / "b").text == "b agents"


def test_candidate_names_skip_empty_and_repeated_fallbacks() -> None:
    assert candidate_names(["", "AGENTS.md", "X.md", "X.md"]) == ("AGENTS.override.md", "AGENTS.md", "X.md")


def test_a_directory_named_like_a_doc_is_skipped(repo: Path, make_memory: MakeMemory, write: Write) -> None:
    (repo / "AGENTS.override.md").mkdir()
    write(repo / "AGENTS.md", "the file")
    (repo / "a" / "AGENTS.md").mkdir()
    write(repo / "a" / "NOTES.md", "fallback after a directory named AGENTS.md")
    memory = make_memory(fallback_filenames=["NOTES.md"])
    assert memory.load(repo / "a").text == "the file\n\nfallback after a directory named AGENTS.md"


def test_symlinked_doc_is_followed_and_dangling_one_skipped(
    repo: Path, make_memory: MakeMemory, write: Write
) -> None:
    shared = write(repo.parent / "shared.md", "shared rules")
    os.symlink(shared, repo / "AGENTS.md")
    os.symlink(repo / "missing.md", repo / "a" / "AGENTS.override.md")
    write(repo / "a" / "AGENTS.md", "a")
    assert make_memory().load(repo / "a").text == "shared rules\n\na"

