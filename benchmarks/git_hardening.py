"""Cost of host-side git hardening per staging operation, side by side in one run (issue 12 item 3).

On a staging worktree of a 400-file repository with one file edited, times `git add -A` + `git diff --cached` run
the way orchestrate ran them before (discovered repository, inherited environment, `-c core.hooksPath=/dev/null`)
next to the same two commands through :class:`orchestrator.workspace.gitrun.Git` (registered git dir, rebuilt
environment, command-scope overrides, a config listing per call to blank filter drivers), and the whole
``Staging.diff()`` (which also lists the changed paths to withhold protected ones). Prints medians and ratios.

Run: python benchmarks/git_hardening.py [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.workspace.gitrun import Git
from orchestrator.workspace.staging import Staging, Workspace

FILES = 400


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    for i in range(FILES):
        path = repo / f"pkg{i % 20}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"def f{j}(x):\n    return x + {j}\n\n" for j in range(30)))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=b", "-c", "user.email=b@e",
                                                                "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def plain(staging: Staging) -> None:
    """Before: discovered repository, the caller's environment, hooks off."""
    base = ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.quotepath=false"]
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    subprocess.run([*base, "add", "-A", "--", "."], cwd=staging.tree, env=env, capture_output=True, check=True)
    subprocess.run([*base, "diff", "--cached", "--binary", "--no-color", "--no-ext-diff", staging.base],
                   cwd=staging.tree, env=env, capture_output=True, check=True)


def hardened(git: Git, staging: Staging) -> None:
    git.run(["add", "-A", "--", "."])
    git.run(["diff", "--cached", "--binary", "--no-color", staging.base])


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()  # warm the caches
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory(prefix="orchestrate-bench-git-") as tmp:
        repo = make_repo(Path(tmp))
        staging = Workspace(repo).create_staging(Path(tmp) / "stagings", "bench")
        (staging.tree / "pkg3" / "mod3.py").write_text("changed\n")
        git = staging._git  # the registered git dir the staging uses
        before = median_ms(lambda: plain(staging), rounds)
        after = median_ms(lambda: hardened(git, staging), rounds)
        whole = median_ms(staging.diff, rounds)
        staging.remove()
    print(f"{FILES}-file repository, one file edited, median of {rounds} rounds")
    print(f"  add -A + diff, as before (discovered, inherited env): {before:6.1f} ms")
    print(f"  add -A + diff, hardened (workspace.gitrun):           {after:6.1f} ms   ratio {after / before:.2f}")
    print(f"  Staging.diff() (add, list changes, diff; hardened):   {whole:6.1f} ms   ratio {whole / before:.2f}")


if __name__ == "__main__":
    main()
