"""Start-up cost, side by side in one run (issue 7): ``orchestrate --help`` within 4x ``python -c "import rich"``.

Each command runs ``RUNS`` times, interleaved (so load on the machine hits both alike); the medians and their ratio
are printed, with the modules ``--help`` imports that a bare interpreter does not (the slowest first, from
``python -X importtime``) to show where the time goes when the ratio drifts up.

Run: python benchmarks/startup.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 15
TARGET = 4.0
COMMANDS = {
    "orchestrate --help": [sys.executable, "-m", "orchestrator", "--help"],
    'python -c "import rich"': [sys.executable, "-c", "import rich"],
}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _slowest_imports(argv: list[str], top: int = 8) -> list[tuple[int, str]]:
    """The top-level modules ``argv`` imports, by cumulative import time (µs)."""
    proc = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=_env(), capture_output=True, text=True,
                          check=True)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):  # depth 0: imported by the program itself, not by another module
            rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> int:
    for argv in COMMANDS.values():  # warm the file cache and .pyc files
        _time(argv)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(RUNS):
        for name, argv in COMMANDS.items():
            samples[name].append(_time(argv))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, value in medians.items():
        print(f"{name:<26} median {value * 1000:7.1f} ms  (min {min(samples[name]) * 1000:.1f} ms, {RUNS} runs)")
    help_s, rich_s = medians["orchestrate --help"], medians['python -c "import rich"']
    ratio = help_s / rich_s
    print(f"ratio --help / import rich: {ratio:.2f}x (target <= {TARGET:.0f}x): {'OK' if ratio <= TARGET else 'OVER'}")
    print("slowest top-level imports of --help (cumulative):")
    for micros, name in _slowest_imports(COMMANDS["orchestrate --help"]):
        print(f"  {micros / 1000:6.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
