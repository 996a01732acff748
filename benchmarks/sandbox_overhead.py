"""Per-command overhead of each sandbox backend against an unconfined run, measured side by side.

Runs ``true`` N times through the real runner (``SandboxRunner.run``: environment scrubbing, spawn, capture, status)
for unconfined, bubblewrap and Landlock + seccomp, interleaved round-robin so machine noise hits all alike, and prints
the median milliseconds per command and the ratio to unconfined, plus the median extra milliseconds.

    python benchmarks/sandbox_overhead.py [N]
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.core.contracts import SandboxMode, SandboxPolicy
from policies.sandbox import SandboxRunner
from policies.sandbox.probe import probe


async def _measure(n: int, workspace: Path) -> dict[str, list[float]]:
    true = shutil.which("true") or "/bin/true"
    found = probe()
    runners: dict[str, tuple[SandboxRunner, SandboxMode]] = {"unconfined": (SandboxRunner(backends=[]),
                                                                            "danger-full-access")}
    for name in ("bwrap", "landlock"):
        if found.status(name).available:
            runners[name] = (SandboxRunner(backends=[name]), "workspace-write")
        else:
            print(f"{name}: skipped ({found.status(name).detail})")
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(3):  # warm-up: probe cache, imports, page cache
        for runner, mode in runners.values():
            await runner.run([true], policy=SandboxPolicy(mode=mode, workspace=workspace), cwd=workspace)
    for _ in range(n):
        for name, (runner, mode) in runners.items():
            policy = SandboxPolicy(mode=mode, workspace=workspace)
            started = time.perf_counter()
            result = await runner.run([true], policy=policy, cwd=workspace)
            samples[name].append((time.perf_counter() - started) * 1000)
            if result.exit_code != 0:
                raise SystemExit(f"{name}: `true` failed: {result.output}")
    return samples


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory(prefix="orchestrate-bench-") as tmp:
        samples = asyncio.run(_measure(n, Path(tmp).resolve()))
    base = statistics.median(samples["unconfined"])
    print(f"per-command time of `true`, median of {n} runs each, interleaved")
    print(f"{'backend':<12}{'median ms':>11}{'p90 ms':>9}{'ratio':>8}{'overhead ms':>13}")
    for name, values in samples.items():
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<12}{median:>11.2f}{p90:>9.2f}{median / base:>7.2f}x{median - base:>13.2f}")


if __name__ == "__main__":
    main()
