"""The policy gate: every command an agent wants to run is decided here (``seams.PolicyGate``).

For one argv (usually ``["bash", "-lc", script]``) the gate finds every simple command the script runs
(:mod:`policies.shell`), matches each against the rules (:mod:`policies.policy`, the wrapper too), falls back to
heuristics and the approval policy for a command no rule matched, and takes the strictest answer. A script that cannot
be fully analysed, or that redirects into a file outside the writable roots, is never allowed by rules alone: it
prompts (and under ``never`` a prompt is refused). ``allow`` means "run in the sandbox without asking"; a verdict
bypasses the sandbox only under the user's explicit opt-in (``[sandbox] unconfined_prefixes``) for a command the agent
cannot bend into running something else (:mod:`policies.placement`). Git commands are also matched in their other
spellings (:mod:`policies.gitargv`), so ``git -C . push`` or ``git push origin +main`` meet the rules about them.

Approval policies mean what they mean in Codex: ``untrusted`` asks for anything not known safe; ``on-failure`` runs
everything sandboxed and asks only for destructive commands (the command runner asks again to retry unsandboxed when
the sandbox denied something); ``on-request`` runs unmatched, non-destructive commands in the sandbox without asking;
``never`` never asks: what would be asked is refused and the refusal goes back to the model.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.core.contracts import ApprovalPolicy, Decision, GateVerdict, SandboxMode
from policies.gitargv import git_forms, git_overrides, unknown_subcommand
from policies.heuristics import danger, is_known_safe, propose_prefix
from policies.loading import build_gate, load_rules, rule_files
from policies.placement import unconfined_ok
from policies.policy import DECISION_RANK, Policy, RuleMatch
from policies.shell import Analysis, SimpleCommand, analyse

if TYPE_CHECKING:
    from orchestrator.settings.schema import Settings

__all__ = ["Gate", "build_gate", "gate_for", "rule_files", "load_rules"]

_DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty")


def gate_for(policy: Policy, settings: Settings, *, notices: tuple[str, ...] = (),
             rule_files: tuple[Path, ...] = ()) -> Gate:
    """A gate over an already loaded ``policy``, with the approval policy and sandbox settings of ``settings``."""
    roots = tuple(Path(os.path.expanduser(r)) for r in settings.sandbox.writable_roots)
    return Gate(policy, approval_policy=settings.approval_policy, sandbox_mode=settings.sandbox_mode,
                writable_roots=roots, protect_git=settings.sandbox.protect_git, notices=notices,
                rule_files=rule_files, unconfined=settings.sandbox.unconfined_prefixes)


@dataclass
class _Finding:
    decision: Decision
    reason: str
    record: dict[str, Any]


@dataclass
class _Outcome:
    findings: list[_Finding] = field(default_factory=list)
    explicit_allow: bool = True  # every leaf command matched an allow rule (or was approved for the session)
    amendment: tuple[str, ...] | None = None
    prompt_rule: bool = False  # a rule itself prompts: always-allowing a prefix would not help


class Gate:
    """Implements ``seams.PolicyGate``. Cheap to call: rules are indexed by program; plain argv never parse."""

    def __init__(self, policy: Policy, *, approval_policy: ApprovalPolicy = "on-request",
                 sandbox_mode: SandboxMode = "workspace-write", writable_roots: Sequence[Path] = (),
                 protect_git: bool = True, notices: tuple[str, ...] = (), rule_files: tuple[Path, ...] = (),
                 unconfined: Sequence[Sequence[str]] = ()) -> None:
        self.policy = policy
        self.unconfined = tuple(tuple(p) for p in unconfined if p)
        self.approval_policy: ApprovalPolicy = approval_policy
        self.sandbox_mode: SandboxMode = sandbox_mode
        self.protect_git = protect_git
        self.notices = notices
        self.rule_files = rule_files
        temp = {Path(tempfile.gettempdir()), Path("/tmp")}
        self._roots = tuple(str(p) for p in (*writable_roots, *sorted(temp)))
        self._session: list[tuple[str, ...]] = []

    def remember_for_session(self, prefix: Sequence[str]) -> None:
        """Commands starting with ``prefix`` (or scripts equal to it) stop prompting for this session."""
        key = tuple(prefix)
        if key and key not in self._session:
            self._session.append(key)

    def add_allow_rule(self, prefix: Sequence[str], origin: str) -> None:
        """Make an ``always allow`` amendment (already appended to ``origin``) effective in this gate too."""
        self.policy.add_prefix_rule(list(prefix), "allow", origin)

    def _session_match(self, argv: Sequence[str]) -> bool:
        return any(len(argv) >= len(p) and tuple(argv[:len(p)]) == p for p in self._session)

    # ---------------------------------------------------------------------------------------------- evaluate

    def evaluate(self, argv: Sequence[str], *, cwd: Path) -> GateVerdict:
        analysis = analyse(argv)
        outcome = _Outcome()
        for command in analysis.commands:
            self._judge(command, analysis, outcome, cwd)
        self._script_findings(analysis, cwd, outcome)
        leaves = analysis.leaves
        # Approved for the session as a whole script, or every command in it was: prompts no longer apply.
        session_script = self._session_match(argv) or (
            bool(self._session) and bool(leaves) and all(self._session_match(c.argv) for c in leaves))
        findings = outcome.findings
        if session_script:
            findings = [f if f.decision != "prompt" else _Finding("allow", f.reason, f.record) for f in findings]
        decision: Decision = "allow"
        for finding in findings:
            if DECISION_RANK[finding.decision] > DECISION_RANK[decision]:
                decision = finding.decision
        reason = "; ".join(dict.fromkeys(f.reason for f in findings if f.decision == decision)) or "nothing to run"
        if decision == "prompt" and self.approval_policy == "never":
            decision, reason = "forbidden", f"approval required but the approval policy is `never`: {reason}"
        bypass = self._unconfined(analysis, decision, outcome.explicit_allow or session_script, cwd)
        if bypass:
            reason += "; runs outside the sandbox ([sandbox] unconfined_prefixes)"
        amendment = outcome.amendment if decision == "prompt" and not outcome.prompt_rule else None
        # Built from values of exactly the declared types (test_verdicts_are_valid_models checks it), so pydantic's
        # validation, a tenth of a plain command's cost, is skipped on this hot path.
        return GateVerdict.model_construct(
            decision=decision,
            commands=tuple(c.argv for c in leaves),
            bypass_sandbox=bypass,
            reason=reason,
            proposed_amendment=amendment,
            matched_rules=tuple(f.record for f in findings),
        )

    def _unconfined(self, analysis: Analysis, decision: Decision, explicit: bool, cwd: Path) -> bool:
        """Outside the sandbox only by the user's opt-in (``unconfined_prefixes``), for a command the user permitted
        by name (an allow rule, a session approval) or is about to approve at a prompt, never by heuristics or the
        approval policy alone, and never for a command the agent can bend (:mod:`policies.placement`)."""
        if not self.unconfined or decision == "forbidden" or (decision == "allow" and not explicit):
            return False
        return unconfined_ok(analysis, self.unconfined, (str(cwd), *self._roots)) is None

    def _judge(self, command: SimpleCommand, analysis: Analysis, outcome: _Outcome, cwd: Path) -> None:
        argv = command.argv
        matches = self.policy.gate_matches(argv, wild=command.wild, open_tail=command.open_tail)
        git = (argv[0] == "git" or argv[0].endswith("/git")) and self._restricts("git")
        if git:
            matches += self._git_restrictions(command, matches)
            self._git_alias(command, analysis, matches, outcome)
        session = self._session_match(argv)
        if matches:
            self._rule_findings(argv, matches, session, outcome, wrapper=command.wrapper)
            return
        if command.wrapper:
            return  # a wrapper nothing restricts: its inner command decides
        if session:
            outcome.findings.append(_Finding("allow", f"`{_show(argv)}` was allowed for this session",
                                             {"kind": "session", "command": list(argv), "decision": "allow"}))
            return
        outcome.explicit_allow = False
        self._heuristic_finding(command, outcome, cwd)

    def _restricts(self, program: str) -> bool:
        return any(r.decision != "allow" for r in self.policy.rules_by_program.get(program, ()))

    def _git_restrictions(self, command: SimpleCommand, found: list[RuleMatch]) -> list[RuleMatch]:
        """Restrictive rules matched by other spellings of a git command (:func:`policies.gitargv.git_forms`)."""
        seen = {id(m.rule) for m in found}
        extra: list[RuleMatch] = []
        for form, wild in git_forms(command.argv, command.wild):
            for m in self.policy.gate_matches(form, wild=wild, open_tail=command.open_tail):
                if m.decision != "allow" and id(m.rule) not in seen:
                    seen.add(id(m.rule))
                    extra.append(m)
        return extra

    def _git_alias(self, command: SimpleCommand, analysis: Analysis, matches: list[RuleMatch],
                   outcome: _Outcome) -> None:
        """``git NAME`` where git has no command NAME is an alias (or a ``git-NAME`` program): what it runs is in
        git configuration, so a rule restricting git cannot be checked. An allow rule naming it exactly vouches for
        it, unless the agent could have redefined it (``-c``, ``-C``, ``GIT_*`` variables)."""
        name = unknown_subcommand(command.argv)
        if name is None or command.wrapper:
            return
        vouched = any(m.decision == "allow" for m in matches)
        overrides = git_overrides(command.argv, command.env) + sorted(n for n in analysis.assigned
                                                                      if n.startswith("GIT_"))
        if vouched and not overrides:
            return
        reason = (f"`{_show(command.argv)}`: `{name}` is not a git command; it may be an alias for one a rule "
                  "restricts")
        outcome.findings.append(_Finding("prompt", reason, {"kind": "git-alias", "command": list(command.argv),
                                                            "decision": "prompt"}))
        if overrides:
            outcome.prompt_rule = True  # an allow rule would not help: the alias is redefined on the spot
        elif outcome.amendment is None:
            outcome.amendment = tuple(command.argv[:command.argv.index(name) + 1])

    def _rule_findings(self, argv: Sequence[str], matches: list[RuleMatch], session: bool, outcome: _Outcome,
                       *, wrapper: bool) -> None:
        strictest = max(DECISION_RANK[m.decision] for m in matches)
        for m in matches:
            decision: Decision = m.decision
            if decision == "prompt" and session:
                decision = "allow"
            where = f" ({m.rule.origin})" if m.rule.origin else ""
            why = f": {m.justification}" if m.justification else ""
            verb = {"allow": "allowed", "prompt": "needs approval", "forbidden": "is forbidden"}[m.decision]
            record = {"kind": "rule", "command": list(argv), "rule": m.rule.render(), "origin": m.rule.origin,
                      **m.to_codex()}
            outcome.findings.append(_Finding(decision, f"`{_show(argv)}` {verb} by rule{where}{why}", record))
            outcome.prompt_rule = outcome.prompt_rule or decision == "prompt"
        if not wrapper and strictest != DECISION_RANK["allow"]:
            outcome.explicit_allow = False

    def _heuristic_finding(self, command: SimpleCommand, outcome: _Outcome, cwd: Path) -> None:
        argv = command.argv
        dynamic = bool(command.wild) or command.open_tail
        record: dict[str, Any] = {"kind": "heuristic", "command": list(argv)}
        decision: Decision
        # A program the agent could have written (`./ls`, a path in the workspace) is never known to be safe.
        safe = is_known_safe(argv, dynamic=dynamic, env=command.env) and not self._writable_program(argv[0], cwd)
        why = None if safe else danger(argv, dynamic=dynamic)
        hidden = None if safe or why else self._hidden_restriction(argv)
        if safe:
            decision, kind, reason = "allow", "safe", f"`{_show(argv)}` is a known-safe read-only command"
        elif why is not None:
            decision, kind, reason = "prompt", "dangerous", f"`{_show(argv)}` looks destructive: {why}"
        elif hidden is not None:
            decision, kind, reason = "prompt", "hidden-command", hidden
        elif self.approval_policy == "untrusted":
            decision, kind = "prompt", "approval-policy"
            setting = f" (with {', '.join(command.env)} set)" if command.env else ""
            reason = f"`{_show(argv)}`{setting} is not a known-safe command (approval policy `untrusted`)"
        else:
            decision, kind = "allow", "approval-policy"
            reason = f"`{_show(argv)}` runs in the sandbox (approval policy `{self.approval_policy}`)"
        record["heuristic"] = kind
        record["decision"] = decision
        outcome.findings.append(_Finding(decision, reason, record))
        if decision == "prompt" and outcome.amendment is None:
            outcome.amendment = propose_prefix(argv)

    def _writable_program(self, program: str, cwd: Path) -> bool:
        if "/" not in program:
            return False
        path = os.path.normpath(os.path.expanduser(program))
        roots = (str(cwd), *self._roots)
        return not os.path.isabs(path) or any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def _hidden_restriction(self, argv: Sequence[str]) -> str | None:
        """An argument that starts a command a rule restricts (``stdbuf -o0 git push``): unknown wrappers must not
        become a way around a rule."""
        for start in range(1, len(argv)):
            if argv[start] in self.policy.rules_by_program:
                found = [m for m in self.policy.gate_matches(argv[start:]) if m.decision != "allow"]
                if found:
                    return f"`{_show(argv)}` may run `{_show(found[0].matched_prefix)}`, which a rule restricts"
        return None

    def _script_findings(self, analysis: Analysis, cwd: Path, outcome: _Outcome) -> None:
        for why in dict.fromkeys(analysis.opaque):
            outcome.findings.append(_Finding("prompt", f"the script cannot be fully analysed: {why}",
                                             {"kind": "opaque", "reason": why, "decision": "prompt"}))
            outcome.prompt_rule = True
        if self.sandbox_mode == "danger-full-access":
            return
        for target in analysis.writes:
            if self._outside(target, cwd, analysis.cd_targets):
                shown = target if target is not None else "(a path only known at run time)"
                outcome.findings.append(_Finding("prompt", f"redirects output into {shown}, outside the writable roots",
                                                 {"kind": "write", "target": target, "decision": "prompt"}))
                outcome.prompt_rule = True

    def _outside(self, target: str | None, cwd: Path, cd_targets: Sequence[str | None]) -> bool:
        if target is None:
            return True
        target = os.path.expanduser(target)
        if target in _DEVICES or target.startswith("/dev/fd/"):
            return False
        if os.path.isabs(target):
            paths = [os.path.normpath(target)]
        elif None in cd_targets:
            return True
        else:
            bases = [str(cwd), *(os.path.join(str(cwd), os.path.expanduser(d)) for d in cd_targets if d is not None)]
            paths = [os.path.normpath(os.path.join(base, target)) for base in bases]
        roots = () if self.sandbox_mode == "read-only" else (str(cwd), *self._roots)
        return any(not self._writable(path, roots, str(cwd)) for path in paths)

    def _writable(self, path: str, roots: Sequence[str], cwd: str) -> bool:
        if self.protect_git:
            for protected in (os.path.join(cwd, ".git"), os.path.join(cwd, ".orchestrate")):
                if path == protected or path.startswith(protected + "/"):
                    return False
        return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _show(argv: Sequence[str]) -> str:
    text = shlex.join(argv)
    return text if len(text) <= 120 else text[:117] + "..."
