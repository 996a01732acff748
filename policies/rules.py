"""Load Codex ``.rules`` files: real Starlark (starlark-rust via ``starlark-pyo3``), Codex's builtins and checks.

This is the only module that imports ``starlark``. Files are evaluated with Codex's dialect (Starlark "extended" with
f-strings), so variables, lists, comprehensions and ``def`` work. The builtins are Codex's, with the same signatures
(positional or keyword; an unknown keyword is an error): ``prefix_rule(pattern, decision="allow", match=None,
not_match=None, justification=None)``, ``host_executable(name, paths)``, ``network_rule(host, protocol, decision,
justification=None)``. As in Codex, a file's ``match``/``not_match`` examples are checked once the whole file has
been evaluated, each only against the rules of its own ``prefix_rule`` call (``not_match`` first), with host
executables resolved. Any problem raises :class:`~orchestrator.core.errors.PolicyLoadError` naming ``file:line``; a load
never yields a partial or empty policy silently.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.core.errors import Location, PolicyLoadError
from policies.policy import Decision, NetworkRule, Policy, PrefixRule

__all__ = ["RulesLoader", "load_policy"]

_PRELUDE_NAME = "<orchestrate-builtins>"
# The builtins are thin Starlark wrappers so Starlark itself checks arity and keyword names exactly as for a native
# builtin, and so each call can report where it was made (call_stack) for errors found after evaluation.
_PRELUDE = """
def __orchestrate_shape(v):
    if type(v) != "list":
        return type(v)
    return [[type(y) for y in x] if type(x) == "list" else type(x) for x in v]

def prefix_rule(pattern, decision = None, match = None, not_match = None, justification = None):
    __orchestrate_prefix_rule(pattern, __orchestrate_shape(pattern), decision, match, __orchestrate_shape(match),
                              not_match, __orchestrate_shape(not_match), justification, call_stack())

def host_executable(name, paths):
    __orchestrate_host_executable(name, paths, __orchestrate_shape(paths))

def network_rule(host, protocol, decision, justification = None):
    __orchestrate_network_rule(host, protocol, decision, justification)
"""
_FRAME = re.compile(r"^\s*\* (.*):(\d+), in ", re.MULTILINE)
_ARROW = re.compile(r"^\s*--> (.*):(\d+):\d+", re.MULTILINE)
_PROTOCOLS = {"http": "http", "https": "https", "https_connect": "https", "http-connect": "https",
              "socks5_tcp": "socks5_tcp", "socks5_udp": "socks5_udp"}


class _RuleError(Exception):
    """Raised from inside a builtin; the loader re-raises it as PolicyLoadError with the call's location."""


@dataclass
class _Pending:
    rules: list[PrefixRule]
    matches: list[list[str]]
    not_matches: list[list[str]]
    line: int | None


def _type_name(value: Any) -> str:
    names = {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "dict",
             type(None): "NoneType"}
    return names.get(type(value), type(value).__name__)


def _decision(raw: Any, *, network: bool = False) -> Decision:
    if raw is None and not network:
        return "allow"
    if not isinstance(raw, str):
        raise _RuleError(f"invalid decision: expected a string (got {_type_name(raw)})")
    if network and raw == "deny":
        return "forbidden"
    if raw in ("allow", "prompt", "forbidden"):
        return raw  # type: ignore[return-value]
    raise _RuleError(f"invalid decision: {raw}")


