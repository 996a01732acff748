"""The diff shown at the diff question, at 80 columns (issue 14: wrapped continuation lines lost their ``+``/``-``).
Rendered by a recording rich Console, as the terminal would show it."""

from __future__ import annotations

from rich.console import Console

from orchestrator.terminal.diffview import CONTINUATION, DiffView

LONG_ADD = "+    total = sum(account.balance * rate for account in accounts if account.active) / len(accounts)  # mean"
LONG_DEL = "-    total = sum(a.balance for a in accounts)" + " " * 30 + "# the old way, which ignored the interest rate"
LONG_CTX = " " + "x" * 170
DIFF = "\n".join([
    "diff --git a/bank.py b/bank.py", "--- a/bank.py", "+++ b/bank.py", "@@ -1,3 +1,3 @@ def mean_balance(accounts):",
    LONG_DEL, LONG_ADD, LONG_CTX, "\tshort\ttabbed", "\\ No newline at end of file",
])


def _screen(diff: str, width: int = 80) -> list[str]:
    console = Console(record=True, width=width, color_system=None)
    console.print(DiffView(diff))
    return console.export_text().splitlines()


def _logical(lines: list[str]) -> list[list[str]]:
    """Rendered lines grouped by the diff line they show (a continuation has CONTINUATION second)."""
    groups: list[list[str]] = []
    for line in lines:
        if line[1:2] == CONTINUATION and groups:
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def test_wrapped_lines_keep_their_marker_at_80_columns() -> None:
    lines = _screen(DIFF)
    assert all(len(line) <= 80 for line in lines)
    groups = {group[0][:8]: group for group in _logical(lines)}
    added, removed, context = groups[LONG_ADD[:8]], groups[LONG_DEL[:8]], groups[LONG_CTX[:8]]
    assert len(added) == 2 and len(removed) == 2 and len(context) == 3
    assert all(line.startswith("+") for line in added) and all(line.startswith("-") for line in removed)
    assert all(line.startswith(" ") for line in context)
    # Nothing is lost: the pieces join back into the diff line.
    for group, original in ((added, LONG_ADD), (removed, LONG_DEL), (context, LONG_CTX)):
        assert group[0] + "".join(line[2:] for line in group[1:]) == original


def test_short_lines_are_shown_as_they_are_and_tabs_expanded() -> None:
    lines = _screen(DIFF, width=200)
    assert lines == [line.expandtabs(4) for line in DIFF.splitlines()]


def test_colours_follow_the_marker() -> None:
    console = Console(record=True, width=80, color_system="standard", force_terminal=True)
    console.print(DiffView("+added\n-removed\n@@ -1 +1 @@\n"))
    html = console.export_html(inline_styles=True)
    assert "color: #008000" in html and "color: #800000" in html and "color: #008080" in html


def test_control_characters_are_shown_not_obeyed() -> None:
    # An escape sequence in a changed file could erase the lines above it while the person reads the diff.
    console = Console(record=True, width=80, force_terminal=True, color_system="standard")
    console.print(DiffView("+ok\n+\x1b[1A\x1b[2Khidden\r\x07 line\n"))
    shown = console.export_text(styles=True)
    assert "\x1b[1A" not in shown and "\x1b[2K" not in shown and "\r" not in shown and "\x07" not in shown
    plain = _screen("+\x1b[1A\x1b[2Khidden\r\x07 line\n")
    assert plain == ["+\\x1b[1A\\x1b[2Khidden\\x0d\\x07 line"]


def test_a_wrapped_line_keeps_its_colour_on_every_piece() -> None:
    console = Console(record=True, width=20, color_system="standard", force_terminal=True)
    console.print(DiffView("+" + "a" * 50))
    lines = console.export_text(styles=True).splitlines()
    assert len(lines) == 3 and all("\x1b[32m" in line for line in lines)
