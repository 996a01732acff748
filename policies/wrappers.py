"""Command wrappers: programs whose arguments are another command (``sudo git push``, ``bash -lc "..."``).

:func:`unwrap` looks at one argv and says what it runs: another argv (:class:`Inner`), a shell script given with
``-c`` (:class:`Script`), commands read from standard input (:class:`Stdin`), something no static analysis can see
(:class:`Opaque`), or ``None`` when the program is not a wrapper. Options are parsed the way each wrapper parses them,
so ``sudo -u root env A=1 timeout -s KILL 5 git push`` reaches ``git push``. Pure Python, no parser needed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

__all__ = ["Inner", "Script", "Stdin", "Opaque", "Runs", "Unwrapped", "SHELLS", "unwrap", "is_assignment",
           "skip_options"]

SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "ash", "mksh", "yash", "posh", "rbash"})
# Shells whose -c script is not bash syntax: what they run cannot be analysed here.
_FOREIGN_SHELLS = frozenset({"fish", "csh", "tcsh", "pwsh", "powershell", "nu", "xonsh", "elvish", "rc", "es"})


@dataclass(frozen=True, slots=True)
class Inner:
    argv: tuple[str, ...]
    wild: frozenset[int] = frozenset()  # positions only known at run time
    open_tail: bool = False  # more arguments are appended at run time (xargs)
    env: tuple[str, ...] = ()  # environment variables the wrapper sets for it (env A=1, sudo A=1)


@dataclass(frozen=True, slots=True)
class Script:
    text: str


@dataclass(frozen=True, slots=True)
class Stdin:
    """A shell that reads its commands from standard input (``curl ... | sh``, ``bash <<EOF``)."""


@dataclass(frozen=True, slots=True)
class Opaque:
    reason: str


@dataclass(frozen=True, slots=True)
class Runs:
    """A program that is a command in its own right *and* runs others (``find -exec``, ``git rebase -x``)."""

    items: tuple[Inner | Script | Opaque, ...]


Unwrapped = Inner | Script | Stdin | Opaque | Runs


def _inner(argv: Sequence[str], wild: frozenset[int], start: int, open_tail: bool = False) -> Inner | Opaque | None:
    """The command from ``argv[start:]`` (``None`` if there is none): wild positions are shifted along."""
    if start >= len(argv):
        return None
    if start in wild:
        return Opaque(f"`{os.path.basename(argv[0])}` runs a command only known at run time ({argv[start]})")
    shifted = frozenset(i - start for i in wild if i >= start)
    return Inner(tuple(argv[start:]), shifted, open_tail)


def is_assignment(token: str) -> bool:
    name, sep, _ = token.partition("=")
    return bool(sep) and name.replace("_", "a").isalnum() and not name[0].isdigit()


def skip_options(argv: Sequence[str], start: int, with_value: frozenset[str], long_with_value: frozenset[str]) -> int:
    """Index of the first operand after getopt-style options (``--`` ends them)."""
    i = start
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return i + 1
        if not token.startswith("-") or token == "-":
            return i
        if token.startswith("--"):
            name = token.split("=", 1)[0]
            i += 2 if name in long_with_value and "=" not in token else 1
            continue
        # A cluster like -un: the first option taking a value consumes the rest of the token or the next one.
        for j, letter in enumerate(token[1:], start=1):
            if letter in with_value:
                i += 1 if j + 1 < len(token) else 2
                break
        else:
            i += 1
    return i


_SUDO_VALUE = frozenset("ugCDprtTUh")
_SUDO_LONG = frozenset({"--user", "--group", "--close-from", "--chdir", "--prompt", "--role", "--type",
                        "--command-timeout", "--other-user", "--host"})


def _sudo(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    for token in argv[1:]:
        if not token.startswith("-") or token == "--":
            break
        if token in ("-e", "--edit", "-l", "--list", "-v", "--validate", "-k", "-K", "--reset-timestamp",
                     "--remove-timestamp", "-V", "--version"):
            return None  # sudoedit, listing, credential upkeep: not running the operand
    start = i = skip_options(argv, 1, _SUDO_VALUE, _SUDO_LONG)
    while i < len(argv) and is_assignment(argv[i]) and i not in wild:
        i += 1
    if i >= len(argv) and any(t in ("-s", "--shell", "-i", "--login") for t in argv[1:]):
        return Stdin()
    inner = _inner(argv, wild, i)
    names = tuple(t.partition("=")[0] for t in argv[start:i])
    return Inner(inner.argv, inner.wild, inner.open_tail, names) if isinstance(inner, Inner) and names else inner


def _timeout(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    i = skip_options(argv, 1, frozenset("sk"), frozenset({"--signal", "--kill-after"}))
    return _inner(argv, wild, i + 1)  # skip DURATION


def _nice(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    i = 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        token = argv[i]
        i += 2 if token in ("-n", "--adjustment") else 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    return _inner(argv, wild, i)


def _command(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    i = 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        if "v" in argv[i] or "V" in argv[i]:
            return None  # `command -v git` only looks git up
        i += 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    return _inner(argv, wild, i)


def _exec(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    return _inner(argv, wild, skip_options(argv, 1, frozenset("a"), frozenset()))


def _plain(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    i = 2 if len(argv) > 1 and argv[1] == "--" else 1
    return _inner(argv, wild, i)


def _ionice(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    return _inner(argv, wild, skip_options(argv, 1, frozenset("cnpPu"), frozenset({"--class", "--classdata"})))


def _time(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    i = skip_options(argv, 1, frozenset("fo"), frozenset({"--format", "--output"}))
    return _inner(argv, wild, i)


def _stdbuf(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    return _inner(argv, wild, skip_options(argv, 1, frozenset("ioe"), frozenset({"--input", "--output", "--error"})))


_XARGS_VALUE = frozenset("adEILnPs")
_XARGS_LONG = frozenset({"--arg-file", "--delimiter", "--max-lines", "--max-args", "--max-procs", "--max-chars",
                         "--process-slot-var", "--replace", "--eof"})


def _xargs(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    i = skip_options(argv, 1, _XARGS_VALUE, _XARGS_LONG)
    replace = None
    for j, token in enumerate(argv[1:i], start=1):
        if token == "-I" and j + 1 < len(argv):
            replace = argv[j + 1]
        elif token.startswith("-I") and len(token) > 2:
            replace = token[2:]
        elif token in ("-i", "--replace"):
            replace = "{}"
    if i >= len(argv):
        return Inner(("echo",), frozenset(), True)
    inner = _inner(argv, wild, i, open_tail=True)
    if isinstance(inner, Inner) and replace:
        extra = frozenset(k for k, token in enumerate(inner.argv) if replace in token)
        if 0 in extra:
            return Opaque("`xargs -I` builds the command name at run time")
        inner = Inner(inner.argv, inner.wild | extra, True)
    return inner


def _shell(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    has_c = reads_stdin = False
    i = 1
    while i < len(argv):
        token = argv[i]
        if token in {"--", "-"}:
            i += 1
            break
        if token.startswith("--"):
            i += 2 if token in ("--rcfile", "--init-file") else 1
            continue
        if not token.startswith(("-", "+")) or len(token) == 1:
            break
        letters = token[1:]
        has_c = has_c or "c" in letters
        reads_stdin = reads_stdin or "s" in letters
        i += 2 if ("o" in letters or "O" in letters) else 1
    if has_c:
        if i >= len(argv):
            return None
        if i in wild:
            return Opaque(f"`{os.path.basename(argv[0])} -c` runs a script only known at run time")
        return Script(argv[i])
    if i >= len(argv) or reads_stdin:
        return Stdin()
    return None  # `bash script.sh`: a program like any other


def _eval(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    if len(argv) < 2:
        return None
    if wild:
        return Opaque("`eval` of text only known at run time")
    return Script(" ".join(argv[1:]))


class _RunsFn(Protocol):
    names: frozenset[str]

    def __call__(self, name: str, argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None: ...


_WRAPPERS = {
    "sudo": _sudo, "doas": _sudo, "timeout": _timeout, "nice": _nice, "ionice": _ionice,
    "nohup": _plain, "command": _command, "exec": _exec, "xargs": _xargs, "time": _time,
    "stdbuf": _stdbuf, "eval": _eval, "builtin": _plain,
}


def unwrap(argv: Sequence[str], wild: frozenset[int] = frozenset()) -> Unwrapped | None:
    """What ``argv`` runs if its program is a wrapper; ``None`` if it is not one (or runs nothing)."""
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    if name in SHELLS:
        return _shell(argv, wild)
    if name in _FOREIGN_SHELLS:
        foreign = any(t.lower() in ("-c", "-command", "--command") for t in argv[1:])
        return Opaque(f"`{name}` runs a script in another shell language") if foreign else None
    handler = _WRAPPERS.get(name)
    if handler is not None:
        return handler(argv, wild)
    runs = _runners()
    return runs(name, argv, wild) if name in runs.names or name.startswith("git-") else None


@cache
def _runners() -> _RunsFn:
    """:func:`policies.runners.runs`, imported once (it imports this module) and kept: the gate's hot path."""
    from policies.runners import runs

    return runs
