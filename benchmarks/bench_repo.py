"""The fresh git repository a benchmark task starts from (shared by the solve-rate benchmarks)."""

from __future__ import annotations

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
