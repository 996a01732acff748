"""MCP client: the configured ``[mcp_servers.NAME]`` started over stdio, their tools offered to the agents.

The only module that imports the client side of the ``mcp`` SDK (lazily: it costs about a second).

>>> async with McpHub.from_settings(settings, home=home, cwd=cwd) as hub:
...     hub.tools                       # tuple[ToolSpec, ...], names "mcp__<server>__<tool>"
...     await hub.call("mcp__docs__search", {"query": "retry"})   # -> str, never raises for a tool's failure

Contracts:

* A server process gets a minimal environment (PATH, HOME, LANG and a few such basics) plus its configured ``env``
  and the ``env_vars`` it names: orchestrate's API keys never reach a server unless configured.
* Servers start concurrently. One that fails to start (missing command, crash, no answer within
  ``startup_timeout_s``) is a one-line warning in :attr:`McpHub.warnings` naming the server and its command, or an
  :class:`~orchestrator.core.errors.InputError` when the server is ``required``.
* :meth:`McpHub.call` returns text for the model: the tool's text content joined; a tool error, a timeout
  (``tool_timeout_s``), an unknown tool or a dead server become a text observation, not an exception.
* Leaving the context stops every server (stdin closed, then SIGTERM/SIGKILL of its process group, by the SDK).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TextIO

import anyio

from orchestrator.core.contracts import ToolSpec
from orchestrator.core.errors import InputError
from orchestrator.core.services import TOOL_PREFIX, qualified_tool_name

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from mcp import ClientSession
    from mcp.types import CallToolResult, Tool

    from orchestrator.settings.home import Home
    from orchestrator.settings.schema import McpServerConfig, Settings

__all__ = ["McpHub", "TOOL_PREFIX", "qualified_tool_name", "SAFE_ENV"]

# What every server inherits from orchestrate's environment; nothing secret.
SAFE_ENV = ("PATH", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL",
            "TERM")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_REQUEST_TIMEOUT = -32001  # the SDK's code for a request that timed out
_LOG_MARK = "--- orchestrate starts: "


@dataclass
class _Server:
    name: str
    config: McpServerConfig
    ready: anyio.Event = field(default_factory=anyio.Event)
    session: ClientSession | None = None
    tools: list[Tool] = field(default_factory=list)
    error: str | None = None

    @property
    def command_line(self) -> str:
        return shlex.join([self.config.command, *self.config.args])


class McpHub:
    """The running MCP servers of one session (an async context manager; enter and exit it in the same task)."""

    def __init__(self, servers: Mapping[str, McpServerConfig], *, environ: Mapping[str, str] | None = None,
                 cwd: Path | None = None, log_dir: Path | None = None, max_output_chars: int = 20_000) -> None:
        """``servers`` as configured (disabled ones are skipped); ``environ`` is where ``env_vars`` and the safe
        basics are read (default ``os.environ``); ``log_dir`` receives each server's stderr as ``mcp-NAME.log``
        (default: orchestrate's stderr)."""
        import os

        self._servers = [_Server(name, config) for name, config in servers.items() if config.enabled]
        self._environ = os.environ if environ is None else environ
        self._cwd = cwd
        self._log_dir = log_dir
        self._max_output = max_output_chars
        self._routes: dict[str, tuple[_Server, str]] = {}
        self._specs: list[ToolSpec] = []
        self._warnings: list[str] = []
        self._closing = anyio.Event()
        self._group: TaskGroup | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, home: Home, cwd: Path,
                      environ: Mapping[str, str] | None = None) -> McpHub:
        """The hub for ``settings.mcp_servers``; server logs go to ``$ORCHESTRATE_HOME/logs/mcp-NAME.log``."""
        return cls(settings.mcp_servers, environ=environ, cwd=cwd, log_dir=home.root / "logs")

    # ------------------------------------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Self:
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        try:
            for server in self._servers:
                group.start_soon(self._serve, server)
            for server in self._servers:
                await server.ready.wait()
            self._index()
        except BaseException:
            await self._shutdown(abort=True)
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._shutdown()

    async def _shutdown(self, *, abort: bool = False) -> None:
        """Let every server task leave its contexts (which stops its process); ``abort`` also stops those starting."""
        self._closing.set()
        group, self._group = self._group, None
        if group is not None:
            if abort:
                group.cancel_scope.cancel()  # the SDK still stops each process (its shutdown is shielded)
            # Shield the group's own scope (a new scope would break LIFO exit): an outer cancellation must not cut
            # the servers' shutdown short, and the SDK bounds every wait in it. The caller's exception is not
            # handed to the group (it would cancel the servers and come back wrapped); it propagates by itself.
            group.cancel_scope.shield = True
            await group.__aexit__(None, None, None)

    async def _serve(self, server: _Server) -> None:
        """Run one server for the hub's lifetime: start, initialize, list tools, then wait for the hub to close."""
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(command=server.config.command, args=list(server.config.args),
                                       env=self._server_env(server.config), cwd=self._cwd)
        log, owned = self._open_log(server)
        try:
            async with stdio_client(params, errlog=log) as (read, write), ClientSession(read, write) as session:
                try:
                    with anyio.fail_after(server.config.startup_timeout_s):
                        await session.initialize()
                        server.tools = await _list_tools(session)
                except Exception as exc:
                    self._failed(server, exc)  # now: the SDK's bounded shutdown of the process may take seconds
                    return
                server.session = session
                server.ready.set()
                await self._closing.wait()
        except Exception as exc:  # any failure of a third-party server process is reported, never raised here
            self._failed(server, exc)
        finally:
            server.session = None
            server.ready.set()
            if owned:
                log.close()

    @staticmethod
    def _failed(server: _Server, exc: Exception) -> None:
        if not server.ready.is_set():
            server.error = _describe_failure(exc, server.config.startup_timeout_s)
            server.ready.set()

    def _server_env(self, config: McpServerConfig) -> dict[str, str]:
        env = {key: self._environ[key] for key in SAFE_ENV if key in self._environ}
        env.update({key: self._environ[key] for key in config.env_vars if key in self._environ})
        env.update(config.env)
        return env

    def _open_log(self, server: _Server) -> tuple[TextIO, bool]:
        """Where the server's stderr goes, and whether it is ours to close (a log we cannot write: our stderr)."""
        path = self._log_path(server)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                log = path.open("a", encoding="utf-8")
                log.write(f"{_LOG_MARK}{server.command_line}\n")
                log.flush()
                return log, True
            except OSError:
                pass
        return _stderr(), False

    def _log_path(self, server: _Server) -> Path | None:
        return self._log_dir / f"mcp-{_UNSAFE_CHARS.sub('_', server.name)}.log" if self._log_dir else None

    def _index(self) -> None:
        """Name every tool, and turn start-up failures into warnings (or an InputError for required servers)."""
        for server in self._servers:
            if server.error is not None:
                line = f"MCP server '{server.name}' ({server.command_line}) failed to start: {server.error}"
                line += self._log_hint(server)
                if server.config.required:
                    raise InputError(line, hint=f"fix or disable [mcp_servers.{server.name}]")
                self._warnings.append(line)
                continue
            for tool in server.tools:
                name = qualified_tool_name(server.name, tool.name)
                if name in self._routes:
                    self._warnings.append(f"MCP tool '{tool.name}' of server '{server.name}' is skipped: its name "
                                          f"{name} is taken by another server's tool")
                    continue
                self._routes[name] = (server, tool.name)
                self._specs.append(_spec(name, server.name, tool))

    def _log_hint(self, server: _Server) -> str:
        path = self._log_path(server)
        if path is None or not path.exists():
            return ""
        last = _last_line(path)
        return f"; its stderr ends: {last!r} (log: {path})" if last else f" (log: {path})"

    # ------------------------------------------------------------------------------------------------ use
    @property
    def tools(self) -> tuple[ToolSpec, ...]:
        """Every tool of every running server, as native tool specs named ``mcp__<server>__<tool>``."""
        return tuple(self._specs)

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line per server that failed to start (and per skipped tool), for the caller to show or emit."""
        return tuple(self._warnings)

    def has_tool(self, name: str) -> bool:
        return name in self._routes

    def route_of(self, name: str) -> tuple[str, str] | None:
        """(server name as configured, tool name as the server knows it) of qualified tool ``name``; None: unknown."""
        route = self._routes.get(name)
        return (route[0].name, route[1]) if route else None

    async def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> str:
        """Call tool ``name`` (qualified) and return its output as text for the model. Never raises for failures."""
        route = self._routes.get(name)
        if route is None:
            known = ", ".join(sorted(self._routes)) or "none"
            return f"unknown MCP tool {name!r}; available MCP tools: {known}"
        server, tool = route
        session = server.session
        if session is None:
            return f"MCP tool {name} is unavailable: server '{server.name}' is not running"
        timeout = server.config.tool_timeout_s
        try:
            result = await session.call_tool(tool, dict(arguments or {}), read_timeout_seconds=timeout)
        except Exception as exc:  # MCPError, a malformed result, a broken pipe: the model gets to read what happened
            if getattr(exc, "code", None) == _REQUEST_TIMEOUT:
                return f"MCP tool {name} timed out after {timeout:g}s"
            return f"MCP tool {name} failed: {_one_line(exc)}"
        return self._render(name, result)

    def _render(self, name: str, result: CallToolResult) -> str:
        text = "\n".join(_block_text(block) for block in result.content)
        if not text and result.structured_content is not None:
            text = json.dumps(result.structured_content, ensure_ascii=False)
        if result.is_error:
            text = f"MCP tool {name} returned an error: {text or '(no message)'}"
        elif not text:
            text = "(no output)"
        if len(text) > self._max_output:
            dropped = len(text) - self._max_output
            text = f"{text[: self._max_output]}\n[... {dropped} more characters of MCP output dropped]"
        return text


# ---------------------------------------------------------------------------------------------------- helpers
async def _list_tools(session: ClientSession) -> list[Tool]:
    from mcp.types import PaginatedRequestParams

    tools: list[Tool] = []
    cursor: str | None = None
    while True:
        page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def _spec(name: str, server: str, tool: Tool) -> ToolSpec:
    schema: dict[str, Any] = dict(tool.input_schema or {})
    schema.setdefault("type", "object")
    about = tool.description or tool.title or tool.name
    return ToolSpec(name=name, description=f"[MCP server {server}] {about}", parameters=schema)


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return f"[{kind} content, {block.mime_type}, not shown]"
    if kind == "resource_link":
        return f"[resource {block.uri}]"
    if kind == "resource":
        inner = block.resource
        text = getattr(inner, "text", None)
        return str(text) if text is not None else f"[binary resource {inner.uri}, not shown]"
    return f"[{kind or 'unknown'} content, not shown]"


def _describe_failure(exc: BaseException, startup_timeout_s: float) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return f"no answer within {startup_timeout_s:g}s (startup_timeout_s)"
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _last_line(path: Path) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - 4096))
            lines = [line.strip() for line in f.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return ""
    starts = [i for i, line in enumerate(lines) if line.startswith(_LOG_MARK)]
    lines = [line for line in lines[starts[-1] + 1 if starts else 0 :] if line]  # this start's lines only
    return lines[-1][:200] if lines else ""


def _stderr() -> TextIO:
    import sys

    return sys.stderr
