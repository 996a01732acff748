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


WHOLE = ('def median(values):\n    """The median."""\n    ordered = sorted(values)\n'
         "    return ordered[len(ordered) // 2]\n")
MEDIAN = WHOLE + "\n\ndef mean(values):\n    return sum(values) / len(values)\n"
NEW_MEDIAN = ("def median(values):\n    ordered = sorted(values)\n    mid = len(ordered) // 2\n"
              "    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2")


@pytest.mark.parametrize("search", ["def median(values):", "  def median(values):\n"])  # exact, then tolerant
def test_a_def_line_as_the_whole_search_is_refused_showing_the_whole_definition(search: str) -> None:
    # Seen with the embedded model: applied as written, the old body stayed below the new function.
    with pytest.raises(EditError) as refused:
        apply_edit(MEDIAN, search, NEW_MEDIAN)
    message = str(refused.value)
    assert "only the line `def median(values):`" in message and "(lines 2-4)" in message
    assert "lines 1-4):\n" + WHOLE.rstrip("\n") + "\nor rewrite" in message
    assert apply_edit(MEDIAN, WHOLE, NEW_MEDIAN + "\n").text.count("def median") == 1  # quoting all of it works


def test_a_def_line_search_that_keeps_the_header_for_other_reasons_still_applies() -> None:
    renamed = apply_edit(MEDIAN, "def median(values):", "def middle(values):")  # one line for one line
    assert renamed.text.startswith("def middle(values):\n    \"\"\"The median.")
    decorated = apply_edit(MEDIAN, "def mean(values):", "@cache\ndef mean(values):")  # the header is not first
    assert "@cache\ndef mean(values):\n    return sum" in decorated.text
    one_liner = "def f(x): return x\n"
    assert apply_edit(one_liner, "def f(x): return x", "def f(x):\n    return x + 1").text.startswith("def f(x):\n")
