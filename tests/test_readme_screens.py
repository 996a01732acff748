"""The README's terminal captures are the files `scripts/screens.py` writes: regenerating them without updating the
README (or editing the README by hand) fails here, so the pictures a reader sees stay those of a real run."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["approval.txt", "parallel-live.txt"])
def test_the_readme_shows_the_generated_capture(name: str) -> None:
    capture = (ROOT / "docs" / "screens" / name).read_text(encoding="utf-8").rstrip("\n")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```\n{capture}\n```" in readme, f"README.md does not hold docs/screens/{name}: paste it again"
