"""One session's MCP servers for the agents: started on first use, every tool call approved, closed with the session.

:class:`McpSession` wraps :class:`~orchestrator.mcp.client.McpHub`. The hub runs in a thread of its own (its own event
loop behind an anyio blocking portal), because an MCP hub must be entered and left by one task while the steps that
call its tools run in many: starting it from whichever step needs it first, and closing it from wherever the session
ends, is then safe. Nothing is imported or started while no coder asks for its tools, and a session without
configured servers has no :class:`McpSession` at all (:meth:`McpSession.from_settings` returns None).

Approval (MCP tools run as the user, outside the sandbox, so a call is never just allowed by default): a server
configured ``trusted = true`` is called without asking; otherwise ``approval_policy = "never"`` refuses the call
(unless ``sandbox_mode = "danger-full-access"`` too, i.e. ``--yolo``: nothing is confined or asked), and every other
policy asks the approver (which in ``exec`` denies, telling the model why). Each decision is a ``command.decided``
event whose argv is ``["mcp", server, tool, arguments-json]``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from orchestrator.core.contracts import ApprovalRequest, Approver, Decision, GateVerdict, ToolSpec
from orchestrator.core.events import CommandDecided, EventSink, WarningEvent

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from orchestrator.mcp.client import McpHub
    from orchestrator.settings.home import Home
    from orchestrator.settings.schema import Settings

__all__ = ["McpSession", "mcp_decision"]


_CLOSE_WAIT_S = 30.0  # the SDK bounds each server's shutdown; this only guards against a wedged host thread


def mcp_decision(settings: Settings, server: str) -> tuple[Decision, str]:
    """Whether a call to a tool of ``server`` runs (allow), is asked for (prompt) or refused (forbidden), and why."""
    config = settings.mcp_servers.get(server)
    if config is not None and config.trusted:
        return "allow", f"MCP server '{server}' is trusted"
    how = f"set [mcp_servers.{server}] trusted = true to allow its tools without asking"
    if settings.approval_policy == "never":
        if settings.sandbox_mode == "danger-full-access":
            return "allow", "approval_policy never with danger-full-access: nothing is asked or confined"
        return "forbidden", f"MCP tools run outside the sandbox and approval_policy is never ({how})"
    return "prompt", f"MCP tools run as you, outside the sandbox ({how})"


class McpSession:
    """The MCP servers of one session (see the module docstring). Thread-safe; :meth:`close` is idempotent."""

    def __init__(self, hub_factory: Callable[[], McpHub], *, settings: Settings, approver: Approver,
                 events: EventSink, cwd: Path) -> None:
        self._hub_factory = hub_factory
        self._cwd = cwd
        self._settings = settings
        self._approver = approver
        self._events = events
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._hub: McpHub | None = None
        self._portal: BlockingPortal | None = None
        self._stop: anyio.Event | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._allowed: set[tuple[str, str]] = set()  # (server, tool) the user allowed for the session

    @classmethod
    def from_settings(cls, settings: Settings, *, home: Home, cwd: Path, environ: Mapping[str, str],
                      approver: Approver, events: EventSink) -> McpSession | None:
        """The session's MCP servers, or None when no enabled server is configured (nothing imported then)."""
        if not any(server.enabled for server in settings.mcp_servers.values()):
            return None

        def hub() -> McpHub:
            from orchestrator.mcp.client import McpHub

            return McpHub.from_settings(settings, home=home, cwd=cwd, environ=environ)

        return cls(hub, settings=settings, approver=approver, events=events, cwd=cwd)

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------------------------------------ lifecycle
    async def tools(self) -> tuple[ToolSpec, ...]:
        """Every tool of every running server (starting them on the first call). Raises InputError when a
        ``required`` server cannot start; servers that fail otherwise are ``warning`` events, once."""
        first = await anyio.to_thread.run_sync(self._start)
        if self._error is not None:
            raise self._error
        if self._hub is None:  # closed before it started
            return ()
        if first:
            for line in self._hub.warnings:
                self._events.emit(WarningEvent(message=line))
        return self._hub.tools if self._portal is not None else ()

    def _start(self) -> bool:
        """Start the host thread unless started; wait until the servers are up. True for the call that started."""
        with self._lock:
            first = self._thread is None and not self._closed
            if first:
                self._hub = self._hub_factory()
                self._thread = threading.Thread(target=self._thread_main, name="orchestrate-mcp", daemon=True)
                self._thread.start()
                atexit.register(self.close)
            elif self._thread is None:
                self._ready.set()  # closed before anything started: no tools
        self._ready.wait()
        return first

    def _thread_main(self) -> None:
        try:
            anyio.run(self._host)
        except BaseException as exc:  # reported to the step that started the servers, and to every later one
            self._error = self._error or exc
        finally:
            self._ready.set()

    async def _host(self) -> None:
        from anyio.from_thread import BlockingPortal

        assert self._hub is not None
        async with BlockingPortal() as portal:
            stop = anyio.Event()
            async with self._hub:
                self._stop, self._portal = stop, portal
                self._ready.set()
                await stop.wait()

    def close(self) -> None:
        """Stop every server (from any thread; waits for them to exit). Later tool calls get an explanatory text."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        atexit.unregister(self.close)
        if thread is None:
            return
        self._ready.wait()  # a start in progress completes first (bounded by startup_timeout_s)
        portal, stop = self._portal, self._stop
        if portal is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the host loop has already ended
                portal.call(stop.set)
        thread.join(_CLOSE_WAIT_S)
        self._portal = None

    # ------------------------------------------------------------------------------------------------ calls
    async def call(self, step_id: str, name: str, arguments: Mapping[str, Any]) -> str:
        """Call tool ``name`` (qualified ``mcp__server__tool``) once approved; the text for the model. Never raises
        for a refusal or a tool's failure."""
        await self.tools()
        hub, portal = self._hub, self._portal
        if hub is None or portal is None:
            return f"MCP tool {name} is unavailable: the session's MCP servers are stopped"
        route = hub.route_of(name)
        if route is None:  # the hub answers with the tools there are; nothing runs
            return await anyio.to_thread.run_sync(portal.call, hub.call, name, dict(arguments))
        server, tool = route
        refusal = await self._approve(step_id, server, tool, arguments)
        if refusal is not None:
            return (f"NOT CALLED: MCP tool {name}: {refusal}\n"
                    "Do not retry this call; find another way to reach the goal.")
        return await anyio.to_thread.run_sync(portal.call, hub.call, name, dict(arguments), abandon_on_cancel=True)

    async def _approve(self, step_id: str, server: str, tool: str, arguments: Mapping[str, Any]) -> str | None:
        """None when the call may run, else why not (told to the model)."""
        argv = ("mcp", server, tool, json.dumps(dict(arguments), ensure_ascii=False, sort_keys=True))
        decision, reason = mcp_decision(self._settings, server)
        if decision == "prompt" and (server, tool) in self._allowed:
            decision, reason = "allow", "allowed for this session"
        self._events.emit(CommandDecided(step_id=step_id, argv=argv, decision=decision, reason=reason))
        if decision == "forbidden":
            return f"refused by policy: {reason}"
        if decision == "allow":
            return None
        verdict = GateVerdict(decision="prompt", commands=(argv,), reason=reason)
        request = ApprovalRequest(step_id=step_id, argv=argv, cwd=str(self._cwd), verdict=verdict)
        answer = await self._approver.ask(request)
        if answer.choice == "deny":
            return answer.message or "the user denied this call"
        if answer.choice in ("allow_session", "allow_always"):
            self._allowed.add((server, tool))
        return None
