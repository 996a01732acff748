"""Engine overhead, side by side in one run (issue 7 targets): prints ratios to the targets.

1. scheduler + store per step, zero-latency step on a 200-step DAG (target ≤ 5 ms/step)
2. parallel efficiency: width-8 DAG, fixed-latency step, max_parallel 8 (target ≥ 0.9 of the ideal speedup)
3. resume of a 500-step session (half done) to the first new step call (target ≤ 300 ms): the scheduler over the
   store, then the whole ``Orchestrator.resume`` (journal, drift check, approvals, the first step's staging)
4. listing 5,000 stored sessions through the index (target ≤ 300 ms), and `orchestrate sessions --all --json`
   as a process next to `python -c "import rich"`
5. full step executor (git worktree staging + apply) per step on a small repo, for reference

Run: python benchmarks/engine_overhead.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from orchestrator.core.contracts import StepOutcome
from orchestrator.core.errors import BudgetExceededError
from orchestrator.core.events import FanoutSink, ListSink, StoreSink
from orchestrator.core.plan import Plan, Step
from orchestrator.engine.scheduler import Scheduler
from orchestrator.settings.home import Home
from orchestrator.store.sessions import SessionMeta, Store


def dag(n: int, width: int) -> Plan:
    steps = []
    for i in range(n):
        deps = (f"s{i - width}",) if i >= width else ()
        steps.append(Step(id=f"s{i}", role="coder", goal="g", depends_on=deps))
    return Plan(steps=tuple(steps))


async def zero(step: Step) -> StepOutcome:
    return StepOutcome(status="succeeded")


def run_plan(home: Path, plan: Plan, runner, max_parallel: int) -> float:  # type: ignore[no-untyped-def]
    store = Store(Home(home))
    with store.create(cwd=home, task="bench") as session:
        sched = Scheduler(plan, runner=runner, store=session, events=FanoutSink(ListSink(), StoreSink(session)),
                          max_parallel=max_parallel)
        start = time.perf_counter()
        anyio.run(sched.run)
        elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def bench_overhead(tmp: Path) -> None:
    n = 200
    elapsed = run_plan(tmp / "h1", dag(n, 4), zero, 4)
    per_step = elapsed / n * 1000
    print(f"1. scheduler+store overhead: {per_step:.2f} ms/step (200 steps)  ratio to 5 ms target: {per_step / 5:.2f}")


def bench_parallel(tmp: Path) -> None:
    latency, width, depth = 0.2, 8, 3

    async def slow(step: Step) -> StepOutcome:
        await anyio.sleep(latency)
        return StepOutcome(status="succeeded")

    plan = dag(width * depth, width)
    elapsed = run_plan(tmp / "h2", plan, slow, width)
    ideal = latency * depth
    serial = latency * width * depth
    eff = ideal / elapsed
    print(f"2. parallel efficiency (width 8, {latency}s steps): {elapsed:.3f}s vs ideal {ideal:.3f}s "
          f"(serial {serial:.1f}s) → {eff:.3f} of ideal  ratio to 0.9 target: {eff / 0.9:.2f}")


def bench_resume(tmp: Path) -> None:
    home = tmp / "h3"
    plan = dag(500, 4)
    store = Store(Home(home))
    calls = 0

    async def half(step: Step) -> StepOutcome:
        nonlocal calls
        calls += 1
        if calls > 250:
            raise BudgetExceededError("stop half-way")
        return StepOutcome(status="succeeded")

    with store.create(cwd=home, task="bench") as session:
        session.save_plan(plan)
        session_id = session.id
        sched = Scheduler(plan, runner=half, store=session, events=StoreSink(session), max_parallel=1)
        with contextlib.suppress(BudgetExceededError):  # the interruption is the point
            anyio.run(sched.run)
    store.close()

    class First(Exception):
        pass

    async def first(step: Step) -> StepOutcome:
        raise First

    start = time.perf_counter()
    store = Store(Home(home))
    with store.open(session_id[:17]) as session:
        plan2 = session.load_plan()
        assert plan2 is not None
        sched = Scheduler(plan2, runner=first, store=session, events=StoreSink(session), max_parallel=4)
        with contextlib.suppress(First):
            anyio.run(sched.run)
    elapsed = (time.perf_counter() - start) * 1000
    store.close()
    print(f"3. resume of a 500-step session to the first new step call: {elapsed:.1f} ms  "
          f"ratio to 300 ms target: {elapsed / 300:.2f}")


def _half_done_session(repo: Path, home: Path) -> str:
    """A git repo of 250 files and a 500-step session whose first 250 steps each edited one of them, then stopped."""
    from orchestrator.store.sessions import JournalEntry
    from orchestrator.workspace.staging import Workspace

    repo.mkdir()
    for i in range(250):
        (repo / f"f{i}.txt").write_text(f"{i}\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "i"]):
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=repo, check=True)
    plan = dag(500, 4)
    done = {s.id for s in plan.steps[:250]}

    async def half(step: Step) -> StepOutcome:
        if step.id not in done:
            raise BudgetExceededError("stop half-way")
        return StepOutcome(status="succeeded")

    store = Store(Home(home))
    with store.create(cwd=repo, task="bench", git=Workspace(repo).git_info()) as session:
        session.save_plan(plan)
        for i in range(250):
            session.journal(JournalEntry(step_id=f"s{i}", state="done", diff="", files=(f"f{i}.txt",),
                                         root=str(repo)))
            session.add_session_approval(["make", f"t{i % 5}"])
        sched = Scheduler(plan, runner=half, store=session, events=StoreSink(session), max_parallel=1)
        with contextlib.suppress(BudgetExceededError):
            anyio.run(sched.run)
        session_id = session.id
    store.close()
    return session_id


def bench_resume_api(tmp: Path) -> None:
    """3b. The same, through ``Orchestrator.resume`` in a git repository: journal check, drift check (HEAD and the
    hashes of 250 files the session edited), approvals restored, the first step's worktree staging."""
    from memory import build_memory
    from orchestrator.api import Orchestrator, SessionEvents
    from orchestrator.settings.schema import Settings
    from orchestrator.testing import ScriptedModel, gateway_for

    repo, home = tmp / "repo3", tmp / "h3b"
    session_id = _half_done_session(repo, home)

    class First(Exception):
        pass

    reached: list[float] = []

    async def first(step: Step, **_: object) -> StepOutcome:
        reached.append(time.perf_counter())
        raise First

    settings = Settings()
    orch = Orchestrator(settings=settings, cwd=repo, home=Home(home), gateway=gateway_for(settings, ScriptedModel([])),
                        memory=build_memory(settings, Home(home)), planner=None,  # type: ignore[arg-type]
                        run_step=first, events=SessionEvents())  # type: ignore[arg-type]

    async def resume() -> None:
        with contextlib.suppress(First):
            await orch.resume(session_id[:17])

    start = time.perf_counter()
    anyio.run(resume)
    elapsed = (min(reached) - start) * 1000
    anyio.run(orch.aclose)
    print(f"3b. Orchestrator.resume of it in a git repo (drift check of 250 edited files, first staging): "
          f"{elapsed:.1f} ms  ratio to 300 ms target: {elapsed / 300:.2f}")


