"""Programs that run other programs, beyond the classic wrappers of :mod:`policies.wrappers`.

``env`` (option clusters such as ``-iS 'git push'``), ``find -exec``, ``git -c alias.x=... x``, ``flock``,
``chroot``, ``strace``, ``watch``, ``su -c`` ... each parsed the way the program parses its own options, so a rule
about the command they run still applies (``find . -exec git push \\;`` is ``git push``). A program that is a
command in its own right as well (``find``, ``git rebase -x``) comes back as :class:`~policies.wrappers.Runs`, so it
is judged itself too. Pure Python, no parser needed.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Sequence

from policies.gitargv import git_runs
from policies.wrappers import Inner, Opaque, Runs, Script, Stdin, Unwrapped, is_assignment, skip_options

__all__ = ["runs"]

_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
_NONE: frozenset[str] = frozenset()


def _from(argv: Sequence[str], wild: frozenset[int], start: int, *, open_tail: bool = False) -> Inner | Opaque | None:
    if start >= len(argv):
        return None
    if start in wild:
        return Opaque(f"`{os.path.basename(argv[0])}` runs a command only known at run time ({argv[start]})")
    return Inner(tuple(argv[start:]), frozenset(i - start for i in wild if i >= start), open_tail)


def _split_string(args: list[str], wild: frozenset[int], i: int, consumed: int, value: str
                  ) -> tuple[frozenset[int], Opaque | None]:
    """Splice ``env -S VALUE`` into ``args`` at ``i`` (GNU env splits it like a shell; ``${X}`` expands at run time)."""
    try:
        parts = shlex.split(value)
    except ValueError:
        return wild, Opaque("`env -S` string does not split")
    args[i : i + consumed] = parts
    shift = len(parts) - consumed
    moved = {w if w < i else w + shift for w in wild if w < i or w >= i + consumed}
    return frozenset(moved | {i + k for k, part in enumerate(parts) if "$" in part}), None


def _env(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    """GNU/BSD env: option clusters (``-iS 'git push'``), long options with ``=`` or a separate value, ``-S``
    strings spliced in and parsed again, then ``NAME=value`` assignments, then the command."""
    args = list(argv)
    i = 1
    while i < len(args) and i not in wild:
        token = args[i]
        if token == "--":
            i += 1
            break
        if token.startswith("--"):
            name, eq, value = token.partition("=")
            if name in ("--split-string", "--unset", "--chdir") and not eq:
                value, eq = (args[i + 1] if i + 1 < len(args) else ""), "+"
            consumed = 2 if eq == "+" else 1
            if name == "--split-string":
                wild, bad = _split_string(args, wild, i, consumed, value)
                if bad:
                    return bad
                continue
            i += consumed
            continue
        if token.startswith("-") and token != "-":
            split = _env_cluster(args, wild, i)
            if isinstance(split, Opaque):
                return split
            if isinstance(split, frozenset):
                wild = split
                continue
            i += split
            continue
        if token == "-" or is_assignment(token):
            i += 1
            continue
        break
    while i < len(args) and is_assignment(args[i]) and i not in wild:
        i += 1
    names = [t.partition("=")[0] for t in args[1:i] if is_assignment(t)]
    inner = _from(args, wild, i)
    return Inner(inner.argv, inner.wild, inner.open_tail, tuple(names)) if isinstance(inner, Inner) else inner


def _env_cluster(args: list[str], wild: frozenset[int], i: int) -> int | frozenset[int] | Opaque:
    """One short-option cluster at ``args[i]``: how many tokens it takes, or the new wild set after a ``-S`` split."""
    token = args[i]
    for j, letter in enumerate(token[1:], start=2):
        if letter in "uCS":
            value, consumed = token[j:], 1
            if not value:
                value, consumed = (args[i + 1] if i + 1 < len(args) else ""), 2
            if letter != "S":
                return consumed
            prefix = "-" + token[1:j - 1]
            if prefix != "-":  # keep the flags before S (e.g. -i) as their own token
                args[i:i + consumed] = [prefix, *args[i:i + consumed]]
                i, wild = i + 1, frozenset(w + 1 if w >= i else w for w in wild)
            new_wild, bad = _split_string(args, wild, i, consumed, value)
            return bad if bad else new_wild
    return 1


def _find(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    """``find ... -exec CMD {} ;`` (or ``+``): each CMD is run with file names where ``{}`` stands."""
    items: list[Inner | Script | Opaque] = []
    # `{}` names a file found below the start paths: a relative path when they are all relative (`find .`), so a
    # rule about `rm -rf /` cannot be meant; anything else (`find /`, `find $DIR`) could be any path.
    first = 1
    while first < len(argv) and (argv[first] in ("-H", "-L", "-P", "-D") or argv[first].startswith("-O")):
        first += 2 if argv[first] == "-D" else 1
    end = next((k for k in range(first, len(argv)) if argv[k].startswith(("-", "(", "!"))), len(argv))
    relative = all(not argv[k].startswith(("/", "~")) and k not in wild for k in range(first, end))
    i = 1
    while i < len(argv):
        if argv[i] not in _FIND_EXEC:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(argv)) if argv[j] in (";", "+")), len(argv))
        command = tuple(argv[i + 1:end])
        if command:
            if i + 1 in wild or command[0] == "{}" or "{}" in command[0]:
                items.append(Opaque(f"`find {argv[i]}` runs a command named at run time"))
            else:
                holes = frozenset(k for k, t in enumerate(command)
                                  if (i + 1 + k) in wild or ("{}" in t and not (relative or "dir" in argv[i])))
                items.append(Inner(command, holes, end >= len(argv) or argv[end] == "+"))
        i = end + 1
    return Runs(tuple(items)) if items else None


_Parser = Callable[[Sequence[str], frozenset[int]], Unwrapped | None]


def _after_operand(values: str, long_values: frozenset[str] = _NONE, operands: int = 1) -> _Parser:
    """A program taking options, then ``operands`` operands of its own (a root, a lock file, a mask), then a command."""
    def parse(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
        i = skip_options(argv, 1, frozenset(values), long_values)
        return _from(argv, wild, i + operands)
    return parse


def _prefix(values: str, long_values: frozenset[str] = _NONE, *, bare: str | None = None) -> _Parser:
    """A program taking options, then a command (``bare``: what it runs without one, e.g. a login shell)."""
    def parse(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
        inner = _from(argv, wild, skip_options(argv, 1, frozenset(values), long_values))
        if inner is None and bare is not None:
            return Opaque(f"`{os.path.basename(argv[0])}` without a command {bare}")
        return inner
    return parse


def _option_value(argv: Sequence[str], short: str, long: str) -> tuple[int, str] | None:
    for i, token in enumerate(argv[1:], start=1):
        if token == "--":
            return None
        if token in (short, long) and i + 1 < len(argv):
            return i + 1, argv[i + 1]
        if token.startswith(long + "="):
            return i, token.split("=", 1)[1]
        if token.startswith(short) and len(token) > 2 and not token.startswith("--"):
            return i, token[2:]
    return None


def _with_c(values: str, long_values: frozenset[str], *, bare: Unwrapped) -> _Parser:
    """``su``/``runuser``/``flock``/``script``-like: ``-c SCRIPT`` is a shell script; else a command, else ``bare``."""
    def parse(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
        found = _option_value(argv, "-c", "--command")
        if found is not None:
            index, text = found
            return Opaque(f"`{os.path.basename(argv[0])} -c` runs a script only known at run time") \
                if index in wild else Script(text)
        return bare
    return parse


def _flock(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    found = _option_value(argv, "-c", "--command")
    if found is not None:
        return Script(found[1]) if found[0] not in wild else Opaque("`flock -c` runs a script only known at run time")
    i = skip_options(argv, 1, frozenset("wE"), frozenset({"--timeout", "--conflict-exit-code"}))
    return _from(argv, wild, i + 1)


def _runuser(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    found = _option_value(argv, "-c", "--command")
    if found is not None:
        return Script(found[1]) if found[0] not in wild else Opaque("`-c` runs a script only known at run time")
    if "-u" in argv or any(t.startswith("--user") for t in argv):
        return _from(argv, wild, skip_options(argv, 1, frozenset("ugGsw"), frozenset({"--user", "--group"})))
    return Stdin()  # `su USER`: a login shell reading commands


def _watch(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    i = skip_options(argv, 1, frozenset("nq"), frozenset({"--interval", "--equexit"}))
    if i >= len(argv):
        return None
    if "-x" in argv[1:i] or "--exec" in argv[1:i]:
        return _from(argv, wild, i)
    if any(k in wild for k in range(i, len(argv))):
        return Opaque("`watch` runs a script only known at run time")
    return Script(" ".join(argv[i:]))  # watch joins its arguments and runs them with sh -c


def _joined(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    """``sg GROUP -c CMD`` / ``sg GROUP CMD...``: the rest is a shell command line."""
    rest = [t for t in argv[2:] if t != "-c"]
    if not rest:
        return Stdin()
    if any(k >= 2 for k in wild):
        return Opaque("`sg` runs a script only known at run time")
    return Script(" ".join(rest))


def _parallel(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    return Opaque("`parallel` builds the commands it runs from its input")


def _git(argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    return git_runs(argv, wild)


_RUNNERS: dict[str, _Parser] = {
    "env": _env,
    "find": _find,
    "git": _git,
    "chroot": _after_operand("", frozenset({"--userspec", "--groups"})),
    "flock": _flock,
    "taskset": _after_operand(""),
    "chrt": _after_operand("TPD", frozenset({"--sched-runtime", "--sched-period", "--sched-deadline"})),
    "faketime": _after_operand("f"),
    "unshare": _prefix("SGRwl", bare="runs a shell"),
    "nsenter": _prefix("tSGrw", frozenset({"--target"}), bare="runs a shell"),
    "setsid": _prefix(""),
    "strace": _prefix("abeEIoOpPsSuUX"),
    "ltrace": _prefix("aAeElnopsSu"),
    "valgrind": _prefix(""),
    "eatmydata": _prefix(""),
    "nocache": _prefix(""),
    "catchsegv": _prefix(""),
    "fakeroot": _prefix("lsi", frozenset({"--lib", "--faked"})),
    "unbuffer": _prefix(""),
    "rlwrap": _prefix("abcCDfFgHlmMoOpPqsStwz"),
    "torsocks": _prefix("uapP", frozenset({"--user", "--pass", "--address", "--port"})),
    "proxychains": _prefix("f"),
    "proxychains4": _prefix("f"),
    "dbus-run-session": _prefix(""),
    "xvfb-run": _prefix("nsfepw"),
    "pkexec": _prefix("", frozenset({"--user"})),
    "systemd-run": _prefix("pEuMHdG", frozenset({"--property", "--setenv", "--unit", "--machine", "--host",
                                                  "--uid", "--gid", "--nice", "--working-directory"})),
    "setpriv": _prefix(""),
    "prlimit": _prefix("p", frozenset({"--pid"})),
    "numactl": _prefix("CNmMiPp", frozenset({"--cpunodebind", "--membind", "--interleave", "--preferred",
                                             "--physcpubind"})),
    "busybox": _prefix(""),
    "toybox": _prefix(""),
    "su": _runuser,
    "runuser": _runuser,
    "script": _with_c("", _NONE, bare=Stdin()),
    "watch": _watch,
    "sg": _joined,
    "parallel": _parallel,
}


class _Runs:
    """:func:`runs` with the program names it knows (``names``), so callers skip the call for any other program."""

    names = frozenset(_RUNNERS)

    def __call__(self, name: str, argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
        return _runs(name, argv, wild)


def _runs(name: str, argv: Sequence[str], wild: frozenset[int]) -> Unwrapped | None:
    """What ``argv`` (program basename ``name``) runs besides itself, or ``None`` when it runs nothing we know of."""
    handler = _RUNNERS.get(name)
    if handler is None and name.startswith("git-") and len(name) > 4:
        return git_runs(("git", name[4:], *argv[1:]), frozenset(w + 1 for w in wild), renamed=True)
    return handler(argv, wild) if handler else None


runs = _Runs()
