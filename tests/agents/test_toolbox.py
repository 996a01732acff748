"""The coder's tools against a real directory: every action, confinement, bounded output, errors as observations."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agents.actions import (
    ApplyPatchAction,
    EditAction,
    ListFilesAction,
    ReadFileAction,
    RunAction,
    SearchAction,
    WriteFileAction,
)
from agents.tools import ToolBox, ToolLimits
from orchestrator.core.events import ListSink
from orchestrator.engine.commands import CommandRunner
from orchestrator.settings.schema import Settings
from policies.amend import append_allow_rule
from policies.sandbox import policy_for
from tests.agents.doubles import HostSandbox, ScriptedApprover, WordGate

pytestmark = pytest.mark.anyio


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "bank.py").write_text(
        "class Account:\n    def deposit(self, amount):\n        self.balance += amount\n"
    )
    (root / "src" / "util.py").write_text("def helper():\n    return 42\n")
    (root / "tests" / "test_bank.py").write_text("def test_it():\n    assert True\n")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "dep.js").write_text("x")
    (tmp_path / "secret.txt").write_text("top secret\n")
    return root


def box(root: Path, **kwargs: object) -> ToolBox:
    return ToolBox(root=root, step_id="s1", **kwargs)  # type: ignore[arg-type]


async def test_read_file_whole_and_ranges(project: Path) -> None:
    tools = box(project)
    whole = await tools.execute(ReadFileAction(action="read_file", path="src/bank.py"))
    assert whole.startswith("src/bank.py (lines 1-3 of 3)\nclass Account:")
    part = await tools.execute(ReadFileAction(action="read_file", path="src/bank.py", start_line=2, end_line=2))
    assert part == "src/bank.py (lines 2-2 of 3)\n    def deposit(self, amount):"
    assert tools.touched == ["src/bank.py"]


async def test_read_file_is_bounded_with_a_note(project: Path) -> None:
    (project / "big.txt").write_text("".join(f"row {i}\n" for i in range(1, 1001)))
    tools = box(project, limits=ToolLimits(read_lines=100))
    out = await tools.execute(ReadFileAction(action="read_file", path="big.txt"))
    assert "lines 1-100 of 1000" in out and "row 100\n" in out + "\n" and "row 101" not in out.split("[")[0]
    assert "read_file with start_line 101" in out


async def test_read_missing_file_and_directory_are_observations(project: Path) -> None:
    tools = box(project)
    assert "does not exist" in await tools.execute(ReadFileAction(action="read_file", path="nope.py"))
    assert "is a directory" in await tools.execute(ReadFileAction(action="read_file", path="src"))


async def test_list_files_skips_junk_and_filters_by_glob(project: Path) -> None:
    tools = box(project)
    listing = await tools.execute(ListFilesAction(action="list_files"))
    assert listing.splitlines() == ["src/bank.py", "src/util.py", "tests/test_bank.py"]
    only = await tools.execute(ListFilesAction(action="list_files", path="src", glob="b*.py"))
    assert only == "src/bank.py"


async def test_list_files_is_bounded(project: Path) -> None:
    for i in range(30):
        (project / f"f{i:02}.txt").write_text("")
    out = await box(project, limits=ToolLimits(list_entries=10)).execute(ListFilesAction(action="list_files"))
    assert len(out.splitlines()) == 11 and "more files not shown" in out


async def test_search_finds_lines_and_reports_bad_regex(project: Path) -> None:
    tools = box(project)
    hits = await tools.execute(SearchAction(action="search", pattern=r"def \w+\(", glob="*.py"))
    assert hits.splitlines() == [
        "src/bank.py:2: def deposit(self, amount):",
        "src/util.py:1: def helper():",
        "tests/test_bank.py:1: def test_it():",
    ]
    assert "no matches" in await tools.execute(SearchAction(action="search", pattern="zzz"))
    assert "invalid regular expression" in await tools.execute(SearchAction(action="search", pattern="(unclosed"))


async def test_search_is_bounded(project: Path) -> None:
    (project / "many.txt").write_text("hit\n" * 100)
    out = await box(project, limits=ToolLimits(search_matches=5)).execute(SearchAction(action="search", pattern="hit"))
    assert len(out.splitlines()) == 6 and "more matches not shown" in out


@pytest.mark.parametrize("path", ["/etc/passwd", "../secret.txt", "src/../../secret.txt", "~/x", ".git/config", ""])
async def test_paths_outside_the_root_are_refused(project: Path, path: str) -> None:
    tools = box(project)
    for action in (
        ReadFileAction(action="read_file", path=path),
        WriteFileAction(action="write_file", path=path, content="pwned"),
        EditAction(action="edit", path=path, search="top", replace="x"),
    ):
        assert (await tools.execute(action)).startswith("ERROR:")
    assert (project.parent / "secret.txt").read_text() == "top secret\n"
    assert not (project / ".git").exists()


async def test_symlink_pointing_outside_is_refused(project: Path) -> None:
    os.symlink(project.parent / "secret.txt", project / "link.txt")
    os.symlink(project.parent, project / "up")
    tools = box(project)
    assert "outside the project" in await tools.execute(ReadFileAction(action="read_file", path="link.txt"))
    out = await tools.execute(WriteFileAction(action="write_file", path="up/new.txt", content="x"))
    assert "outside the project" in out and not (project.parent / "new.txt").exists()
    assert "outside the project" in await tools.execute(ListFilesAction(action="list_files", path="up"))


async def test_patch_escaping_the_root_is_refused(project: Path) -> None:
    diff = "--- a/../secret.txt\n+++ b/../secret.txt\n@@ -1 +1 @@\n-top secret\n+pwned\n"
    out = await box(project).execute(ApplyPatchAction(action="apply_patch", diff=diff))
    assert out.startswith("ERROR:") and (project.parent / "secret.txt").read_text() == "top secret\n"


async def test_edit_applies_and_failures_are_observations(project: Path) -> None:
    tools = box(project)
    ok = await tools.execute(EditAction(action="edit", path="src/util.py", search="return 42", replace="return 43"))
    assert ok == "edited src/util.py at line 2" and "return 43" in (project / "src/util.py").read_text()
    missing = await tools.execute(EditAction(action="edit", path="src/util.py", search="return 44", replace="x"))
    assert missing.startswith("ERROR: edit of src/util.py failed") and "return 43" in missing
    new = await tools.execute(EditAction(action="edit", path="src/new.py", search="a", replace="b"))
    assert "use write_file" in new
    assert tools.changed == ["src/util.py"]


async def test_write_file_creates_dirs_and_keeps_crlf(project: Path) -> None:
    tools = box(project)
    created = await tools.execute(WriteFileAction(action="write_file", path="pkg/mod.py", content="a = 1\nb = 2\n"))
    assert created == "created pkg/mod.py (2 lines)" and (project / "pkg/mod.py").read_text() == "a = 1\nb = 2\n"
    (project / "win.txt").write_bytes(b"old\r\n")
    await tools.execute(WriteFileAction(action="write_file", path="win.txt", content="new\nlines\n"))
    assert (project / "win.txt").read_bytes() == b"new\r\nlines\r\n"
    assert tools.changed == ["pkg/mod.py", "win.txt"]


async def test_overwriting_a_module_without_some_of_its_definitions_says_which(project: Path) -> None:
    (project / "stats.py").write_text("def mean(v):\n    pass\n\n\nclass Box:\n    pass\n\n\nasync def fetch():\n"
                                      "    pass\n")
    tools = box(project)
    out = await tools.execute(WriteFileAction(action="write_file", path="stats.py", content="def mean(v):\n    pass\n"))
    assert out.startswith("overwrote stats.py (2 lines)\nNote: the file no longer defines Box, fetch. ")
    kept = await tools.execute(WriteFileAction(action="write_file", path="stats.py",
                                               content="def mean(v):\n    return 1\n"))
    assert "Note" not in kept
    notes = await tools.execute(WriteFileAction(action="write_file", path="notes.txt", content="x\n"))
    assert "Note" not in notes  # a new file, and not Python


async def test_apply_patch_is_all_or_nothing(project: Path) -> None:
    tools = box(project)
    good = "--- a/src/util.py\n+++ b/src/util.py\n@@ -1,2 +1,2 @@\n def helper():\n-    return 42\n+    return 7\n"
    bad = "--- a/src/bank.py\n+++ b/src/bank.py\n@@ -1,1 +1,1 @@\n-class Bank:\n+class B:\n"
    out = await tools.execute(ApplyPatchAction(action="apply_patch", diff=good + bad))
    assert out.startswith("ERROR: the patch was not applied") and "hunk 1 of src/bank.py" in out
    assert "return 42" in (project / "src/util.py").read_text()
    out = await tools.execute(ApplyPatchAction(action="apply_patch", diff=good))
    assert out == "patched src/util.py" and "return 7" in (project / "src/util.py").read_text()


async def test_apply_patch_creates_and_deletes(project: Path) -> None:
    diff = (
        "--- /dev/null\n+++ b/src/new.py\n@@ -0,0 +1 @@\n+x = 1\n"
        "--- a/src/util.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-def helper():\n-    return 42\n"
    )
    out = await box(project).execute(ApplyPatchAction(action="apply_patch", diff=diff))
    assert out.splitlines() == ["patched src/new.py", "deleted src/util.py"]
    assert (project / "src/new.py").read_text() == "x = 1\n" and not (project / "src/util.py").exists()


async def test_run_goes_through_the_command_runner(project: Path) -> None:
    events = ListSink()
    runner = CommandRunner(gate=WordGate({"curl": "forbidden"}), approver=ScriptedApprover(), sandbox=HostSandbox(),
                           settings=Settings(), events=events, policy_for=policy_for, persist_rule=append_allow_rule)
    tools = box(project, commands=runner, limits=ToolLimits(output_chars=300))
    out = await tools.execute(RunAction(action="run", command="ls src"))
    assert out == "$ ls src\nbank.py\nutil.py\n[exit code 0]"
    refused = await tools.execute(RunAction(action="run", command="curl http://x"))
    assert "NOT RUN" in refused
    long = await tools.execute(RunAction(action="run", command="seq 1 2000"))
    assert "characters of output cut" in long and long.endswith("2000\n[exit code 0]")
    assert [e.type for e in events.events].count("command.executed") == 2


async def test_run_without_a_runner_is_refused(project: Path) -> None:
    assert "not available" in await box(project).execute(RunAction(action="run", command="ls"))


async def test_on_touch_adds_text_once_per_file(project: Path) -> None:
    seen: list[str] = []

    def on_touch(rel: str) -> str | None:
        seen.append(rel)
        return "NOTE for " + rel

    tools = box(project, on_touch=on_touch)
    first = await tools.execute(ReadFileAction(action="read_file", path="src/util.py"))
    again = await tools.execute(ReadFileAction(action="read_file", path="src/util.py"))
    assert first.endswith("NOTE for src/util.py") and "NOTE" not in again and seen == ["src/util.py"]


async def test_a_worktrees_git_file_is_not_listed(project: Path) -> None:
    (project / ".git").write_text("gitdir: /elsewhere\n")
    listing = await box(project).execute(ListFilesAction(action="list_files"))
    assert ".git" not in listing.splitlines()
