"""Fleet-run scaling, side by side in one run (issue 16): ``orchestrate batch`` on the local and the Ray backend at 1
and 2 workers, against the same tasks run one after another with plain ``git clone`` + ``orchestrate exec``.

Every task is a full scripted-model session (function models of tests/engine/batch/fakes.py: planner, coder draft,
reviewer) writing one file in a fresh clone of one of 5 small repositories; no setup, no check, so what is measured
is the batch's own cost: cloning, the start/end snapshots and the patch, the task's home, the result line, and the
scheduling. Prints throughput (tasks per minute), time per task, and the overhead per task over plain exec
(target ≤ 10% at 1 worker). For Ray, "run" excludes starting the local cluster; "wall" includes it.

The runs are interleaved in rounds (each configuration runs every round, in a rotated order), because on a shared
machine the load drifts; each figure is the sum over the rounds.

Run: python benchmarks/batch_scale.py [--tasks 50] [--rounds 5] [--skip-ray]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("planner", "coder", "reviewer", "validator")
MODEL_ARGS = [*(a for role in ROLES for a in ("--role-model", f"{role}=function:tests.engine.batch.fakes:{role}")),
              "-c", "validate.discover=false"]


def make_repos(root: Path, count: int) -> list[Path]:
    repos = []
    for i in range(count):
        repo = root / f"repo{i}"
        repo.mkdir(parents=True)
        (repo / "main.py").write_text(f"print({i})\n")
        for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                     ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init"]):
            subprocess.run(["git", *args], cwd=repo, check=True)
        repos.append(repo)
    return repos


def tasks_file(root: Path, repos: list[Path], n: int) -> Path:
    path = root / "tasks.jsonl"
    path.write_text("".join(json.dumps({"id": f"t{i:03d}", "repo": str(repos[i % len(repos)]),
                                        "task": f"<<file out{i}.py>>VALUE = {i}\\n<<end>>"}) + "\n"
                            for i in range(n)))
    return path


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home),
            "ORCHESTRATE_FORBID_MODEL_REQUESTS": "1", "RAY_USAGE_STATS_ENABLED": "0"}


def plain_exec(root: Path, tasks: Path) -> float:
    """The same tasks one after another: a fresh clone, then ``orchestrate exec --json -a never``; wall seconds."""
    lines = [json.loads(line) for line in tasks.read_text().splitlines()]
    start = time.perf_counter()
    for task in lines:
        clone = root / "plain" / task["id"]
        subprocess.run(["git", "clone", "-q", task["repo"], str(clone)], check=True)
        proc = subprocess.run([sys.executable, "-m", "orchestrator", "exec", "--json", "-a", "never", *MODEL_ARGS, "-"],
                              input=task["task"], cwd=clone, env=env(root / "plain-home" / task["id"]),
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
    return time.perf_counter() - start


def batch(root: Path, tasks: Path, backend: str, workers: int) -> tuple[float, float]:
    """``orchestrate batch`` as a user runs it: (wall seconds, seconds of the run itself from its summary)."""
    out = root / f"out-{backend}-{workers}"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "orchestrator", "batch", str(tasks), "--json", "--backend", backend,
                           "--max-concurrency", str(workers), "--out", str(out), *MODEL_ARGS],
                          cwd=root, env=env(root / "home"), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    summary = json.loads(proc.stdout.splitlines()[-1])["summary"]
    assert proc.returncode == 0 and summary["succeeded"] == summary["total"], proc.stderr[-2000:]
    return wall, summary["duration_s"]


CONFIGS = [("plain", 1), ("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]


def label(backend: str, workers: int) -> str:
    if backend == "plain":
        return "plain clone + exec, one after another"
    return f"batch --backend {backend} --max-concurrency {workers}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (the load of a shared box drifts)")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    n, rounds = args.tasks, args.rounds
    configs = [c for c in CONFIGS if not (args.skip_ray and c[0] == "ray")]
    print(f"{n} tasks in {rounds} interleaved rounds; load average before: {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs")
    wall = dict.fromkeys(configs, 0.0)
    run = dict.fromkeys(configs, 0.0)
    with tempfile.TemporaryDirectory(prefix="batch-scale-") as tmp:
        root = Path(tmp)
        repos = make_repos(root / "repos", 5)
        warm = root / "warm"
        warm.mkdir()
        plain_exec(warm, tasks_file(warm, repos, 1))  # page cache, bytecode: the first run must not pay for them
        for r in range(rounds):
            chunk = root / f"round{r}"
            chunk.mkdir()
            tasks = tasks_file(chunk, repos, n // rounds)
            for i in range(len(configs)):  # rotated: no configuration always runs first or last in a round
                backend, workers = configs[(i + r) % len(configs)]
                if backend == "plain":
                    took = plain_exec(chunk, tasks)
                    w, t = took, took
                else:
                    w, t = batch(chunk, tasks, backend, workers)
                wall[(backend, workers)] += w
                run[(backend, workers)] += t
    report(n // rounds * rounds, configs, wall, run)


def report(n: int, configs: list[tuple[str, int]], wall: dict[tuple[str, int], float],
           run: dict[tuple[str, int], float]) -> None:
    plain = run[("plain", 1)]
    print(f"{'':44} {'wall s':>8} {'run s':>8} {'tasks/min':>10} {'s/task':>8} {'vs plain':>9}")
    for config in configs:
        t = run[config]
        print(f"{label(*config):44} {wall[config]:8.1f} {t:8.1f} {n / t * 60:10.1f} {t / n:8.3f} {t / plain:8.2f}x")
    for config in configs:
        if config[0] != "plain" and config[1] == 1:
            t = run[config]
            print(f"overhead per task over plain exec, {label(*config)}: {(t - plain) / n * 1000:+.0f} ms "
                  f"({(t / plain - 1) * 100:+.1f}%; target ≤ +10%)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
