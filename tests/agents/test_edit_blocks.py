"""Search/replace edits: exact, unique, whitespace-tolerant only when unique, CRLF kept, helpful errors."""

from __future__ import annotations

import pytest

from agents.edits import EditError, apply_edit

SOURCE = (
    "class Account:\n    def deposit(self, amount):\n        self.balance += amount\n\n"
    "    def withdraw(self, amount):\n        self.balance -= amount\n"
)


def test_exact_unique_match_is_replaced() -> None:
    result = apply_edit(SOURCE, "        self.balance -= amount", "        self.balance -= abs(amount)")
    assert "self.balance -= abs(amount)" in result.text and result.first_line == 6 and not result.tolerant
    assert result.text.count("\n") == SOURCE.count("\n")


def test_ambiguous_match_is_refused_naming_the_lines() -> None:
    text = "x = 1\ny = 2\nx = 1\n"
    with pytest.raises(EditError, match=r"matches 2 times \(at lines 1, 3\)"):
        apply_edit(text, "x = 1", "x = 3")


def test_wrong_indentation_matches_tolerantly_and_is_reindented() -> None:
    search = "def deposit(self, amount):\n    self.balance += amount"
    replace = (
        "def deposit(self, amount):\n    if amount <= 0:\n        raise ValueError('no')\n    self.balance += amount"
    )
    result = apply_edit(SOURCE, search, replace)
    assert result.tolerant
    expected = "    def deposit(self, amount):\n        if amount <= 0:\n            raise ValueError('no')\n"
    assert expected in result.text
    assert "    def withdraw" in result.text


def test_tolerant_match_must_be_unique() -> None:
    text = "if a:\n\tx = 1\nif b:\n\t\tx = 1\n"
    with pytest.raises(EditError, match="not found"):
        apply_edit(text, "  x = 1", "  x = 2")


def test_not_found_shows_the_most_similar_lines() -> None:
    with pytest.raises(EditError) as info:
        apply_edit(SOURCE, "    def withdraw(self, amt):\n        self.balance -= amt", "pass")
    message = str(info.value)
    assert "most similar lines in the file are 5-6" in message
    assert "    def withdraw(self, amount):" in message


def test_not_found_without_similar_lines_says_to_read_again() -> None:
    with pytest.raises(EditError, match="read the file again"):
        apply_edit(SOURCE, "completely unrelated text zzz", "y")


def test_empty_search_is_refused() -> None:
    with pytest.raises(EditError, match="empty"):
        apply_edit(SOURCE, "  \n", "x")


def test_crlf_file_stays_crlf() -> None:
    text = "a = 1\r\nb = 2\r\nc = 3\r\n"
    result = apply_edit(text, "b = 2\n", "b = 20\nb2 = 21\n")
    assert result.text == "a = 1\r\nb = 20\r\nb2 = 21\r\nc = 3\r\n"


def test_crlf_tolerant_path_stays_crlf() -> None:
    text = "def f():\r\n    return 1\r\n"
    result = apply_edit(text, "def f():\n  return 1", "def f():\n  return 2")
    assert result.tolerant and result.text == "def f():\r\n    return 2\r\n"


def test_repeating_an_applied_edit_says_it_is_already_applied() -> None:
    first = apply_edit(SOURCE, "        self.balance -= amount", "        self.balance -= abs(amount)")
    with pytest.raises(EditError, match=r"already applied: .* \(at line 6\)"):
        apply_edit(first.text, "        self.balance -= amount", "        self.balance -= abs(amount)")


def test_replacement_already_in_the_files_indentation_is_kept() -> None:
    search = "def deposit(self, amount):\n    self.balance += amount"
    replace = (
        "    def deposit(self, amount):\n        if amount <= 0:\n"
        "            raise ValueError\n        self.balance += amount"
    )
    result = apply_edit(SOURCE, search, replace)
    assert result.tolerant and result.text.startswith("class Account:\n" + replace + "\n\n    def withdraw")


def test_an_edit_that_changes_nothing_says_so() -> None:
    with pytest.raises(EditError, match="changes nothing"):
        apply_edit(SOURCE, "        self.balance -= amount", "        self.balance -= amount")
    with pytest.raises(EditError, match="changes nothing"):
        apply_edit(SOURCE, "\tself.balance -= amount", "        self.balance -= amount")  # tolerant, same result
