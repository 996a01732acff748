"""Solve rate on Exercism exercises nobody here wrote: one direct call, a naive retry loop and ``orchestrate exec``.

The exercises live in ``$EXERCISM_DIR`` (default ``../shared/bench/exercism`` beside the checkout): a manifest and one
folder per exercise with ``INSTRUCTIONS.md``, the stub and the track's test file. Every arm gets each exercise in a
fresh git repository (stub + test file), and the same per-exercise wall-time cap (killed = unsolved, time counted):

(a) **direct**: one gateway call, given the instructions and the stub, asked for the whole file; the block replaces it;
(b) **naive**: the direct call's answer (the same greedy call, reused), then up to 2 more calls in the same
    conversation fed with the failing test output;
(c) **exec**: ``python -m orchestrator exec --full-auto --json`` with the instructions as the task and the test file
    as the check (``validate.commands``), a subprocess in its own process group, killed at the cap.

A solve counts only when the test file is byte-identical afterwards (SHA-256) and pytest passes on it. Results are
appended to ``--out`` (JSON lines, one per arm and exercise) as they finish; running the same command again skips
what is already there (``--fresh`` starts over). Prints per exercise, then totals and the ratios to the direct call.

    python benchmarks/exercism.py [--arms direct,naive,exec] [--subset 12 | --all | --only SLUG,...]
                                  [--cap 300] [--out exercism-results.jsonl] [-c key=value ...]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:  # run as a script (benchmarks/ is sys.path[0]) or imported as benchmarks.NAME (by a test)
    from bench_repo import commit_files, session_usage
except ImportError:
    from benchmarks.bench_repo import commit_files, session_usage

if TYPE_CHECKING:
    from orchestrator.models.gateway import ModelGateway

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EXERCISM_DIR", ROOT.parent / "shared" / "bench" / "exercism"))
TEST_TIMEOUT_S = 60
NAIVE_RETRIES = 2
ARMS = ("direct", "naive", "exec")
_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
SYSTEM = ("You are an expert Python programmer. Reply with the complete content of the file you are asked to write, "
          "in one ```python code block, and nothing else.")


@dataclass(frozen=True)
class Exercise:
    slug: str
    difficulty: int
    solution: str
    test: str

    @property
    def folder(self) -> Path:
        return DATA / self.slug

    def instructions(self) -> str:
        return (self.folder / "INSTRUCTIONS.md").read_text().strip()


@dataclass
class Result:
    arm: str
    slug: str
    solved: bool
    seconds: float
    tokens: int
    note: str = ""


def load(args: argparse.Namespace) -> list[Exercise]:
    """The exercises to run: ``--only`` slugs, ``--all``, or the development subset (a rule, printed by ``main``):
    the difficulty 1-3 exercises sorted by slug, every k-th so that ``--subset`` of them are taken, from the
    ``--offset``-th on (another offset gives exercises the development subset does not hold: a validation set)."""
    manifest = json.loads((DATA / "manifest.json").read_text())
    every = sorted((Exercise(e["slug"], e["difficulty"], e["solution"][0], e["test"][0]) for e in manifest),
                   key=lambda e: e.slug)
    if args.only:
        wanted = args.only.split(",")
        return [e for e in every if e.slug in wanted]
    if args.all:
        return every
    pool = [e for e in every if e.difficulty <= 3]
    step = max(1, len(pool) // args.subset)
    return pool[args.offset % step::step][: args.subset]


def make_repo(ex: Exercise, dest: Path) -> Path:
    """A fresh git repository holding the stub and the test file (one commit)."""
    return commit_files(dest, [ex.folder / ex.solution, ex.folder / ex.test], "exercise")


def judge(ex: Exercise, repo: Path) -> tuple[bool, str]:
    """Solved: the test file unchanged (hash) and pytest passing on it. Also the output tail (for the naive loop)."""
    digest = hashlib.sha256((ex.folder / ex.test).read_bytes()).hexdigest()
    test = repo / ex.test
    if not test.is_file() or hashlib.sha256(test.read_bytes()).hexdigest() != digest:
        return False, "the test file was modified"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", ex.test],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=TEST_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return False, "the tests timed out"
    return proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]


def direct_prompt(ex: Exercise, repo: Path) -> str:
    stub = (repo / ex.solution).read_text()
    return (f"{ex.instructions()}\n\nFile {ex.solution}:\n```python\n{stub}```\n\n"
            f"Reply with the complete content of {ex.solution} in one ```python code block.")


def extract_code(reply: str) -> str | None:
    blocks = _FENCE.findall(reply)
    if blocks:
        return str(max(blocks, key=len))
    return reply if reply.strip().startswith(("def ", "class ", "import ", "from ", '"""')) else None


