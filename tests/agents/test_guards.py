"""The coder's write guards on a real directory: protected test files, and no change that leaves Python unparsable."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.actions import ApplyPatchAction, EditAction, WriteFileAction
from agents.guards import protected_tests, says_tests_define_success, syntax_problem
from agents.tools import ToolBox

pytestmark = pytest.mark.anyio

ANAGRAM = "def find_anagrams(word, candidates):\n    word = word.lower()\n    return []\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "anagram.py").write_text(ANAGRAM)
    (tmp_path / "anagram_test.py").write_text("from anagram import find_anagrams\n\ndef test_it():\n    pass\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_other.py").write_text("def test_other():\n    pass\n")
    return tmp_path


async def test_an_edit_that_merges_lines_into_unparsable_python_is_not_applied(project: Path) -> None:
    tools = ToolBox(root=project, step_id="s1")
    merged = EditAction(action="edit", path="anagram.py", search="def find_anagrams(word, candidates):\n"
                        "    word = word.lower()", replace="def find_anagrams(word, candidates):    word = word.lower(")
    said = await tools.execute(merged)
    assert said.startswith("ERROR: anagram.py was not changed: the result would not parse (anagram.py:1: ")
    assert (project / "anagram.py").read_text() == ANAGRAM
    assert tools.changed == []


async def test_a_whole_file_write_and_a_patch_that_do_not_parse_are_refused(project: Path) -> None:
    tools = ToolBox(root=project, step_id="s1")
    said = await tools.execute(WriteFileAction(action="write_file", path="anagram.py", content="def f(:\n"))
    assert "would not parse (anagram.py:1: " in said
    patch = ("--- a/anagram.py\n+++ b/anagram.py\n@@ -1,3 +1,3 @@\n def find_anagrams(word, candidates):\n"
             "-    word = word.lower()\n+    word = (word.lower()\n     return []\n")
    said = await tools.execute(ApplyPatchAction(action="apply_patch", diff=patch))
    assert said.startswith("ERROR: the patch was not applied: anagram.py was not changed")
    assert (project / "anagram.py").read_text() == ANAGRAM


async def test_a_parsable_edit_goes_through_and_a_file_broken_before_may_still_change(project: Path) -> None:
    tools = ToolBox(root=project, step_id="s1")
    ok = await tools.execute(EditAction(action="edit", path="anagram.py", search="return []", replace="return [1]"))
    assert ok.startswith("edited anagram.py")
    (project / "broken.py").write_text("def g(:\n")
    said = await tools.execute(WriteFileAction(action="write_file", path="broken.py", content="def g(\n"))
    assert said.startswith("overwrote broken.py")  # it did not parse before: no worse, and not blocked
    assert syntax_problem("notes.txt", None, "def (") is None


async def test_the_checks_test_file_may_not_be_edited(project: Path) -> None:
    protected = protected_tests("Implement find_anagrams.", ["python -m pytest -q anagram_test.py"], project)
    assert protected == frozenset({"anagram_test.py"})
    tools = ToolBox(root=project, step_id="s1", protected=protected)
    said = await tools.execute(WriteFileAction(action="write_file", path="anagram_test.py", content="pass\n"))
    assert said.startswith("ERROR: anagram_test.py was not changed: it holds the tests that define success")
    edit = EditAction(action="edit", path="anagram_test.py", search="pass", replace="assert True")
    assert (await tools.execute(edit)).startswith("ERROR: anagram_test.py was not changed")
    assert (project / "anagram_test.py").read_text().endswith("    pass\n")
    ok = await tools.execute(WriteFileAction(action="write_file", path="tests/test_other.py", content="x = 1\n"))
    assert ok.startswith("overwrote tests/test_other.py")


def test_a_task_that_says_its_says_tests_define_success_protects_the_test_files_it_names(project: Path) -> None:
    task = "Make the tests in tests/test_other.py pass without changing them; see anagram_test.py too."
    assert says_tests_define_success(task)
    assert protected_tests(task, [], project) == frozenset({"tests/test_other.py", "anagram_test.py"})
    assert not says_tests_define_success("Fix the typo in tests/test_other.py")
    assert protected_tests("Fix the typo in tests/test_other.py", [], project) == frozenset()
    assert protected_tests("make the tests pass", ["pytest -q ../outside_test.py", "pytest /abs/x_test.py"],
                           project) == frozenset()
