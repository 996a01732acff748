"""The loaded execpolicy: prefix rules indexed by program name, host executables, network rules.

Matching is Codex's execpolicy, exactly (``codex-rs/execpolicy``): a rule's first token must equal ``argv[0]``; each
later pattern position matches one argv token exactly (a position may list alternatives); extra trailing argv is fine
and a shorter argv never matches. Every matching rule is reported, in load order, and the effective decision is the
strictest (forbidden > prompt > allow). With host-executable resolution on, an absolute ``argv[0]`` that no rule names
exactly falls back to the rules of its basename, if ``host_executable`` allows that path.

:meth:`Policy.check_json` renders the ``execpolicy check`` JSON byte for byte as Codex's serde output does.
The gate's stricter matching (basename rules that restrict apply to any path; tokens the shell expands at run time
match any restrictive pattern token) is :meth:`Policy.gate_matches`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Decision",
    "DECISION_RANK",
    "strictest",
    "PrefixRule",
    "RuleMatch",
    "NetworkRule",
    "Policy",
]

Decision = Literal["allow", "prompt", "forbidden"]
DECISION_RANK: dict[str, int] = {"allow": 0, "prompt": 1, "forbidden": 2}


def strictest(decisions: Iterable[Decision]) -> Decision | None:
    """The strictest of ``decisions`` (forbidden > prompt > allow); ``None`` when there are none."""
    best: Decision | None = None
    for decision in decisions:
        if best is None or DECISION_RANK[decision] > DECISION_RANK[best]:
            best = decision
    return best


@dataclass(frozen=True, slots=True)
class PrefixRule:
    """One program's prefix rule. ``rest[i]`` holds the alternatives accepted at argv position ``i + 1``."""

    first: str
    rest: tuple[tuple[str, ...], ...]
    decision: Decision
    justification: str | None = None
    origin: str = ""  # "file:line" of the prefix_rule call, for reasons and events
    text: str = field(default="", compare=False, repr=False)  # render(), computed once

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(self, "text", self._render())

    def match(self, argv: Sequence[str]) -> tuple[str, ...] | None:
        """The matched prefix of ``argv`` (whose ``argv[0]`` is already known to equal :attr:`first`), or ``None``."""
        n = len(self.rest) + 1
        if len(argv) < n:
            return None
        for position, alternatives in enumerate(self.rest, start=1):
            if argv[position] not in alternatives:
                return None
        return tuple(argv[:n])

    def match_dynamic(self, argv: Sequence[str], wild: frozenset[int], open_tail: bool) -> tuple[str, ...] | None:
        """Like :meth:`match`, where positions in ``wild`` (and, with ``open_tail``, missing trailing positions) are
        tokens the shell only knows at run time. Restrictive rules treat them as matching anything; allow rules never
        match through them (so an expansion can neither dodge a restriction nor earn an allowance)."""
        n = len(self.rest) + 1
        restrictive = self.decision != "allow"
        if len(argv) < n and not (open_tail and restrictive):
            return None
        for position, alternatives in enumerate(self.rest, start=1):
            if position >= len(argv) or position in wild:
                if not restrictive:
                    return None
                continue
            if argv[position] not in alternatives:
                return None
        return tuple(argv[:n])

    def render(self) -> str:
        """The rule as Starlark source (cached)."""
        return self.text

    def _render(self) -> str:
        """The rule as Starlark source, e.g. ``prefix_rule(pattern=["git", ["push", "fetch"]], decision="prompt")``."""
        tokens = [json.dumps(self.first, ensure_ascii=False)]
        for alternatives in self.rest:
            if len(alternatives) == 1:
                tokens.append(json.dumps(alternatives[0], ensure_ascii=False))
            else:
                tokens.append(json.dumps(list(alternatives), ensure_ascii=False))
        return f'prefix_rule(pattern=[{", ".join(tokens)}], decision="{self.decision}")'


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One rule that matched a command (Codex's ``RuleMatch::PrefixRuleMatch``)."""

    matched_prefix: tuple[str, ...]
    decision: Decision
    justification: str | None
    rule: PrefixRule
    resolved_program: str | None = None

    def to_codex(self) -> dict[str, Any]:
        """The serde shape: ``{"prefixRuleMatch": {matchedPrefix, decision, resolvedProgram?, justification?}}``."""
        body: dict[str, Any] = {"matchedPrefix": list(self.matched_prefix), "decision": self.decision}
        if self.resolved_program is not None:
            body["resolvedProgram"] = self.resolved_program
        if self.justification is not None:
            body["justification"] = self.justification
        return {"prefixRuleMatch": body}


@dataclass(frozen=True, slots=True)
class NetworkRule:
    host: str
    protocol: str
    decision: Decision
    justification: str | None = None


@dataclass
class Policy:
    """Rules indexed by program name (insertion order kept, so matches come out in load order)."""

    rules_by_program: dict[str, list[PrefixRule]] = field(default_factory=dict)
    host_executables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    network_rules: list[NetworkRule] = field(default_factory=list)

    def add_rule(self, rule: PrefixRule) -> None:
        self.rules_by_program.setdefault(rule.first, []).append(rule)

    def add_prefix_rule(self, prefix: Sequence[str], decision: Decision = "allow", origin: str = "") -> PrefixRule:
        """Add a plain prefix rule (as an appended ``prefix_rule(pattern=[...])`` would); returns it."""
        if not prefix:
            raise ValueError("prefix cannot be empty")
        rule = PrefixRule(prefix[0], tuple((token,) for token in prefix[1:]), decision, None, origin)
        self.add_rule(rule)
        return rule

    def __len__(self) -> int:
        return sum(len(rules) for rules in self.rules_by_program.values())

    # ------------------------------------------------------------------------------------------ Codex semantics

    def matches(self, argv: Sequence[str], *, resolve_host_executables: bool = False) -> list[RuleMatch]:
        """Codex's ``matches_for_command_with_options`` without a heuristics fallback."""
        if not argv:
            return []
        exact = self._exact(argv)
        if exact or not resolve_host_executables:
            return exact
        return self._host_executable(argv)

    def _exact(self, argv: Sequence[str]) -> list[RuleMatch]:
        found: list[RuleMatch] = []
        for rule in self.rules_by_program.get(argv[0], ()):
            prefix = rule.match(argv)
            if prefix is not None:
                found.append(RuleMatch(prefix, rule.decision, rule.justification, rule))
        return found

    def _host_executable(self, argv: Sequence[str]) -> list[RuleMatch]:
        first = argv[0]
        if not first.startswith("/"):
            return []
        program = os.path.normpath(first)
        basename = os.path.basename(program)
        rules = self.rules_by_program.get(basename)
        if not basename or not rules:
            return []
        allowed = self.host_executables.get(basename)
        if allowed is not None and program not in allowed:
            return []
        command = [basename, *argv[1:]]
        found: list[RuleMatch] = []
        for rule in rules:
            prefix = rule.match(command)
            if prefix is not None:
                found.append(RuleMatch(prefix, rule.decision, rule.justification, rule, program))
        return found

    @staticmethod
    def check_json(matches: Sequence[RuleMatch], *, pretty: bool = False) -> str:
        """The ``execpolicy check`` output exactly as Codex prints it (serde_json compact, or pretty with 2 spaces)."""
        output: dict[str, Any] = {"matchedRules": [m.to_codex() for m in matches]}
        decision = strictest(m.decision for m in matches)
        if decision is not None:
            output["decision"] = decision
        if pretty:
            return json.dumps(output, ensure_ascii=False, indent=2)
        return json.dumps(output, ensure_ascii=False, separators=(",", ":"))

    # -------------------------------------------------------------------------------------------- gate semantics

    def gate_matches(
        self, argv: Sequence[str], *, wild: frozenset[int] = frozenset(), open_tail: bool = False
    ) -> list[RuleMatch]:
        """Matches for the gate: exact rules, plus the basename's rules for a path ``argv[0]`` (``/usr/bin/git``,
        ``./git``). Basename prompt/forbidden rules apply whatever the path (an unlisted copy of ``git`` must not escape
        a restriction, as in Codex's restrictive host-rule matching); basename allow rules apply only to an absolute
        path that ``host_executable`` permits. ``wild``/``open_tail``: see :meth:`PrefixRule.match_dynamic`."""
        if not argv:
            return []
        first = argv[0]
        found = self._gate_rules(first, argv, wild, open_tail, allow_ok=True, resolved=None)
        if "/" in first:
            program = os.path.normpath(first)
            basename = os.path.basename(program)
            if basename and basename != first and basename in self.rules_by_program:
                allowed = self.host_executables.get(basename)
                allow_ok = first.startswith("/") and (allowed is None or program in allowed)
                command = [basename, *argv[1:]]
                resolved = program if first.startswith("/") else None
                found.extend(self._gate_rules(basename, command, wild, open_tail, allow_ok=allow_ok, resolved=resolved))
        return found

    def _gate_rules(
        self,
        program: str,
        argv: Sequence[str],
        wild: frozenset[int],
        open_tail: bool,
        *,
        allow_ok: bool,
        resolved: str | None,
    ) -> list[RuleMatch]:
        found: list[RuleMatch] = []
        dynamic = bool(wild) or open_tail
        for rule in self.rules_by_program.get(program, ()):
            if rule.decision == "allow" and not allow_ok:
                continue
            prefix = rule.match_dynamic(argv, wild, open_tail) if dynamic else rule.match(argv)
            if prefix is not None:
                found.append(RuleMatch(prefix, rule.decision, rule.justification, rule, resolved))
        return found
