"""Solve rate: one direct model call vs. `orchestrate exec`, same model, same tasks, same run.

Each task in ``benchmarks/solve_tasks/<name>/`` is a tiny Python module, a visible test file, the task text
(``task.md``) and a hidden ``check.py`` that neither approach ever sees. For every task:

(a) **direct**: one model call through the gateway, given the task, the module and the visible tests, asked for the
    complete new module in one code block; the block replaces the module;
(b) **exec**: ``python -m orchestrator exec --json`` as a subprocess in a fresh git repository holding the module and
    the visible tests (plan → coder → reviewer → checks → apply).

Then the hidden check runs on what each left behind. Prints pass/fail per task (as they finish: direct, then exec,
task by task; the direct call's embedded server idles while exec runs), then solve rate, total tokens and wall time
for both, and the ratios.

    python benchmarks/solve_rate.py [--tasks N] [--candidates K] [--model MODEL] [--skip-direct]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

try:  # run as a script (benchmarks/ is sys.path[0]) or imported as benchmarks.NAME (by a test)
    from bench_repo import commit_files, session_usage
except ImportError:
    from benchmarks.bench_repo import commit_files, session_usage

if TYPE_CHECKING:
    from orchestrator.models.gateway import ModelGateway

ROOT = Path(__file__).resolve().parents[1]
TASKS_DIR = Path(__file__).resolve().parent / "solve_tasks"
CHECK_TIMEOUT_S = 60
EXEC_TIMEOUT_S = 1200
_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
DIRECT_SYSTEM = (
    "You are an expert Python programmer. Reply with the complete new content of the file you are asked to change, "
    "in one ```python code block, and nothing else."
)


@dataclass(frozen=True)
class Task:
    name: str
    folder: Path
    module: str
    text: str

    def visible_files(self) -> list[Path]:
        return [self.folder / self.module, self.folder / f"test_{self.module}"]


@dataclass(frozen=True)
class Result:
    passed: bool
    tokens: int
    seconds: float
    note: str = ""


def load_tasks(limit: int | None) -> list[Task]:
    tasks = []
    for folder in sorted(p for p in TASKS_DIR.iterdir() if p.is_dir() and (p / "task.md").is_file()):
        modules = [p.name for p in folder.glob("*.py") if p.name != "check.py" and not p.name.startswith("test_")]
        if len(modules) != 1:
            raise SystemExit(f"{folder}: expected exactly one module besides check.py and test_*.py, got {modules}")
        tasks.append(Task(folder.name, folder, modules[0], (folder / "task.md").read_text().strip()))
    return tasks[:limit] if limit else tasks


def make_repo(task: Task, dest: Path) -> Path:
    """A fresh git repository holding the task's module and visible tests (one commit)."""
    return commit_files(dest, task.visible_files(), "task")


def hidden_check(task: Task, repo: Path) -> tuple[bool, str]:
    """Run the hidden check against ``repo`` (from a copy outside it, so nothing is left behind)."""
    with tempfile.TemporaryDirectory(prefix="solve-check-") as tmp:
        script = Path(tmp) / "hidden_check.py"
        shutil.copy(task.folder / "check.py", script)
        env = {**os.environ, "PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            proc = subprocess.run([sys.executable, str(script)], cwd=repo, env=env, capture_output=True, text=True,
                                  timeout=CHECK_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            return False, "hidden check timed out"
    last = (proc.stderr or proc.stdout).strip().splitlines()
    return proc.returncode == 0, (last[-1][:120] if last and proc.returncode else "")


def direct_prompt(task: Task) -> str:
    parts = [f"Task: {task.text}"]
    for path in task.visible_files():
        parts.append(f"File {path.name}:\n```python\n{path.read_text()}```")
    parts.append(f"Reply with the complete new content of {task.module} in one ```python code block.")
    return "\n\n".join(parts)


def extract_code(reply: str) -> str | None:
    blocks = _FENCE.findall(reply)
    if blocks:
        return str(max(blocks, key=len))
    return reply if reply.strip().startswith(("def ", "class ", "import ", "from ", '"""')) else None


async def run_direct(task: Task, gateway: ModelGateway, work: Path) -> Result:
    """One direct call: the model's code block replaces the module; then the hidden check."""
    from orchestrator.core.contracts import Message

    repo = make_repo(task, work / "direct" / task.name)
    before = gateway.total_usage
    started = time.perf_counter()
    response = await gateway.complete("coder", [Message(role="system", content=DIRECT_SYSTEM),
                                                Message(role="user", content=direct_prompt(task))])
    seconds = time.perf_counter() - started
    used = gateway.total_usage
    tokens = (used.prompt_tokens + used.completion_tokens) - (before.prompt_tokens + before.completion_tokens)
    code = extract_code(response.content)
    if code is None:
        return Result(False, tokens, seconds, "no code block in the reply")
    (repo / task.module).write_text(code if code.endswith("\n") else code + "\n")
    passed, note = hidden_check(task, repo)
    return Result(passed, tokens, seconds, note)


def run_exec(task: Task, model: str, candidates: int, work: Path) -> Result:
    repo = make_repo(task, work / "exec" / task.name)
    home = work / "homes" / task.name
    home.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home)}
    argv = [sys.executable, "-m", "orchestrator", "exec", "--json", "-m", model,
            "-c", f"coder.candidates={candidates}", task.text]
    started = time.perf_counter()
    try:
        proc = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, timeout=EXEC_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired:
        return Result(False, 0, time.perf_counter() - started, f"exec timed out after {EXEC_TIMEOUT_S}s")
    seconds = time.perf_counter() - started
    tokens, status = session_usage(proc.stdout)
    passed, note = hidden_check(task, repo)
    if not note and proc.returncode != 0:
        note = f"exec exit {proc.returncode} ({status or proc.stderr.strip()[-120:]})"
    return Result(passed, tokens, seconds, note)


