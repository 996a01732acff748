"""Crash safety as a consumer sees it (issue 18): ``orchestrate exec --json`` in a real subprocess, its stdout read
line by line, its process group killed with SIGKILL the moment each event type arrives; then ``exec resume --last``.

After each kill: no step whose ``step.completed`` was read starts again, no edit whose ``edit.applied`` was read is
applied again, a session whose ``session.completed`` was read resumes to one "already finished" line, and the final
tree and usage totals equal an uninterrupted run's (see :mod:`tests.engine.crash_consumer`).

Each event type is killed after ``$ORCHESTRATE_CRASH_REPEATS`` times (default 1: quick; 20 to measure the race), the
n-th repeat after the event's first, then second, occurrence in turn. The same again with both cores kept busy.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.crash_consumer import KILL_AFTER, REPEATS, Reference, cycle, reference_run

UNDER_LOAD = ["step.completed", "edit.applied", "validation.completed", "session.completed"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    return reference_run(tmp_path_factory.mktemp("reference"))


def _cycles(base: Path, kind: str, reference: Reference) -> list[str]:
    problems: list[str] = []
    for n in range(REPEATS):
        problems += cycle(base / f"run{n}", kind, 1 + n % min(2, KILL_AFTER[kind]), reference)
    return problems


@pytest.mark.parametrize("kind", list(KILL_AFTER))
def test_a_consumer_killing_the_run_after_an_event_never_sees_it_undone(kind: str, reference: Reference,
                                                                         tmp_path: Path) -> None:
    problems = _cycles(tmp_path, kind, reference)
    assert not problems, "\n".join(problems)


@pytest.fixture
def busy_cores() -> Iterator[None]:
    """Both cores kept busy for the test's duration (the kill then lands at less lucky moments)."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


@pytest.mark.parametrize("kind", UNDER_LOAD)
def test_the_same_under_load(kind: str, reference: Reference, tmp_path: Path, busy_cores: None) -> None:
    problems = _cycles(tmp_path, kind, reference)
    assert not problems, "\n".join(problems)
