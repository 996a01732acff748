"""The undo tests' helpers (no tests here): a repository with committed and uncommitted state, real ``orchestrate
exec`` runs driven by :mod:`tests.engine.undo_models`, and a fingerprint of the tree (``git status --porcelain``, every
file's sha256 and mode, every directory) to compare with the starting one."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from orchestrator.core.events import Event, parse_event
from tests.support import make_repo

ROOT = Path(__file__).resolve().parents[2]
MODELS = "tests.engine.undo_models"
ROLES = {"planner": "planner", "coder": "coder", "reviewer": "reviewer", "validator": "reviewer"}
Fingerprint = tuple[str, dict[str, tuple[str, int]], frozenset[str]]


def new_repo(base: Path) -> Path:
    """Committed files (``run.sh`` executable), then the user's own uncommitted work: an edit and an untracked file."""
    repo = make_repo(base / "repo", {"keep.txt": "keep\n", "mod.txt": "one\n", "gone.txt": "bye\n",
                                     "old_name.txt": "rename me\n", "tool.sh": "#!/bin/sh\necho hi\n",
                                     "run.sh": "#!/bin/sh\n"})
    (repo / "run.sh").chmod(0o755)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "executable")
    with (repo / "mod.txt").open("a") as f:
        f.write("user edit\n")
    (repo / "notes.txt").write_text("my notes\n")
    return repo


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def fingerprint(repo: Path) -> Fingerprint:
    files: dict[str, tuple[str, int]] = {}
    dirs: set[str] = set()
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if rel.parts[0] == ".git":
            continue
        if path.is_dir() and not path.is_symlink():
            dirs.add(rel.as_posix())
        else:
            files[rel.as_posix()] = (hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(path.lstat().st_mode))
    return git(repo, "status", "--porcelain"), files, frozenset(dirs)


def environ(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home), **extra}
    if "ORCHESTRATE_CRASH_AT" not in extra:
        env.pop("ORCHESTRATE_CRASH_AT", None)
    return env


def orchestrate(repo: Path, home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=repo, env=environ(home, **extra),
                          capture_output=True, text=True, timeout=180, check=False)


def run_exec(repo: Path, home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    models = [a for role, fn in ROLES.items() for a in ("--role-model", f"{role}=function:{MODELS}:{fn}")]
    return orchestrate(repo, home, "exec", "--json", "--full-auto", *models, "-c", 'validate.commands=["true"]',
                       "-c", "planner.merge_chars=0", *(args or ("reorganise the files",)), **extra)


def events(stdout: str) -> list[Event]:
    return [parse_event(line) for line in stdout.splitlines() if line.strip()]


def undo_events(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if json.loads(line)["type"] == "undo"]
