"""The crash tests' consumer (no tests here): runs ``orchestrate exec --json`` as a CI script would, reading stdout
line by line, and kills its process group with SIGKILL the moment a chosen event arrives; then ``exec resume --last
--json``; then checks the resumed run against what the consumer saw and against an uninterrupted run.

The models are the functions of :mod:`tests.engine.test_crash_models` with the two-step chain plan (s1, then s2).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from orchestrator.core.events import Event, SessionCompleted, UsageTotals, parse_event
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store
from tests.engine.test_crash_models import NO_MERGE
from tests.support import make_repo

ROOT = Path(__file__).resolve().parents[2]
MODELS = "tests.engine.test_crash_models"
ROLES = {"planner": "chain_planner", "coder": "coder", "reviewer": "reviewer", "validator": "reviewer"}
STEPS = ("s1", "s2")
# Every event type a consumer may act on, in the order a run prints them, and how often a run prints each.
KILL_AFTER = {"session.started": 1, "plan.created": 1, "step.started": 2, "usage": 9, "review.completed": 2,
              "command.executed": 2, "validation.completed": 2, "edit.applied": 2, "step.completed": 2,
              "session.completed": 1}
REPEATS = int(os.environ.get("ORCHESTRATE_CRASH_REPEATS", "1"))  # 20 for the figure; 1 keeps the suite quick


def command(*args: str) -> list[str]:
    models = [a for role, fn in ROLES.items() for a in ("--role-model", f"{role}=function:{MODELS}:{fn}")]
    return [sys.executable, "-m", "orchestrator", "exec", "--json", "--full-auto", *models,
            "-c", 'validate.commands=["python3 check.py"]', "-c", NO_MERGE, *args]  # later options win


def environ(home: Path, calls: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home), "CRASH_TEST_CALLS": str(calls)}
    env.pop("ORCHESTRATE_CRASH_AT", None)
    return env


def new_repo(base: Path) -> Path:
    return make_repo(base / "repo", {
        "check.py": "import pathlib\nprint(sorted(p.name for p in pathlib.Path('.').glob('*.txt')))\n"})


def tree(repo: Path) -> dict[str, str]:
    return {str(p.relative_to(repo)): p.read_text() for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(repo).parts}


def said(stderr: str) -> list[str]:
    """The lines a run wrote for humans, without the start-up notice naming the project's checks."""
    return [line for line in stderr.splitlines() if not line.startswith("checks:")]


def events_of(stdout: str) -> list[Event]:
    return [parse_event(line) for line in stdout.splitlines() if line.strip()]


def stored_events(home: Path) -> list[Event]:
    store = Store(Home(home))
    try:
        (meta,) = store.list_sessions()
        with store.open(meta.id) as session:
            return session.events()
    finally:
        store.close()


@dataclass(frozen=True)
class Reference:
    tree: dict[str, str]
    usage: UsageTotals


def reference_run(base: Path) -> Reference:
    repo, home = new_repo(base), base / "home"
    proc = subprocess.run(command("rename two files"), cwd=repo, env=environ(home, base / "calls.log"),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    end = events_of(proc.stdout)[-1]
    assert isinstance(end, SessionCompleted) and end.status == "succeeded"
    return Reference(tree(repo), end.usage)


def kill_after(repo: Path, home: Path, kind: str, nth: int) -> tuple[list[Event], int]:
    """Run until the ``nth`` event of type ``kind`` is read from stdout, then SIGKILL the process group at once.

    Returns the events the consumer read and the exit status (-9 when the kill landed before the process ended).
    """
    proc = subprocess.Popen(command("rename two files"), cwd=repo, env=environ(home, repo.parent / "calls.log"),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    seen: list[Event] = []
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            seen.append(parse_event(line))
            if seen[-1].type == kind and sum(e.type == kind for e in seen) == nth:
                os.killpg(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.stdout.close()
        status = proc.wait(timeout=120)
    return seen, status


def resume(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command("resume", "--last"), cwd=repo, env=environ(home, repo.parent / "calls.log"),
                          capture_output=True, text=True, timeout=120, check=False)


def cycle(base: Path, kind: str, nth: int, reference: Reference) -> list[str]:
    """One kill (after the ``nth`` ``kind``) and resume; what went wrong, one line each (empty: all held)."""
    repo, home = new_repo(base), base / "home"
    seen, status = kill_after(repo, home, kind, nth)
    label = f"killed after {kind}#{nth} (status {status}, saw {[e.type for e in seen][-3:]})"
    if sum(e.type == kind for e in seen) < nth:
        return [f"{label}: the run ended before printing it"]
    resumed = resume(repo, home)
    problems = check(seen, resumed, stored_events(home), reference, tree(repo))
    return [f"{label}: {p}" for p in problems]


def check(seen: list[Event], resumed: subprocess.CompletedProcess[str], stored: list[Event], reference: Reference,
          final_tree: dict[str, str]) -> list[str]:
    """Everything the consumer saw is honoured by the resumed run, and the outcome equals the uninterrupted one's."""
    problems = []
    after = events_of(resumed.stdout)
    if resumed.returncode != 0:
        problems.append(f"resume exited {resumed.returncode}: {resumed.stderr.strip()[-300:]}")
    done = {e.step_id for e in seen if e.type == "step.completed"}  # type: ignore[union-attr]
    rerun = sorted(done & {e.step_id for e in after if e.type == "step.started"})  # type: ignore[union-attr]
    if rerun:
        problems.append(f"re-ran completed steps {rerun}; resumed events {[e.type for e in after][:6]}")
    applied = {e.step_id for e in seen if e.type == "edit.applied"}  # type: ignore[union-attr]
    twice = sorted(applied & {e.step_id for e in after if e.type == "edit.applied"})  # type: ignore[union-attr]
    if twice:
        problems.append(f"applied the edits of {twice} again")
    for kind in ("step.completed", "edit.applied"):
        counts = Counter(e.step_id for e in stored if e.type == kind)  # type: ignore[union-attr]
        if counts != dict.fromkeys(STEPS, 1):
            problems.append(f"the store has {kind} {dict(counts)}")
    if any(e.type == "session.completed" for e in seen):
        lines = said(resumed.stderr)
        if len(lines) != 1 or "already finished" not in lines[0]:
            problems.append(f"a finished session resumed to {lines!r}, not one 'already finished' line")
    if final_tree != reference.tree:
        problems.append(f"tree {final_tree} != {reference.tree}")
    end = after[-1] if after else None
    if not isinstance(end, SessionCompleted) or end.status != "succeeded":
        problems.append(f"the resumed run ended with {end!r}")
    elif end.usage.model_dump(exclude={"by_role"}) != reference.usage.model_dump(exclude={"by_role"}):
        problems.append(f"usage {end.usage.prompt_tokens}+{end.usage.completion_tokens} tokens != the "
                        f"uninterrupted {reference.usage.prompt_tokens}+{reference.usage.completion_tokens}")
    return problems