def _line(kind: str, task: Task, result: Result) -> None:
    mark = "PASS" if result.passed else "fail"
    note = f"  ({result.note})" if result.note and not result.passed else ""
    print(f"  {kind:6} {task.name:16} {mark}  {result.tokens:7d} tok  {result.seconds:7.1f} s{note}", flush=True)


def _summary(name: str, results: dict[str, Result], total: int) -> tuple[int, int, float]:
    solved = sum(r.passed for r in results.values())
    tokens = sum(r.tokens for r in results.values())
    seconds = sum(r.seconds for r in results.values())
    print(f"{name:8} solved {solved}/{total} ({100 * solved / total:.0f}%)  tokens {tokens}  time {seconds:.0f} s")
    return solved, tokens, seconds


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


async def run_all(tasks: list[Task], args: argparse.Namespace, work: Path) -> tuple[dict[str, Result], ...]:
    """Task by task: the direct call, then exec (the direct phase's embedded server idles meanwhile)."""
    import anyio.to_thread

    from agents import prompts
    from orchestrator.models.gateway import ModelGateway
    from orchestrator.settings.schema import Settings

    gateway = ModelGateway(Settings.model_validate({"model": args.model}), reask=prompts.load("structured_reask"))
    direct: dict[str, Result] = {}
    orchestrated: dict[str, Result] = {}
    try:
        for task in tasks:
            if not args.skip_direct:
                direct[task.name] = await run_direct(task, gateway, work)
                _line("direct", task, direct[task.name])
            orchestrated[task.name] = await anyio.to_thread.run_sync(
                run_exec, task, args.model, args.candidates, work)
            _line("exec", task, orchestrated[task.name])
    finally:
        await gateway.aclose()
    return direct, orchestrated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tasks", type=int, default=None, help="run only the first N tasks")
    parser.add_argument("--candidates", type=int, default=1, help="coder.candidates for the exec runs")
    parser.add_argument("--model", default="local", help="model string for both approaches (default: local)")
    parser.add_argument("--skip-direct", action="store_true", help="only the exec runs (e.g. to compare strategies)")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if str(ROOT) not in sys.path:  # run as `python benchmarks/solve_rate.py` from a checkout
        sys.path.insert(0, str(ROOT))
    tasks = load_tasks(args.tasks)
    print(f"solve rate: {len(tasks)} tasks, model {args.model}, exec with coder.candidates={args.candidates}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="solve-rate-") as tmp:
        direct, orchestrated = asyncio.run(run_all(tasks, args, Path(tmp)))
    print()
    print(f"{'task':16} direct exec")
    for task in tasks:
        d = direct.get(task.name)
        print(f"{task.name:16} {('PASS' if d.passed else 'fail') if d else '-':6} "
              f"{'PASS' if orchestrated[task.name].passed else 'fail'}")
    exec_solved, exec_tokens, exec_seconds = _summary("exec", orchestrated, len(tasks))
    if direct:
        solved, tokens, seconds = _summary("direct", direct, len(tasks))
        print(f"exec / direct: solved {exec_solved} vs {solved}; tokens {_ratio(exec_tokens, tokens)}; "
              f"time {_ratio(exec_seconds, seconds)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