async def call(gateway: ModelGateway, messages: list[Any]) -> tuple[str, int]:
    before = gateway.total_usage
    reply = (await gateway.complete("coder", messages)).content
    after = gateway.total_usage
    return reply, (after.prompt_tokens + after.completion_tokens) - (before.prompt_tokens + before.completion_tokens)


async def run_model_arms(ex: Exercise, gateway: ModelGateway, work: Path, arms: set[str], cap: float) -> list[Result]:
    """The direct call, then (the same answer and) the naive loop's retries; each bounded by ``cap`` seconds."""
    from orchestrator.core.contracts import Message

    repo = make_repo(ex, work / "model" / ex.slug)
    messages = [Message(role="system", content=SYSTEM), Message(role="user", content=direct_prompt(ex, repo))]
    started, tokens = time.perf_counter(), 0
    solved, output = False, "no code block in the reply"
    results: list[Result] = []
    for attempt in range(1 + (NAIVE_RETRIES if "naive" in arms else 0)):
        left = cap - (time.perf_counter() - started)
        try:
            reply, used = await asyncio.wait_for(call(gateway, messages), timeout=max(left, 1.0))
        except TimeoutError:
            output = f"capped at {cap:.0f} s"
            break
        tokens += used
        code = extract_code(reply)
        if code is not None:
            (repo / ex.solution).write_text(code if code.endswith("\n") else code + "\n")
            solved, output = judge(ex, repo)
        if attempt == 0 and "direct" in arms:
            results.append(Result("direct", ex.slug, solved, time.perf_counter() - started, tokens,
                                  "" if solved else _last(output)))
        if solved:
            break
        messages += [Message(role="assistant", content=reply), Message(role="user", content=(
            f"The tests fail:\n```\n{output[-2500:]}\n```\nReply with the complete corrected content of "
            f"{ex.solution} in one ```python code block." if code else "Reply with one ```python code block."))]
    if "naive" in arms:
        results.append(Result("naive", ex.slug, solved, time.perf_counter() - started, tokens,
                              "" if solved else _last(output)))
    return results


def exec_task(ex: Exercise) -> str:
    return (f"{ex.instructions()}\n\nImplement this in {ex.solution}. The tests in {ex.test} define success: "
            f"make them pass without changing {ex.test}.")


