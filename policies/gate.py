"""The policy gate: every command an agent wants to run is decided here (``seams.PolicyGate``).

For one argv (usually ``["bash", "-lc", script]``) the gate finds every simple command the script runs
(:mod:`policies.shell`), matches each against the rules (:mod:`policies.policy`, the wrapper too), falls back to
heuristics and the approval policy for a command no rule matched, and takes the strictest answer. A script that cannot
be fully analysed, or that redirects into a file outside the writable roots, is never allowed by rules alone: it
prompts (and under ``never`` a prompt is refused). The sandbox is bypassed only when every command hit an explicit
allow rule and the approval policy is not ``untrusted``.

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

from orchestrator.seams import ApprovalPolicy, Decision, GateVerdict, SandboxMode
from policies.heuristics import danger, is_known_safe, propose_prefix
from policies.policy import DECISION_RANK, Policy, RuleMatch
from policies.shell import Analysis, SimpleCommand, analyse

if TYPE_CHECKING:
    from orchestrator.config_schema import Settings
    from orchestrator.home import Home

__all__ = ["Gate", "build_gate", "gate_for", "rule_files", "load_rules"]

_DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty")


def rule_files(home: Home, cwd: Path, project_root: Path, *, trusted: bool) -> tuple[list[Path], list[Path]]:
    """(files to load in order, project rules files skipped because the project is not trusted).

    Order: the shipped ``config/default.rules``, ``$ORCHESTRATE_HOME/rules/*.rules``, then each ``.orchestrate/rules``
    from the project root down to ``cwd``; each directory sorted by name.
    """
    from orchestrator.home import resource_path

    files = [resource_path("default.rules")]
    files.extend(sorted(home.rules_dir.glob("*.rules")))
    chain = [project_root]
    if cwd != project_root and project_root in cwd.parents:
        chain += [project_root.joinpath(*cwd.relative_to(project_root).parts[:i + 1])
                  for i in range(len(cwd.relative_to(project_root).parts))]
    project = [p for d in chain for p in sorted((d / ".orchestrate" / "rules").glob("*.rules"))]
    return (files + project, []) if trusted else (files, project)


def load_rules(home: Home, cwd: Path, project_root: Path, *, trusted: bool) -> tuple[Policy, list[Path], list[str]]:
    """Load the rules for a run: (policy, files loaded, notices for the user). Raises ``PolicyLoadError``."""
    from policies.rules import load_policy

    files, skipped = rule_files(home, cwd, project_root, trusted=trusted)
    notices = []
    if skipped:
        notices.append(f"{project_root} is not trusted: its .orchestrate/rules were not loaded "
                       f"(run `orchestrate trust {project_root}`)")
    return load_policy(files), files, notices


def build_gate(settings: Settings, *, home: Home, cwd: Path, project_root: Path, trusted: bool) -> Gate:
    """The gate for a run in ``cwd``: rules loaded (a load error raises ``PolicyLoadError``), policy from settings."""
    policy, files, notices = load_rules(home, cwd, project_root, trusted=trusted)
    return gate_for(policy, settings, notices=tuple(notices), rule_files=tuple(files))


def gate_for(policy: Policy, settings: Settings, *, notices: tuple[str, ...] = (),
             rule_files: tuple[Path, ...] = ()) -> Gate:
    """A gate over an already loaded ``policy``, with the approval policy and sandbox settings of ``settings``."""
    roots = tuple(Path(os.path.expanduser(r)) for r in settings.sandbox.writable_roots)
    return Gate(policy, approval_policy=settings.approval_policy, sandbox_mode=settings.sandbox_mode,
                writable_roots=roots, protect_git=settings.sandbox.protect_git, notices=notices,
                rule_files=rule_files)


@dataclass
class _Finding:
    decision: Decision
    reason: str
    record: dict[str, Any]


@dataclass
class _Outcome:
    findings: list[_Finding] = field(default_factory=list)
    explicit_allow: bool = True  # every leaf command matched an allow rule
    amendment: tuple[str, ...] | None = None
    prompt_rule: bool = False  # a rule itself prompts: always-allowing a prefix would not help


class Gate:
    """Implements ``seams.PolicyGate``. Cheap to call: rules are indexed by program; plain argv never parse."""

    def __init__(self, policy: Policy, *, approval_policy: ApprovalPolicy = "on-request",
                 sandbox_mode: SandboxMode = "workspace-write", writable_roots: Sequence[Path] = (),
                 protect_git: bool = True, notices: tuple[str, ...] = (), rule_files: tuple[Path, ...] = ()) -> None:
        self.policy = policy
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
            self._judge(command, outcome)
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
        bypass = (decision == "allow" and outcome.explicit_allow and bool(leaves) and not analysis.opaque
                  and self.approval_policy != "untrusted"
                  and all(f.record.get("kind") != "write" for f in findings))
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

    def _judge(self, command: SimpleCommand, outcome: _Outcome) -> None:
        argv = command.argv
        matches = self.policy.gate_matches(argv, wild=command.wild, open_tail=command.open_tail)
        session = self._session_match(argv)
        if matches:
            self._rule_findings(argv, matches, session, outcome, wrapper=command.wrapper)
            return
        if command.wrapper:
            return  # a wrapper nothing restricts: its inner command decides
        if session:
            outcome.findings.append(_Finding("allow", f"`{_show(argv)}` was allowed for this session",
                                             {"kind": "session", "command": list(argv), "decision": "allow"}))
            outcome.explicit_allow = False
            return
        outcome.explicit_allow = False
        self._heuristic_finding(command, outcome)

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

    def _heuristic_finding(self, command: SimpleCommand, outcome: _Outcome) -> None:
        argv = command.argv
        dynamic = bool(command.wild) or command.open_tail
        record: dict[str, Any] = {"kind": "heuristic", "command": list(argv)}
        decision: Decision
        safe = is_known_safe(argv, dynamic=dynamic)
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
            reason = f"`{_show(argv)}` is not a known-safe command (approval policy `untrusted`)"
        else:
            decision, kind = "allow", "approval-policy"
            reason = f"`{_show(argv)}` runs in the sandbox (approval policy `{self.approval_policy}`)"
        record["heuristic"] = kind
        record["decision"] = decision
        outcome.findings.append(_Finding(decision, reason, record))
        if decision == "prompt" and outcome.amendment is None:
            outcome.amendment = propose_prefix(argv)

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
