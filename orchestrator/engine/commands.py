"""The one path every agent command takes: policy gate → (approval) → sandbox → events → an outcome for the model.

A command is a shell string run as ``["bash", "-c", command]``. The gate decides ``allow``, ``prompt`` or
``forbidden`` (after the approval policy); a prompt goes to the :class:`~orchestrator.core.contracts.Approver`, whose
answer may be remembered for the session or persisted as a rule. Allowed commands run in the sandbox with the workspace
writable, whatever rule allowed them: only a verdict with ``bypass_sandbox``, honoured only when the user opted commands
out by name (``[sandbox] unconfined_prefixes``), or the user approving a retry after a sandbox denial under
``on-failure``, runs unconfined. Refusals are not exceptions: they become text the model reads and works around. An
unavailable sandbox is (``SandboxUnavailableError``): commands never silently run unconfined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from orchestrator.core.contracts import (
    ApprovalRequest,
    ApprovalResponse,
    Approver,
    ExecResult,
    GateVerdict,
    PolicyGate,
    Sandbox,
    SandboxPolicy,
)
from orchestrator.core.events import CommandDecided, CommandExecuted, EventSink
from orchestrator.core.services import CommandOutcome
from orchestrator.core.text import clip, tail_lines
from orchestrator.settings.schema import Settings

__all__ = ["CommandOutcome", "CommandRunner", "PolicyFor", "PersistRule", "shell_argv"]

PolicyFor = Callable[[Settings, Path], SandboxPolicy]
# Persists "allow commands starting with prefix" in a rules file (None: the user's default rules file).
PersistRule = Callable[[Sequence[str], str | None], None]


def shell_argv(command: str) -> list[str]:
    """The argv a shell-string command runs as: ``bash -c`` (not a login shell, whose /etc/profile resets PATH and
    loses the user's virtualenv, pyenv or node version manager; the gate parses ``-c`` and ``-lc`` alike)."""
    return ["bash", "-c", command]


class CommandRunner:
    """Runs agent commands through the gate, the approver and the sandbox, and reports every decision as events.

    ``policy_for`` builds the sandbox policy; ``persist_rule`` appends an allow rule when the user chooses "always"
    (compose passes ``policies.sandbox.policy_for`` and ``policies.amend.append_allow_rule``: the engine imports no
    policy code).
    """

    def __init__(
        self,
        *,
        gate: PolicyGate,
        approver: Approver,
        sandbox: Sandbox,
        settings: Settings,
        events: EventSink,
        policy_for: PolicyFor,
        persist_rule: PersistRule,
    ) -> None:
        self._gate = gate
        self._approver = approver
        self._sandbox = sandbox
        self._settings = settings
        self._events = events
        self._policy_for = policy_for
        self._persist_rule = persist_rule

    async def run(self, step_id: str, command: str, *, cwd: Path, workspace: Path, timeout_s: float,
                  idle_timeout_s: float | None = None) -> CommandOutcome:
        """Decide, maybe ask, run and report ``command``. Never raises for a refusal or a failing command.
        ``idle_timeout_s``: the sandbox stops it once it wrote nothing that long (None: never)."""
        argv = shell_argv(command)
        verdict = self._gate.evaluate(argv, cwd=cwd)
        self._events.emit(
            CommandDecided(step_id=step_id, argv=tuple(argv), decision=verdict.decision,
                           rules=verdict.matched_rules, reason=verdict.reason)
        )
        base = CommandOutcome(command=command, argv=tuple(argv), decision=verdict.decision)
        if verdict.decision == "forbidden":
            return base.model_copy(update={"refused": True, "reason": f"forbidden by policy: {verdict.reason}"})
        if verdict.decision == "prompt":
            answer = await self._ask(step_id, argv, cwd, verdict, retry_unsandboxed=False)
            if answer.choice == "deny":
                return base.model_copy(update={"refused": True, "reason": _denial(answer)})
        policy = self._policy(workspace)
        # "Allowed" never implies "unconfined" (a Codex-style gate may say so for any allow rule): the user's opt-in is
        # checked here too, so no gate implementation can take a command out of the sandbox on its own.
        bypass = verdict.bypass_sandbox and bool(self._settings.sandbox.unconfined_prefixes)
        if bypass:
            policy = _unconfined(policy)
        bounds = _Bounds(timeout_s, idle_timeout_s)
        result = await self._execute(step_id, argv, decision=verdict.decision, policy=policy, cwd=cwd, bounds=bounds)
        if result.denied and not bypass and self._settings.approval_policy == "on-failure":
            answer = await self._ask(step_id, argv, cwd, verdict, retry_unsandboxed=True)
            if answer.choice != "deny":
                result = await self._execute(step_id, argv, decision="prompt", policy=_unconfined(policy), cwd=cwd,
                                             bounds=bounds)
        return base.model_copy(
            update={
                "exit_code": result.exit_code,
                "output": result.output,
                "denied": result.denied,
                "reason": result.denial_reason or "",
                "timed_out": result.timed_out,
                "hung": result.hung,
                "sandbox": result.sandbox,
            }
        )

    async def _execute(
        self, step_id: str, argv: list[str], *, decision: str, policy: SandboxPolicy, cwd: Path, bounds: _Bounds
    ) -> ExecResult:
        result = await self._sandbox.run(argv, policy=policy, cwd=cwd, timeout_s=bounds.timeout_s,
                                         idle_timeout_s=bounds.idle_timeout_s)
        sandbox = result.sandbox or ("none" if policy.mode == "danger-full-access" else policy.mode)
        self._events.emit(
            CommandExecuted(step_id=step_id, argv=tuple(argv), decision=decision, sandbox=sandbox,
                            exit_code=result.exit_code,
                            output_tail=_tail(result.output) if result.exit_code != 0 else None)
        )
        return result

    async def _ask(
        self, step_id: str, argv: list[str], cwd: Path, verdict: GateVerdict, *, retry_unsandboxed: bool
    ) -> ApprovalResponse:
        request = ApprovalRequest(step_id=step_id, argv=tuple(argv), cwd=str(cwd), verdict=verdict,
                                  retry_unsandboxed=retry_unsandboxed)
        answer = await self._approver.ask(request)
        if answer.choice in ("allow_session", "allow_always"):
            for prefix in _prefixes(verdict, argv):
                self._gate.remember_for_session(prefix)
        if answer.choice == "allow_always":
            for prefix in _prefixes(verdict, argv):
                self._persist_rule(prefix, answer.rules_file)
        return answer

    def _policy(self, workspace: Path) -> SandboxPolicy:
        return self._policy_for(self._settings, workspace)


class _Bounds(NamedTuple):
    timeout_s: float
    idle_timeout_s: float | None


def _prefixes(verdict: GateVerdict, argv: Sequence[str]) -> list[tuple[str, ...]]:
    """What an approval for the session (or always) covers: the gate's proposed prefix, else each simple command."""
    if verdict.proposed_amendment:
        return [tuple(verdict.proposed_amendment)]
    return [tuple(c) for c in verdict.commands if c] or [tuple(argv)]


def _tail(output: str, count: int = 5) -> str:
    """The last ``count`` non-blank lines of a failed command's output, at most 2,000 characters (what the live
    view shows under the command; the model reads the whole bounded output)."""
    return clip("\n".join(tail_lines(output, count, skip_blank=True)), 2000)


def _unconfined(policy: SandboxPolicy) -> SandboxPolicy:
    return policy.model_copy(update={"mode": "danger-full-access"})


def _denial(answer: ApprovalResponse) -> str:
    if answer.message:
        return f"the user declined to run it and said: {answer.message}"
    return "the user declined to run it"
