"""What the solve-rate benchmarks share: the fresh git repository a task starts from, and reading an
`exec --json` event stream's usage."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path


def commit_files(dest: Path, files: Iterable[Path], message: str) -> Path:
    """``dest`` (emptied first) as a new git repository on ``main`` holding copies of ``files``, in one commit.

    Caches Python leaves behind are ignored, so they never show up as the agent's change."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for path in files:
        shutil.copy(path, dest / path.name)
    (dest / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", message]):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    return dest


def session_usage(stdout: str) -> tuple[int, str]:
    """Total tokens and status from an ``exec --json`` event stream: the session's total when it completed, else the
    usage events seen before it was killed (status "")."""
    tokens, status = 0, ""
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("type") == "usage":
            tokens += int(event.get("prompt_tokens", 0)) + int(event.get("completion_tokens", 0))
        elif event.get("type") == "session.completed":
            usage = event.get("usage") or {}
            tokens = int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
            status = str(event.get("status", ""))
    return tokens, status
