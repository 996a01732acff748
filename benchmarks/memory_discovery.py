"""AGENTS.md discovery on a deep, large repository: target <= 5 ms, side by side with a naive os.walk.

The tree: a project root (``.git``) with a chain 30 directories deep (the cwd at the bottom, an AGENTS.md every few
levels) and 10,000 files in 100 other directories. Discovery must only stat the chain, so its cost is independent
of those 10,000 files; the naive approach walks the tree looking for AGENTS.md files and filters them to the chain.

Run: ``python benchmarks/memory_discovery.py [--depth 30] [--files 10000] [--repeat 200]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET_MS = 5.0


def build_tree(root: Path, depth: int, files: int) -> Path:
    """Create the benchmark repository under ``root``; returns the cwd at the bottom of the chain."""
    (root / ".git").mkdir(parents=True)
    (root / "AGENTS.md").write_text("# root rules\n" + "- keep it tidy\n" * 40)
    cwd = root
    for level in range(depth):
        cwd = cwd / f"level{level:02d}"
        cwd.mkdir()
        if level % 5 == 4:
            (cwd / "AGENTS.md").write_text(f"# rules for level {level}\n" + "- be precise\n" * 20)
        (cwd / "module.py").write_text("x = 1\n")
    per_dir = 100
    for d in range(max(1, files // per_dir)):
        pkg = root / "src" / f"pkg{d:03d}"
        pkg.mkdir(parents=True)
        for f in range(per_dir):
            (pkg / f"file{f:03d}.py").write_text("")
    return cwd


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def naive_walk(root: Path, cwd: Path) -> list[Path]:
    """What a tree-walking implementation does: find every AGENTS.md, keep those on the root → cwd chain."""
    chain = {cwd, *cwd.parents}
    found = [Path(d) / "AGENTS.md" for d, _, names in os.walk(root) if "AGENTS.md" in names]
    return sorted((p for p in found if p.parent in chain), key=lambda p: len(p.parts))


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from memory import AgentsMdMemory
    from memory.discovery import candidate_names, project_doc_paths
    from orchestrator.settings.home import Home
    from orchestrator.settings.schema import MemoryConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="orchestrate-bench-") as tmp:
        root = Path(tmp).resolve() / "repo"
        cwd = build_tree(root, opts.depth, opts.files)
        home = Path(tmp).resolve() / "home"
        home.mkdir()
        (home / "AGENTS.md").write_text("global rules\n")
        memory = AgentsMdMemory(MemoryConfig(), Home(home))
        names = candidate_names()

        paths = project_doc_paths(cwd, markers=(".git",), names=names)
        assert paths == naive_walk(root, cwd), "discovery and the naive walk disagree"
        discover_ms = timed(lambda: project_doc_paths(cwd, markers=(".git",), names=names), opts.repeat)
        load_ms = timed(lambda: memory.load(cwd), opts.repeat)
        naive_ms = timed(lambda: naive_walk(root, cwd), max(5, opts.repeat // 20))

    print(f"tree: chain {opts.depth} dirs deep, {opts.files} other files, {len(paths)} AGENTS.md on the chain")
    rows = [
        ("discovery (stat the chain)", discover_ms, f"{discover_ms / TARGET_MS:.3f}x the 5 ms target"),
        ("load (discover, read, compose)", load_ms, f"{load_ms / TARGET_MS:.3f}x the 5 ms target"),
        ("naive os.walk of the repo", naive_ms, f"{naive_ms / discover_ms:.1f}x the time of discovery"),
    ]
    for label, ms, ratio in rows:
        print(f"{label:<32} {ms:8.3f} ms   {ratio}")
    return 0 if load_ms <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