def _justification(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _RuleError(f"invalid rule: justification must be a string (got {_type_name(raw)})")
    if not raw.strip():
        raise _RuleError("invalid rule: justification cannot be empty")
    return raw


def _pattern(pattern: Any, shape: Any) -> list[tuple[str, ...]]:
    if not isinstance(shape, list):
        raise _RuleError(f"invalid pattern element: pattern must be a list (got {shape})")
    tokens: list[tuple[str, ...]] = []
    for value, kind in zip(pattern, shape, strict=True):
        if kind == "string":
            tokens.append((value,))
        elif isinstance(kind, list):
            bad = next((k for k in kind if k != "string"), None)
            if bad is not None:
                raise _RuleError(f"invalid pattern element: pattern alternative must be a string (got {bad})")
            if not value:
                raise _RuleError("invalid pattern element: pattern alternatives cannot be empty")
            tokens.append(tuple(value))
        else:
            raise _RuleError(
                f"invalid pattern element: pattern element must be a string or list of strings (got {kind})"
            )
    if not tokens:
        raise _RuleError("invalid pattern element: pattern cannot be empty")
    return tokens


def _examples(values: Any, shape: Any, name: str) -> list[list[str]]:
    if values is None:
        return []
    if not isinstance(shape, list):
        raise _RuleError(f"invalid example: `{name}` must be a list of examples (got {shape})")
    examples: list[list[str]] = []
    for value, kind in zip(values, shape, strict=True):
        if kind == "string":
            try:
                tokens = shlex.split(value, comments=True)
            except ValueError:
                raise _RuleError("invalid example: example string has invalid shell syntax") from None
            if not tokens:
                raise _RuleError("invalid example: example cannot be an empty string")
        elif isinstance(kind, list):
            bad = next((k for k in kind if k != "string"), None)
            if bad is not None:
                raise _RuleError(f"invalid example: example tokens must be strings (got {bad})")
            if not value:
                raise _RuleError("invalid example: example cannot be an empty list")
            tokens = list(value)
        else:
            raise _RuleError(f"invalid example: example must be a string or list of strings (got {kind})")
        examples.append(tokens)
    return examples


def _network_host(raw: Any) -> str:
    if not isinstance(raw, str):
        raise _RuleError(f"invalid rule: network_rule host must be a string (got {_type_name(raw)})")
    host = raw.strip()
    if not host:
        raise _RuleError("invalid rule: network_rule host cannot be empty")
    if any(c in host for c in ("://", "/", "?", "#")):
        raise _RuleError("invalid rule: network_rule host must be a hostname or IP literal (without scheme or path)")
    if host.startswith("["):
        inside, sep, rest = host[1:].partition("]")
        if not sep:
            raise _RuleError("invalid rule: network_rule host has an invalid bracketed IPv6 literal")
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            raise _RuleError(f"invalid rule: network_rule host contains an unsupported suffix: {raw}")
        host = inside
    elif host.count(":") == 1:
        candidate, _, port = host.rpartition(":")
        if candidate and port.isdigit():
            host = candidate
    normalized = host.rstrip(".").strip().lower()
    if not normalized:
        raise _RuleError("invalid rule: network_rule host cannot be empty")
    if "*" in normalized:
        raise _RuleError("invalid rule: network_rule host must be a specific host; wildcards are not allowed")
    if any(c.isspace() for c in normalized):
        raise _RuleError("invalid rule: network_rule host cannot contain whitespace")
    return normalized


def _call_line(stack: str, identifier: str) -> int | None:
    """The line of the innermost frame of ``stack`` (a Starlark traceback) that is in ``identifier``."""
    line = None
    for match in _FRAME.finditer(stack):
        if match.group(1) == identifier:
            line = int(match.group(2))
    return line


class RulesLoader:
    """Accumulates rules files into one :class:`Policy`, in the order they are loaded (like Codex's PolicyParser)."""

    def __init__(self) -> None:
        self.policy = Policy()
        self._identifier = ""
        self._pending: list[_Pending] = []
        self._error: _RuleError | None = None
        self._prelude: Any = None

    def load_file(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise PolicyLoadError(f"cannot read rules file: {reason}", location=Location(path)) from None
        self.load_text(str(path), text)

    def load_text(self, identifier: str, text: str) -> None:
        """Evaluate one file's source; ``identifier`` names it in errors (Codex passes the path)."""
        import starlark

        self._identifier, self._pending, self._error = identifier, [], None
        dialect = starlark.Dialect.extended()
        dialect.enable_f_strings = True
        globals_ = starlark.Globals.extended_by([starlark.LibraryExtension.CallStack])
        module = starlark.Module()
        module.add_callable("__orchestrate_prefix_rule", self._prefix_rule)
        module.add_callable("__orchestrate_host_executable", self._host_executable)
        module.add_callable("__orchestrate_network_rule", self._network_rule)
        try:
            if self._prelude is None:
                self._prelude = starlark.parse(_PRELUDE_NAME, _PRELUDE, dialect)
            starlark.eval(module, self._prelude, globals_)
            starlark.eval(module, starlark.parse(identifier, text, dialect), globals_)
        except starlark.StarlarkError as exc:
            raise self._load_error(str(exc), text) from None
        for pending in self._pending:
            try:
                self._validate_examples(pending)
            except _RuleError as exc:
                raise PolicyLoadError(str(exc), location=Location(identifier, pending.line)) from None

    def _load_error(self, report: str, text: str) -> PolicyLoadError:
        line = _call_line(report, self._identifier)
        if self._error is not None:
            return PolicyLoadError(str(self._error), location=Location(self._identifier, line))
        message = next((ln[len("error: "):] for ln in report.splitlines() if ln.startswith("error: ")), report.strip())
        if line is None:
            arrow = next((m for m in _ARROW.finditer(report) if m.group(1) == self._identifier), None)
            line = int(arrow.group(2)) if arrow else None
            # starlark-rust points an unexpected end of input at 1:1 with no snippet; the end of the file is meant.
            if line == 1 and "Parse error" in message and "\n1 |" not in report:
                line = max(1, len(text.rstrip().splitlines()))
        message = message.replace(f"{_PRELUDE_NAME}.", "").strip()
        return PolicyLoadError(message, location=Location(self._identifier, line))

    def _fail(self, message: str) -> _RuleError:
        self._error = _RuleError(message)
        return self._error

    # --------------------------------------------------------------------------------------------- builtins

    def _prefix_rule(  # noqa: PLR0917 (Starlark calls builtins positionally)
        self, pattern: Any, pattern_shape: Any, decision: Any, match: Any, match_shape: Any,
        not_match: Any, not_match_shape: Any, justification: Any, stack: str,
    ) -> None:
        try:
            verdict = _decision(decision)
            reason = _justification(justification)
            tokens = _pattern(pattern, pattern_shape)
            matches = _examples(match, match_shape, "match")
            not_matches = _examples(not_match, not_match_shape, "not_match")
        except _RuleError as exc:
            raise self._fail(str(exc)) from None
        line = _call_line(stack, self._identifier)
        origin = f"{self._identifier}:{line}" if line else self._identifier
        rest = tuple(tokens[1:])
        rules = [PrefixRule(head, rest, verdict, reason, origin) for head in tokens[0]]
        self._pending.append(_Pending(rules, matches, not_matches, line))
        for rule in rules:
            self.policy.add_rule(rule)

    def _host_executable(self, name: Any, paths: Any, paths_shape: Any) -> None:
        if not isinstance(name, str) or not name:
            raise self._fail("invalid rule: host_executable name cannot be empty")
        if "/" in name or name in (".", ".."):
            raise self._fail(f"invalid rule: host_executable name must be a bare executable name (got {name})")
        if not isinstance(paths_shape, list):
            raise self._fail(f"invalid rule: host_executable paths must be a list (got {paths_shape})")
        parsed: list[str] = []
        for raw, kind in zip(paths, paths_shape, strict=True):
            if kind != "string":
                raise self._fail(f"invalid rule: host_executable paths must be strings (got {kind})")
            if not (raw.startswith("/") or raw.startswith("~/")):
                raise self._fail(
                    f"invalid rule: host_executable paths must be absolute or use `~/...` home-relative syntax "
                    f"(got {raw})"
                )
            path = os.path.normpath(os.path.expanduser(raw))
            if os.path.basename(path) != name:
                raise self._fail(f"invalid rule: host_executable path `{raw}` must have basename `{name}`")
            if path not in parsed:
                parsed.append(path)
        self.policy.host_executables[name] = tuple(parsed)

    def _network_rule(self, host: Any, protocol: Any, decision: Any, justification: Any) -> None:
        try:
            if protocol not in _PROTOCOLS:
                raise _RuleError(
                    f"invalid rule: network_rule protocol must be one of http, https, socks5_tcp, socks5_udp "
                    f"(got {protocol})"
                )
            verdict = _decision(decision, network=True)
            reason = _justification(justification)
            normalized = _network_host(host)
        except _RuleError as exc:
            raise self._fail(str(exc)) from None
        self.policy.network_rules.append(NetworkRule(normalized, _PROTOCOLS[protocol], verdict, reason))

    # ---------------------------------------------------------------------------------------------- examples

    def _validate_examples(self, pending: _Pending) -> None:
        scope = Policy(host_executables=self.policy.host_executables)
        for rule in pending.rules:
            scope.add_rule(rule)
        for example in pending.not_matches:
            found = scope.matches(example, resolve_host_executables=True)
            if found:
                shown = found[0].rule.render()
                raise _RuleError(f"expected example to not match rule `{shown}`: {shlex.join(example)}")
        unmatched = [shlex.join(ex) for ex in pending.matches if not scope.matches(ex, resolve_host_executables=True)]
        if unmatched:
            rules = ", ".join(rule.render() for rule in pending.rules)
            raise _RuleError(
                f"expected every example to match at least one rule. rules: [{rules}]; unmatched examples: {unmatched}"
            )


def load_policy(paths: Iterable[Path]) -> Policy:
    """Load ``paths`` in order into one policy. Raises :class:`PolicyLoadError` naming ``file:line``."""
    loader = RulesLoader()
    for path in paths:
        loader.load_file(path)
    return loader.policy