def run_exec(ex: Exercise, work: Path, cap: float, model: str, overrides: list[str]) -> Result:
    """``orchestrate exec`` in a fresh repository, killed (its whole process group) at ``cap`` seconds."""
    repo = make_repo(ex, work / "exec" / ex.slug)
    home = work / "homes" / ex.slug
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home)}
    check = json.dumps([f"{sys.executable} -m pytest -q -p no:cacheprovider {ex.test}"])
    argv = [sys.executable, "-m", "orchestrator", "exec", "--full-auto", "--json", "-m", model,
            "-c", f"validate.commands={check}", *[a for o in overrides for a in ("-c", o)], exec_task(ex)]
    events = work / "events" / f"{ex.slug}.jsonl"
    events.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with events.open("w") as out:
        proc = subprocess.Popen(argv, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            proc.wait(timeout=cap)
            note = ""
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            note = f"capped at {cap:.0f} s"
    seconds = time.perf_counter() - started
    tokens, _ = session_usage(events.read_text(errors="replace"))
    solved, output = judge(ex, repo)
    return Result("exec", ex.slug, solved, seconds, tokens, note or ("" if solved else _last(output)))


def _last(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:110] if lines else ""


def _done(out: Path) -> dict[tuple[str, str], Result]:
    if not out.is_file():
        return {}
    found = {}
    for line in out.read_text().splitlines():
        if line.strip():
            r = Result(**json.loads(line))
            found[(r.arm, r.slug)] = r
    return found


def _record(out: Path, result: Result) -> None:
    with out.open("a") as f:
        f.write(json.dumps(asdict(result)) + "\n")
    mark = "PASS" if result.solved else "fail"
    note = f"  ({result.note})" if result.note and not result.solved else ""
    print(f"  {result.arm:6} {result.slug:22} {mark} {result.tokens:7d} tok {result.seconds:6.1f} s{note}", flush=True)


async def run_all(exercises: list[Exercise], args: argparse.Namespace, work: Path) -> dict[tuple[str, str], Result]:
    from agents import prompts
    from orchestrator.models.gateway import ModelGateway
    from orchestrator.settings.schema import Settings

    arms = set(args.arms.split(","))
    results = {} if args.fresh else _done(args.out)
    if args.fresh and args.out.exists():
        args.out.unlink()
    model_arms = arms & {"direct", "naive"}
    gateway = ModelGateway(Settings.model_validate({"model": args.model}), reask=prompts.load("structured_reask")) \
        if model_arms else None
    try:
        for ex in exercises:
            todo = {arm for arm in model_arms if (arm, ex.slug) not in results}
            if gateway is not None and todo:
                for r in await run_model_arms(ex, gateway, work, todo, args.cap):
                    results[(r.arm, r.slug)] = r
                    _record(args.out, r)
            if "exec" in arms and ("exec", ex.slug) not in results:
                r = await asyncio.to_thread(run_exec, ex, work, args.cap, args.model, args.config)
                results[("exec", ex.slug)] = r
                _record(args.out, r)
    finally:
        if gateway is not None:
            await gateway.aclose()
    return results


def report(exercises: list[Exercise], results: dict[tuple[str, str], Result], arms: list[str]) -> dict[str, Any]:
    print(f"\n{'exercise':22} d " + " ".join(f"{a:6}" for a in arms))
    for ex in exercises:
        marks = [("PASS" if r.solved else "fail") if (r := results.get((a, ex.slug))) else "-" for a in arms]
        print(f"{ex.slug:22} {ex.difficulty} " + " ".join(f"{m:6}" for m in marks))
    totals: dict[str, Any] = {}
    for arm in arms:
        rs = [r for ex in exercises if (r := results.get((arm, ex.slug)))]
        totals[arm] = {"solved": sum(r.solved for r in rs), "ran": len(rs),
                       "seconds": round(sum(r.seconds for r in rs), 1), "tokens": sum(r.tokens for r in rs),
                       "max_seconds": round(max((r.seconds for r in rs), default=0), 1)}
        t = totals[arm]
        print(f"{arm:6} solved {t['solved']}/{t['ran']}  wall {t['seconds']:.0f} s (max {t['max_seconds']:.0f} s)  "
              f"tokens {t['tokens']}")
    base = totals.get("direct")
    for arm in arms:
        if base and arm != "direct" and base["seconds"] and base["tokens"]:
            t = totals[arm]
            print(f"{arm} / direct: solved {t['solved']} vs {base['solved']}; "
                  f"wall {t['seconds'] / base['seconds']:.2f}x; tokens {t['tokens'] / base['tokens']:.2f}x")
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated arms (default: all three)")
    parser.add_argument("--subset", type=int, default=12, help="size of the development subset (default 12)")
    parser.add_argument("--offset", type=int, default=0,
                        help="start the subset's every-k-th rule at this index (default 0: the development subset)")
    parser.add_argument("--all", action="store_true", help="every exercise of the manifest")
    parser.add_argument("--only", default="", help="comma-separated slugs")
    parser.add_argument("--cap", type=float, default=300.0, help="wall-time cap per exercise and arm, seconds")
    parser.add_argument("--model", default="local", help="model string for every arm (default: local)")
    parser.add_argument("--out", type=Path, default=Path("exercism-results.jsonl"), help="results, JSON lines")
    parser.add_argument("--fresh", action="store_true", help="discard --out's earlier results")
    parser.add_argument("-c", dest="config", action="append", default=[], help="config override for the exec arm")
    parser.add_argument("--keep", type=Path, help="keep the repositories and exec event logs in this folder")
    args = parser.parse_args()
    arms = [a for a in ARMS if a in args.arms.split(",")]
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    exercises = load(args)
    print(f"exercism: {len(exercises)} exercises ({', '.join(e.slug for e in exercises)}), arms {','.join(arms)}, "
          f"cap {args.cap:.0f} s, model {args.model}, results {args.out}", flush=True)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(run_all(exercises, args, args.keep.resolve()))
    else:
        with tempfile.TemporaryDirectory(prefix="exercism-") as tmp:
            results = asyncio.run(run_all(exercises, args, Path(tmp)))
    totals = report(exercises, results, arms)
    summary = {"exercises": [e.slug for e in exercises], "cap_s": args.cap, "config": args.config, "totals": totals}
    args.out.with_suffix(".summary.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
