"""A tiny real MCP server over stdio, used by the integration tests (run: ``python mcp_echo_server.py``).

Tools: ``echo(text)``, ``add(a, b)``, ``fail(message)`` (an anticipated tool error), ``crash()`` (an unexpected one),
``sleep(seconds)`` (for timeouts), ``getenv(name)`` (what the server process sees of its environment),
``cwd()`` and ``exit_now()`` (the server dies mid-call). Run with ``--exit-at-start`` it exits before speaking MCP,
like a server that cannot start.
"""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError


def build() -> MCPServer:
    server = MCPServer("echo", instructions="Echo and arithmetic tools for tests.", log_level="WARNING")

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def fail(message: str) -> str:
        """Fail on purpose with ``message``."""
        raise ToolError(message)

    @server.tool()
    def crash() -> str:
        """Raise an unexpected exception."""
        raise RuntimeError("secret internals")

    @server.tool()
    def sleep(seconds: float) -> str:
        """Sleep, then say so."""
        time.sleep(seconds)
        return f"slept {seconds}"

    @server.tool()
    def getenv(name: str) -> str:
        """The value of environment variable ``name`` in this server process, or <unset>."""
        return os.environ.get(name, "<unset>")

    @server.tool()
    def cwd() -> str:
        """This server's working directory."""
        return os.getcwd()

    @server.tool()
    def exit_now() -> str:
        """Terminate the server process without answering."""
        os._exit(1)

    return server


if __name__ == "__main__":
    if "--exit-at-start" in sys.argv:
        print("echo server: refusing to start (--exit-at-start)", file=sys.stderr)
        sys.exit(3)
    build().run("stdio")
