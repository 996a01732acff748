"""Where a permitted command runs: in the sandbox, always, unless the user opted it out by name.

"Run without asking" (an ``allow`` rule, "always allow") and "run outside the sandbox" are different grants. The
second comes only from ``[sandbox] unconfined_prefixes`` in the user's (or a trusted project's) config, and only for a
command the agent cannot bend into running something else. :func:`unconfined_ok` is that check, for a whole script:
every command in it must start with a listed prefix, and none may carry

- variable assignments (``PAGER=… git log``, ``env GIT_EXTERNAL_DIFF=./x.sh git diff``, ``PATH=./bin:$PATH …``),
  nor may the script assign or export any variable or define a function (which shadows any program name);
- a wrapper (``env``, ``sudo``, ``xargs``, ``find -exec``, a nested ``bash -c``, ...): only the shell running the
  whole script is allowed;
- a program path that is relative or inside a writable root (the agent can write the program);
- an option, after the listed prefix, that may run programs, read configuration or write files: any short option
  (``-c``, ``-o``, ``-x`` mean that in some tool), any ``--name=value``, and long names like ``--exec``,
  ``--config``, ``--output``, ``--upload-pack``, ``--ext-diff``; or any argument only known at run time;
- a redirect that writes anywhere but a device, or a part that cannot be analysed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from policies.shell import Analysis, SimpleCommand

__all__ = ["unconfined_ok", "matches_prefix"]

# Long option names (or parts of them) that run a program, load code or configuration, or name a file to write.
# Short options are never judged: the same letter runs a program in one tool and is harmless in the next (`-e`,
# `-x`, `-c`, `-o`); a user who wants one names it in the prefix itself.
_RISKY_LONG = re.compile(
    r"exec|command|cmd|program|prog\b|pager|editor|shell|hook|filter|^--pre$|^--pre-|output|^--out|file|config|"
    r"conf\b|rc\b|dir|path|plugin|load|script|eval|require|import|rsh|ssh|proxy|socket|upload|receive|textconv|"
    r"ext-diff|tool|template|init|helper|wrapper|interpreter|module|library|lib\b|env|alias|daemon|server|listen|"
    r"write|save|dump|tee|into|dest|target|to\b",
    re.IGNORECASE,
)
_DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty")


def matches_prefix(argv: Sequence[str], prefixes: Sequence[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The first of ``prefixes`` that ``argv`` starts with (token for token; an absolute program path also matches
    its bare name, since where it lives is judged separately), or ``None``."""
    for prefix in prefixes:
        if not prefix or len(argv) < len(prefix) or tuple(argv[1:len(prefix)]) != prefix[1:]:
            continue
        if argv[0] == prefix[0] or (argv[0].startswith("/") and os.path.basename(argv[0]) == prefix[0]):
            return prefix
    return None


def _risky_option(token: str) -> bool:
    if token.startswith("--"):
        return "=" in token or bool(_RISKY_LONG.search(token))
    return True


def _inside(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _command_ok(command: SimpleCommand, prefixes: Sequence[tuple[str, ...]], roots: Sequence[str]) -> str | None:
    argv = command.argv
    prefix = matches_prefix(argv, prefixes)
    if prefix is None:
        return "it is not listed in `[sandbox] unconfined_prefixes`"
    if command.env:
        return "it sets environment variables"
    if command.via:
        return f"it runs through `{command.via[-1]}`"
    if command.wild or command.open_tail:
        return "some of its arguments are only known at run time"
    if "/" in argv[0] and (not os.path.isabs(argv[0]) or _inside(os.path.normpath(argv[0]), roots)):
        return "its program is a path the agent can write"
    for token in argv[len(prefix):]:
        if token == "--":
            break
        if token.startswith("-") and token != "-" and _risky_option(token):
            return f"its option `{token}` can run programs, read configuration or write files"
    return None


def unconfined_ok(analysis: Analysis, prefixes: Sequence[tuple[str, ...]], roots: Sequence[str]) -> str | None:
    """``None`` when the whole script may run outside the sandbox; otherwise why not. ``roots``: the writable roots
    (the working directory first), where a program the agent wrote could live."""
    leaves = analysis.leaves
    if not prefixes or not leaves:
        return "no command is listed in `[sandbox] unconfined_prefixes`"
    if analysis.opaque:
        return "the script cannot be fully analysed"
    if analysis.assigned or analysis.functions:
        return "the script sets variables or defines functions"
    if any(w is None or (w not in _DEVICES and not w.startswith("/dev/fd/")) for w in analysis.writes):
        return "the script redirects output into a file"
    for command in leaves:
        why = _command_ok(command, prefixes, roots)
        if why is not None:
            return f"`{' '.join(command.argv)[:80]}` stays sandboxed: {why}"
    return None
