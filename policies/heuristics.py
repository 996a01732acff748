"""What the gate assumes about a command no rule matched: known safe, looks destructive, or neither.

The safe set follows Codex's ``is_known_safe_command`` (read-only tools, ``git status|log|diff|show|branch`` without
flags that write or run programs, ``find`` without ``-exec``/``-delete``, ``rg`` without ``--pre``, ``sed -n Np``),
plus a few more read-only utilities. The destructive set follows Codex's ``command_might_be_dangerous`` (``rm -f``,
``rm -rf``, ``git reset``/``rm``), widened to flag clusters in any position and a few more forms. A command whose
arguments are only known at run time is judged on what is certain: it is never *safe* if its arguments matter.

:func:`propose_prefix` is the prefix offered for "always allow": the narrowest useful one, never a bare interpreter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["is_known_safe", "danger", "propose_prefix", "INTERPRETERS"]

# Safe whatever their arguments (they only read and print).
_SAFE_ANY_ARGS = frozenset({
    "cat", "cd", "cut", "echo", "expr", "false", "grep", "head", "id", "ls", "nl", "paste", "pwd", "rev", "seq",
    "stat", "tail", "tr", "true", "uname", "uniq", "wc", "which", "whoami", "numfmt", "tac",
    "basename", "dirname", "realpath", "readlink", "test", "[", "cmp", "du", "df", "file", "date",
    "sha256sum", "sha1sum", "md5sum", "printf", "egrep", "fgrep",
})
_UNSAFE_FIND = frozenset({"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fls", "-fprint", "-fprint0", "-fprintf"})
_GIT_GLOBAL_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"})
_UNSAFE_GIT_FLAGS = frozenset({"--output", "--ext-diff", "--textconv", "--exec", "--paginate"})
_SED_N = re.compile(r"^(\d+,)?\d+p$")
_INTERPRETER = re.compile(r"^(python[0-9.]*|pypy[0-9.]*|node|nodejs|deno|bun|ruby|perl|php|lua|luajit|Rscript|"
                          r"bash|sh|zsh|dash|ksh|fish|pwsh|powershell|tclsh|osascript|java|npx|uvx|pipx|env|sudo|"
                          r"doas|xargs|eval|exec|source|\.)$")
INTERPRETERS = _INTERPRETER
_RUNNERS = frozenset({"npm", "pnpm", "yarn", "bun", "uv", "poetry", "pipenv", "pdm", "hatch", "rye", "npx", "uvx"})
_RUN_WORDS = frozenset({"run", "exec", "x", "dlx", "tool"})
_SUBCOMMAND = re.compile(r"^[A-Za-z][A-Za-z0-9_:-]*$")


def _name(argv: Sequence[str]) -> str:
    return argv[0].rsplit("/", 1)[-1] if argv else ""


def _git_subcommand(argv: Sequence[str]) -> tuple[int, str] | None:
    i = 1
    while i < len(argv):
        token = argv[i]
        if token in _GIT_GLOBAL_WITH_VALUE:
            i += 2
            continue
        if token.startswith("-"):
            i += 1
            continue
        return i, token
    return None


def _git_safe(argv: Sequence[str]) -> bool:
    if any(a in ("-c", "--config-env") or (a.startswith("-c") and len(a) > 2) or a.startswith("--config-env=")
           for a in argv[1:]):
        return False
    found = _git_subcommand(argv)
    if found is None or found[1] not in ("status", "log", "diff", "show", "branch"):
        return False
    index, sub = found
    args = argv[index + 1:]
    if any(a in _UNSAFE_GIT_FLAGS or a.startswith(("--output=", "--exec=")) for a in args):
        return False
    if sub != "branch" or not args:
        return True
    read_only = {"--list", "-l", "--show-current", "-a", "--all", "-r", "--remotes", "-v", "-vv", "--verbose"}
    return all(a in read_only or a.startswith("--format=") for a in args)


def is_known_safe(argv: Sequence[str], *, dynamic: bool = False) -> bool:
    """Known to only read (and print). ``dynamic``: some arguments are only known at run time."""
    name = _name(argv)
    if name in _SAFE_ANY_ARGS:
        return True
    if dynamic:
        return False
    if name == "base64":
        return not any(a in ("-o", "--output") or a.startswith("--output=") or (a.startswith("-o") and a != "-o")
                       for a in argv[1:])
    if name == "find":
        return not any(a in _UNSAFE_FIND for a in argv)
    if name == "rg":
        return not any(a in ("--search-zip", "-z") or a.split("=", 1)[0] in ("--pre", "--hostname-bin")
                       for a in argv)
    if name == "git":
        return _git_safe(argv)
    if name == "sed":
        return len(argv) <= 4 and len(argv) > 2 and argv[1] == "-n" and bool(_SED_N.match(argv[2]))
    if name == "sort":
        return not any(a in ("-o", "--output") or a.startswith(("--output=", "-o")) for a in argv[1:])
    return False


def _options(argv: Sequence[str]) -> list[str]:
    out: list[str] = []
    for token in argv[1:]:
        if token == "--":
            break
        if token.startswith("-") and token != "-":
            out.append(token)
    return out


def danger(argv: Sequence[str], *, dynamic: bool = False) -> str | None:
    """Why ``argv`` looks destructive, or ``None``. ``dynamic``: some arguments are only known at run time."""
    name = _name(argv)
    options = _options(argv)
    if name == "rm":
        if any(o in ("--force", "--recursive") or (not o.startswith("--") and set(o[1:]) & set("frR"))
               for o in options):
            return "`rm` with -f/-r deletes without asking"
        return "`rm` with arguments only known at run time" if dynamic else None
    if name == "git":
        found = _git_subcommand(argv)
        sub = found[1] if found else None
        if sub in ("reset", "rm") or "--force" in options:
            return f"`git {sub or '--force'}` can discard work"
        if sub == "clean" and any("f" in o[1:] for o in options if not o.startswith("--")):
            return "`git clean -f` deletes untracked files"
        if sub == "push" and any(o in ("-f", "--force", "--force-with-lease", "--mirror", "--delete", "-d")
                                 for o in options):
            return "`git push` rewriting or deleting remote history"
        if sub == "checkout" and "--" in argv and "." in argv:
            return "`git checkout -- .` discards changes"
        return None
    if name in ("shred", "wipefs") or name.startswith("mkfs"):
        return f"`{name}` destroys data"
    if name == "dd" and any(a.startswith("of=") for a in argv[1:]):
        return "`dd of=` overwrites its target"
    if name == "find" and "-delete" in argv:
        return "`find -delete` deletes files"
    if name in ("chmod", "chown", "chgrp") and any(o in ("-R", "--recursive") for o in options):
        return f"recursive `{name}`"
    return None


def propose_prefix(argv: Sequence[str]) -> tuple[str, ...] | None:
    """The narrowest useful prefix to always allow for ``argv`` (``None`` if there is no safe proposal).

    A program with a subcommand gives program + subcommand (``cargo build``; ``npm run test``); an interpreter gives
    what it runs (``python -m pytest``, ``node script.js``), never the bare interpreter; a destructive command gives
    its whole argv.
    """
    if not argv:
        return None
    name = _name(argv)
    if danger(argv) is not None:
        return tuple(argv)
    if _INTERPRETER.match(name):
        out = [argv[0]]
        for i, token in enumerate(argv[1:], start=1):
            out.append(token)
            if token in ("-m", "-c", "-e", "-r", "--eval", "--require", "-p", "--print") and i + 1 < len(argv):
                out.append(argv[i + 1])
                return tuple(out)
            if not token.startswith("-"):
                return tuple(out)
        return tuple(out) if len(out) > 1 else None
    out = [argv[0]]
    if len(argv) > 1 and _SUBCOMMAND.match(argv[1]):
        out.append(argv[1])
        if name in _RUNNERS and argv[1] in _RUN_WORDS and len(argv) > 2 and not argv[2].startswith("-"):
            out.append(argv[2])
    return tuple(out)
