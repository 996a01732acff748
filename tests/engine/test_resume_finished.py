"""Resuming a session that already finished runs nothing: one line saying so, exit 0 if it succeeded and 1 if it
failed, and (with ``--json``) the ``session.completed`` it emitted, as stored."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.engine.crash_consumer import command, environ, events_of, new_repo, said, stored_events


def _resume_twice(repo: Path, home: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the task to its end, then resume it: (the resume, the first run's exit status)."""
    first = subprocess.run(command("rename two files", *extra), cwd=repo, env=environ(home, repo.parent / "c.log"),
                           capture_output=True, text=True, timeout=120, check=False)
    assert events_of(first.stdout)[-1].type == "session.completed", first.stderr
    stored = len(stored_events(home))
    resumed = subprocess.run(command("resume", "--last"), cwd=repo, env=environ(home, repo.parent / "c.log"),
                             capture_output=True, text=True, timeout=120, check=False)
    assert len(stored_events(home)) == stored  # nothing ran, nothing was added to the session
    assert resumed.stdout.splitlines() == first.stdout.splitlines()[-1:]  # what the consumers were told, again
    return resumed, first.returncode


def test_resuming_a_succeeded_session_says_so_in_one_line_and_exits_0(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    resumed, first = _resume_twice(repo, tmp_path / "home")
    assert first == 0
    assert resumed.returncode == 0
    (line,) = said(resumed.stderr)
    assert "already finished: succeeded" in line


def test_resuming_a_failed_session_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    # The steps' checks cannot pass: s1 fails, s2 is skipped; every step is final.
    resumed, first = _resume_twice(repo, tmp_path / "home", "-c", 'validate.commands=["false"]')
    assert first == 1
    assert resumed.returncode == 1
    (line,) = said(resumed.stderr)
    assert "already finished: failed" in line
