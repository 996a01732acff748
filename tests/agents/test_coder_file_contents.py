"""The coder's first message shows the step's (short, existing, inside-the-root) files, so a small model need not
spend turns reading them."""

from __future__ import annotations

from pathlib import Path

from agents.coder import file_contents


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
