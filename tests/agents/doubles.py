"""Test doubles for the command seams (gate, approver, sandbox): small, honest, and real where it matters.

``WordGate`` decides by the first word of the shell script, like a one-level prefix rule. ``ScriptedApprover`` answers
from a list and records what it was asked. ``HostSandbox`` really runs the command (unconfined, with a timeout) and
reports a denial for scripts naming a "blocked" word unless the policy is ``danger-full-access`` — the shape of a
real sandbox denial, so the runner's retry path can be exercised without bwrap.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestrator.core.contracts import (
    ApprovalRequest,
    ApprovalResponse,
    Decision,
    ExecResult,
    GateVerdict,
    SandboxPolicy,
)


class WordGate:
    def __init__(self, decisions: Mapping[str, Decision] | None = None, default: Decision = "allow") -> None:
        self.decisions = dict(decisions or {})
        self.default = default
        self.session: list[tuple[str, ...]] = []
        self.evaluated: list[tuple[str, ...]] = []

    def evaluate(self, argv: Sequence[str], *, cwd: Path) -> GateVerdict:
        self.evaluated.append(tuple(argv))
        script = argv[-1]
        words = shlex.split(script) if script.strip() else []
        first = words[0] if words else ""
        if any(words[: len(prefix)] == list(prefix) for prefix in self.session):
            return GateVerdict(decision="allow", commands=(tuple(words),), reason="allowed for this session")
        decision = self.decisions.get(first, self.default)
        matched = {"prefixRuleMatch": {"matchedPrefix": [first], "decision": decision}}
        rules = (matched,) if first in self.decisions else ()
        return GateVerdict(decision=decision, commands=(tuple(words),), reason=f"{first}: {decision}",
                           matched_rules=rules, proposed_amendment=(first,) if decision == "prompt" else None)

    def remember_for_session(self, prefix: Sequence[str]) -> None:
        self.session.append(tuple(prefix))


class ScriptedApprover:
    def __init__(self, *answers: ApprovalResponse) -> None:
        self.answers = list(answers)
        self.requests: list[ApprovalRequest] = []

    async def ask(self, request: ApprovalRequest) -> ApprovalResponse:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected approval request: {request.argv}")
        return self.answers.pop(0)


class HostSandbox:
    def __init__(self, blocked_words: Sequence[str] = ()) -> None:
        self.blocked_words = tuple(blocked_words)
        self.policies: list[SandboxPolicy] = []

    async def run(self, argv: Sequence[str], *, policy: SandboxPolicy, cwd: Path,
                  env: Mapping[str, str] | None = None, timeout_s: float | None = None,
                  stdin: bytes | None = None, idle_timeout_s: float | None = None) -> ExecResult:
        del idle_timeout_s  # bounds the wall time only (the idle bound: tests/sandbox/test_hung_commands.py)
        self.policies.append(policy)
        confined = policy.mode != "danger-full-access"
        if confined and any(word in argv[-1] for word in self.blocked_words):
            return ExecResult(exit_code=1, output="touch: cannot touch '/etc/x': Read-only file system\n",
                              denied=True, denial_reason="write outside the workspace (EROFS)", sandbox="test")
        # As the real sandbox: no bytecode (a same-size edit in the same second would import the stale .pyc).
        environ = {**(os.environ if env is None else env), "PYTHONDONTWRITEBYTECODE": "1"}
        proc = await asyncio.create_subprocess_exec(*argv, cwd=cwd, env=environ, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return ExecResult(exit_code=-9, output="", timed_out=True, sandbox="test" if confined else "none")
        return ExecResult(exit_code=proc.returncode or 0, output=out.decode(errors="replace"),
                          sandbox="test" if confined else "none")

