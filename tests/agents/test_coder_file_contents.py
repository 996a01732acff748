"""The coder's first message shows the step's (short, existing, inside-the-root) files, so a small model need not
spend turns reading them."""

from __future__ import annotations

from pathlib import Path

from agents.coder import file_contents, initial_messages, related_tests
from agents.tools import ToolBox
from orchestrator.core.plan import Step


def test_existing_short_files_are_shown_verbatim(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2")
    text = file_contents(tmp_path, ["a.py", "b.py", "a.py"])
    assert "a.py:\n```\nx = 1\n```" in text and "b.py:\n```\ny = 2\n```" in text
    assert text.count("a.py:") == 1 and "no need to read them again" in text


def test_missing_long_outside_and_git_files_are_left_to_the_model(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "big.py").write_text("# filler\n" * 2000)
    (tmp_path.parent / "outside.py").write_text("secret = 1\n")
    assert file_contents(tmp_path, ["missing.py", "big.py", "../outside.py", ".git/config"]) == ""
    (tmp_path / "small.py").write_text("z = 3\n")
    assert "z = 3" in file_contents(tmp_path, ["big.py", "small.py"], max_chars=100)
    assert file_contents(tmp_path, ["small.py"], total_chars=3) == ""


def test_the_tests_of_the_steps_modules_are_found_beside_them_or_in_a_tests_folder(tmp_path: Path) -> None:
    for name in ("stats.py", "test_stats.py", "pkg/cart.py", "pkg/tests/test_cart.py", "tests/test_cart.py",
                 "tests/test_other.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    assert related_tests(tmp_path, ["stats.py", "pkg/cart.py", "README.md"]) == [
        "test_stats.py", "pkg/tests/test_cart.py", "tests/test_cart.py"]
    assert related_tests(tmp_path, ["stats.py", "test_stats.py"]) == []  # named by the step already
    assert related_tests(tmp_path, ["missing.py"]) == []


def test_a_step_that_is_the_whole_task_states_it_once_with_the_modules_tests(tmp_path: Path) -> None:
    (tmp_path / "stats.py").write_text("def median(v):\n    return v[0]\n")
    (tmp_path / "test_stats.py").write_text("from stats import median\n")
    tools = ToolBox(root=tmp_path, step_id="s1", commands=None)  # type: ignore[arg-type]  # never runs a command
    task = "Fix median in stats.py"
    whole = initial_messages(Step(id="s1", role="coder", goal=task, files=("stats.py",)), task=task, tools=tools,
                             instructions=None, native=False)[-1].content
    assert whole.startswith("Your task: Fix median in stats.py\n") and whole.count(task) == 1
    assert "test_stats.py:\n```\nfrom stats import median\n```" in whole
    part = initial_messages(Step(id="s2", role="coder", goal="Add docs", files=("README.md",)), task=task,
                            tools=tools, instructions=None, native=False)[-1].content
    assert part.startswith("The overall task: Fix median in stats.py\n\nYour goal (step s2): Add docs\n")
