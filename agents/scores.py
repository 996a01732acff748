"""How far a candidate got: the tests passed and failed, read from a check's output (pytest, unittest, jest/vitest).

A candidate change judged by the checks is ranked by what its test runs report, not only by pass or fail: among
drafts that all fail, the one that passes the most tests is the one to improve (the feedback loop continues from
it). Unknown output counts as nothing passed and one failure per failing check; a check that passed counts as one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.validator import ValidationResult

__all__ = ["Score", "score"]

_PYTEST_OR_JEST = re.compile(r"(\d+) (passed|failed|errors?)\b")
_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests?\b", re.MULTILINE)
_UNITTEST_BAD = re.compile(r"(failures|errors)=(\d+)")


@dataclass(frozen=True, order=True)
class Score:
    """Bigger is better: all checks passed first, then more tests passed, then fewer failed."""

    passed_all: bool
    passed: int
    failed_neg: int  # minus the failures (so that the natural order is "better is bigger")

    @property
    def failed(self) -> int:
        return -self.failed_neg


def score(result: ValidationResult) -> Score:
    """The tests passed and failed over every check of ``result``."""
    passed = failed = 0
    for check in result.checks:
        ok, bad = _counts(check.output)
        if check.passed:
            passed += max(ok, 1)
        else:
            passed += ok
            failed += max(bad, 1)
    return Score(result.passed, passed, -failed)


def _counts(output: str) -> tuple[int, int]:
    """(passed, failed) from the last summary line a test runner printed; (0, 0) when none is recognised."""
    ran = _UNITTEST_RAN.findall(output)
    if ran:
        bad = sum(int(n) for _kind, n in _UNITTEST_BAD.findall(output.rsplit("Ran ", maxsplit=1)[-1]))
        return int(ran[-1]) - bad, bad
    for line in reversed(output.splitlines()):
        found = _PYTEST_OR_JEST.findall(line)
        if found:
            counts = {"passed": 0, "failed": 0}
            for number, kind in found:
                counts["passed" if kind == "passed" else "failed"] += int(number)
            return counts["passed"], counts["failed"]
    return 0, 0