def bench_listing(tmp: Path) -> None:
    home = tmp / "h4"
    store = Store(Home(home))
    index = store._idx()
    with index.transact():
        for i in range(5000):
            meta = SessionMeta(id=f"20250101-{i // 60:04d}{i % 60:02d}-{i:06x}", cwd=f"/p/{i % 7}",
                               task="add input validation to bank.py", status="succeeded")
            index[meta.id] = meta.model_dump_json()
            (home / "sessions" / meta.id).mkdir()
    store.close()
    start = time.perf_counter()
    listed = Store(Home(home)).list_sessions()
    in_proc = (time.perf_counter() - start) * 1000
    env = {**os.environ, "ORCHESTRATE_HOME": str(home), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    def timed(argv: list[str]) -> float:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(argv, env=env, capture_output=True, check=True)
            best = min(best, time.perf_counter() - t)
        return best * 1000

    cli = timed([sys.executable, "-m", "orchestrator", "sessions", "--all", "--json"])
    rich = timed([sys.executable, "-c", "import rich"])
    print(f"4. listing {len(listed)} sessions: {in_proc:.1f} ms in process (ratio to 300 ms: {in_proc / 300:.2f}); "
          f"`sessions --all --json` process {cli:.0f} ms vs `import rich` process {rich:.0f} ms "
          f"(x{cli / rich:.1f})")


def bench_executor(tmp: Path) -> None:
    from orchestrator.api import SessionEvents  # noqa: F401 - import cost not measured
    from orchestrator.engine.session import StepExecutor
    from orchestrator.workspace.staging import Workspace

    repo = tmp / "repo"
    repo.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "i"]):
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=repo, check=True)
    (repo / "a.txt").write_text("x\n")

    class Out:
        status, summary, reason, files = "succeeded", "", "", ()

        def __init__(self, diff: str) -> None:
            self.diff = diff

    async def edit(step: Step, *, staging, **_: object) -> Out:  # type: ignore[no-untyped-def]
        (staging.root / f"{step.id}.txt").write_text(step.id + "\n")
        return Out(staging.diff())

    n = 20
    plan = dag(n, 2)
    store = Store(Home(tmp / "h5"))
    with store.create(cwd=repo, task="bench") as session:
        executor = StepExecutor(task="t", plan=plan, session=session, workspace=Workspace(repo), run_step=edit,
                                deps=None, events=StoreSink(session))
        sched = Scheduler(plan, runner=executor, store=session, events=StoreSink(session), max_parallel=2)
        start = time.perf_counter()
        anyio.run(sched.run)
        elapsed = time.perf_counter() - start
    store.close()
    print(f"5. full executor (worktree staging + diff + apply + cleanup): {elapsed / n * 1000:.0f} ms/step "
          f"({n} steps, 2 cores) — dominated by git processes")


def main() -> None:
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        bench_overhead(tmp)
        bench_parallel(tmp)
        bench_resume(tmp)
        bench_resume_api(tmp)
        bench_listing(tmp)
        bench_executor(tmp)


if __name__ == "__main__":
    main()
