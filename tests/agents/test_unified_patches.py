"""Unified diffs applied in pure Python: offsets, sloppy headers, creation, deletion, context checks."""

from __future__ import annotations

import pytest

from agents.patches import PatchError, apply_hunks, parse_patch

ORIGINAL = "".join(f"line {i}\n" for i in range(1, 21))


def test_hunk_applies_at_its_line() -> None:
    diff = "--- a/f.txt\n+++ b/f.txt\n@@ -4,3 +4,3 @@\n line 4\n-line 5\n+line five\n line 6\n"
    [patch] = parse_patch(diff)
    assert patch.path == "f.txt"
    assert apply_hunks("f.txt", ORIGINAL, patch.hunks) == ORIGINAL.replace("line 5\n", "line five\n")


def test_wrong_header_numbers_and_counts_are_tolerated() -> None:
    diff = "--- f.txt\n+++ f.txt\n@@ -1,99 +1,2 @@\n line 14\n-line 15\n+line 15a\n+line 15b\n line 16\n"
    [patch] = parse_patch(diff)
    result = apply_hunks("f.txt", ORIGINAL, patch.hunks)
    assert "line 14\nline 15a\nline 15b\nline 16\n" in result and result.endswith("line 20\n")


def test_two_hunks_shift_each_other() -> None:
    diff = (
        "--- a/f.txt\n+++ b/f.txt\n@@ -2,1 +2,2 @@\n line 2\n+inserted\n"
        "@@ -10,2 +11,1 @@\n line 10\n-line 11\n"
    )
    result = apply_hunks("f.txt", ORIGINAL, parse_patch(diff)[0].hunks)
    assert "line 2\ninserted\nline 3\n" in result and "line 11\n" not in result


def test_blank_context_line_without_its_space_is_accepted() -> None:
    text = "def f():\n    return 1\n\ndef g():\n    return 2\n"
    diff = (
        "--- a/m.py\n+++ b/m.py\n@@ -1,5 +1,5 @@\n"
        " def f():\n     return 1\n\n def g():\n-    return 2\n+    return 3\n"
    )
    assert apply_hunks("m.py", text, parse_patch(diff)[0].hunks) == text.replace("return 2", "return 3")


def test_context_mismatch_names_the_hunk_and_shows_the_file() -> None:
    diff = "--- a/f.txt\n+++ b/f.txt\n@@ -4,2 +4,2 @@\n line 4\n-line 50\n+x\n"
    with pytest.raises(PatchError, match=r"hunk 1 of f.txt does not apply") as info:
        apply_hunks("f.txt", ORIGINAL, parse_patch(diff)[0].hunks)
    assert "line 4\nline 5" in str(info.value)


def test_new_and_deleted_files_and_git_headers() -> None:
    diff = (
        "diff --git a/new.py b/new.py\nnew file mode 100644\nindex 0000000..e69de29\n--- /dev/null\n+++ b/new.py\n"
        "@@ -0,0 +1,2 @@\n+a = 1\n+b = 2\n"
        "diff --git a/old.py b/old.py\ndeleted file mode 100644\n--- a/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x = 1\n"
    )
    created, deleted = parse_patch(diff)
    assert created.old_path is None and created.path == "new.py"
    assert apply_hunks("new.py", "", created.hunks) == "a = 1\nb = 2\n"
    assert deleted.new_path is None and deleted.path == "old.py"


def test_text_without_headers_is_refused() -> None:
    with pytest.raises(PatchError, match="no file headers"):
        parse_patch("just replace line 5 please")
    with pytest.raises(PatchError, match="before any"):
        parse_patch("@@ -1 +1 @@\n-a\n+b\n")
