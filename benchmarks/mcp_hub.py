"""MCP hub: start-up of N servers at once vs one, and a tool call's round trip vs a plain subprocess per call.

Run: ``python benchmarks/mcp_hub.py``. Uses the echo server of the integration tests. Prints the figures measured side
by side in one run and their ratios.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.mcp.client import McpHub  # noqa: E402
from orchestrator.settings.schema import McpServerConfig  # noqa: E402

SERVER = ROOT / "tests" / "integrations" / "mcp_echo_server.py"
CALLS = 200


def _servers(n: int) -> dict[str, McpServerConfig]:
    return {f"echo{i}": McpServerConfig(command=sys.executable, args=(str(SERVER),)) for i in range(n)}


async def _startup(n: int) -> float:
    start = time.perf_counter()
    async with McpHub(_servers(n)) as hub:
        elapsed = time.perf_counter() - start
        assert len(hub.tools) >= n
    return elapsed


async def _calls() -> float:
    async with McpHub(_servers(1)) as hub:
        start = time.perf_counter()
        for i in range(CALLS):
            assert await hub.call("mcp__echo0__echo", {"text": str(i)}) == str(i)
        return (time.perf_counter() - start) / CALLS


def _subprocess_call() -> float:
    start = time.perf_counter()
    for _ in range(10):
        subprocess.run(["true"], check=True)
    return (time.perf_counter() - start) / 10


async def main() -> None:
    await _startup(1)  # warm the import caches
    one = await _startup(1)
    four = await _startup(4)
    per_call = await _calls()
    spawn = _subprocess_call()
    print(f"start-up, 1 server : {one:.2f} s")
    print(f"start-up, 4 servers: {four:.2f} s  (ratio 4/1: {four / one:.2f}; sequential would be ~4)")
    print(f"tool call round trip: {per_call * 1000:.2f} ms  vs spawning `true`: {spawn * 1000:.2f} ms "
          f"(ratio {per_call / spawn:.2f})")


if __name__ == "__main__":
    anyio.run(main)
