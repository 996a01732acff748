"""The interactive approver: asks the person at the terminal (see :mod:`policies.approval` for what the answers
mean; :class:`policies.approval.NonInteractiveApprover` is the ``exec`` one)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.core.contracts import ApprovalRequest, ApprovalResponse
from policies.amend import append_allow_prefix_rule, rules_file_choices
from policies.approval import command_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.prompt import Prompt

    from orchestrator.settings.home import Home
    from orchestrator.terminal.screen import LiveView
    from policies.gate import Gate

__all__ = ["ConsoleApprover"]


class ConsoleApprover:
    """Interactive approvals on ``console``. ``stream`` (a text stream) replaces stdin, e.g. in tests. With
    ``screen`` (the run's live view) each approval takes its turn there with the run's other questions, the live
    region off the screen while it is asked."""

    def __init__(self, console: Console | None = None, *, home: Home | None = None, project_root: Path | None = None,
                 gate: Gate | None = None, stream: Any = None, screen: LiveView | None = None) -> None:
        if console is None:
            from rich.console import Console as RichConsole

            console = RichConsole(stderr=True)
        if home is None:
            from orchestrator.settings.home import Home as HomeType

            home = HomeType.from_env()
        if project_root is None:
            from orchestrator.settings.config import find_project_root

            project_root = find_project_root(Path.cwd())
        self.console = console
        self.home = home
        self.project_root = project_root
        self.gate = gate
        self.stream = stream
        self.screen = screen
        self._lock: Any = None

    async def ask(self, request: ApprovalRequest) -> ApprovalResponse:
        import anyio

        from orchestrator.terminal.prompting import ask_in_thread

        if self.screen is not None and self.stream is None:
            return await self.screen.ask(self._ask_sync, request)
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self.stream is not None:
                return self._ask_sync(request)
            return await ask_in_thread(self._ask_sync, request)

    def _ask_sync(self, request: ApprovalRequest) -> ApprovalResponse:
        from rich.markup import escape
        prompt = self._prompt_type()

        verdict = request.verdict
        title = "Run outside the sandbox?" if request.retry_unsandboxed else "Approve command?"
        if request.argv[:1] == ("mcp",):  # an MCP tool call (orchestrator.mcp.session): argv is mcp SERVER TOOL ARGS
            title = "Call MCP tool?"
        self.console.print(f"\n[bold yellow]{title}[/] [dim](step {escape(request.step_id)}, in "
                           f"{escape(request.cwd)})[/]")
        self.console.print(f"  [bold]$ {escape(command_text(request))}[/]")
        if verdict.reason:
            self.console.print(f"  [dim]why:[/] {escape(verdict.reason)}")
        if verdict.bypass_sandbox and not request.retry_unsandboxed:
            self.console.print("  [bold red]runs outside the sandbox[/] [dim]([sandbox] unconfined_prefixes)[/]")
        amendment = verdict.proposed_amendment
        options = {"y": "allow once", "s": "allow for this session"}
        if amendment:
            # An allow rule means "without asking, in the sandbox": it never lets a command out of the sandbox.
            options["a"] = f"always allow `{shlex.join(amendment)}` (in the sandbox)"
        options["n"] = "deny (and tell the agent why)"
        for key, label in options.items():
            self.console.print(f"  [cyan]{key}[/] {escape(label)}")
        choice = prompt.ask("Choice", choices=list(options), default="n", console=self.console, stream=self.stream)
        if choice == "y":
            return ApprovalResponse(choice="allow_once")
        if choice == "s":
            return ApprovalResponse(choice="allow_session")
        if choice == "a" and amendment:
            return self._always(amendment)
        message = prompt.ask("Message for the agent (optional)", default="", console=self.console,
                             stream=self.stream, show_default=False)
        return ApprovalResponse(choice="deny", message=message.strip() or "The user denied this command.")

    def _prompt_type(self) -> type[Prompt]:
        """The answers are typed through the screen when there is one (the live region keeps drawing)."""
        from rich.prompt import Prompt

        return self.screen.prompt_type() if self.screen is not None else Prompt

    def _always(self, prefix: tuple[str, ...]) -> ApprovalResponse:
        from rich.markup import escape
        prompt = self._prompt_type()

        files = rules_file_choices(self.home.rules_dir, self.project_root)
        for key, path in files.items():
            self.console.print(f"  [cyan]{key[0]}[/] {key}: {escape(str(path))}")
        where = prompt.ask("Save the rule in", choices=[k[0] for k in files], default="u", console=self.console,
                           stream=self.stream)
        path = files["user" if where == "u" else "project"]
        if self.gate is not None:  # stand-alone use; the command runner persists the rule and remembers the prefix
            line = append_allow_prefix_rule(path, prefix)
            self.gate.add_allow_rule(prefix, f"{path}:{line}")
            self.console.print(f"  saved to {escape(str(path))}:{line}")
        return ApprovalResponse(choice="allow_always", rules_file=str(path))
