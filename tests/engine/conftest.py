"""Fixtures for the engine tests: real temporary git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def bank_repo(tmp_path: Path) -> Path:
    """A git repository with one committed module, ``bank.py``."""
    repo = tmp_path / "bank"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "bank.py").write_text("def deposit(x):\n    return x\n\n\n\n\n\n\ndef withdraw(x):\n    return -x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    return repo


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
