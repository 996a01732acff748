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
    "stat", "tail", "tr", "true", "uname", "wc", "which", "whoami", "numfmt", "tac",
    "basename", "dirname", "realpath", "readlink", "test", "[", "cmp", "du", "df",
    "sha256sum", "sha1sum", "md5sum", "egrep", "fgrep",
})
# Safe unless an option (any spelling: `-o F`, `-oF`, `-uo F`, `--output=F`) writes, runs a program or changes state.
# Values: (short options that take a value, unsafe short options, unsafe long options).
_SAFE_UNLESS: dict[str, tuple[str, str, frozenset[str]]] = {
    "sort": ("kotST", "o", frozenset({"--output", "--compress-program", "--files0-from"})),
    "file": ("emfFP", "Cmf", frozenset({"--compile", "--magic-file", "--files-from"})),
    "date": ("dfrsI", "sf", frozenset({"--set", "--file"})),
    "printf": ("v", "v", frozenset()),
    "base64": ("wo", "o", frozenset({"--output"})),
}
# Variables that only change how a program formats its output: they do not make it run or write anything else.
_HARMLESS_ENV = re.compile(r"^(LANG|LANGUAGE|LC_[A-Z]+|TZ|NO_COLOR|CLICOLOR|CLICOLOR_FORCE|FORCE_COLOR|COLUMNS|LINES)$")
_UNSAFE_FIND = frozenset({"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fls", "-fprint", "-fprint0", "-fprintf"})
_GIT_GLOBAL_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"})
_UNSAFE_GIT_FLAGS = frozenset({"--output", "--ext-diff", "--textconv", "--exec", "--paginate", "-p", "--no-index"})
# git global options that make it read another repository's (or the agent's) configuration, which can name programs.
_UNSAFE_GIT_GLOBALS = ("-c", "--config-env", "--git-dir", "--work-tree", "--exec-path", "--super-prefix",
                       "--attr-source")
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
    found = _git_subcommand(argv)
    if found is None or found[1] not in ("status", "log", "diff", "show", "branch"):
        return False
    index, sub = found
    for i, token in enumerate(argv[1:index], start=1):
        if token.split("=", 1)[0] in _UNSAFE_GIT_GLOBALS or (token.startswith("-c") and len(token) > 2):
            return False
        if token == "-C" and (i + 1 >= index or argv[i + 1] != "."):
            return False  # another directory's repository brings its own configuration (diff.external, pagers)
    args = argv[index + 1:]
    if any(a in _UNSAFE_GIT_FLAGS or a.startswith(("--output=", "--exec=")) for a in args):
        return False
    if sub != "branch" or not args:
        return True
    read_only = {"--list", "-l", "--show-current", "-a", "--all", "-r", "--remotes", "-v", "-vv", "--verbose"}
    return all(a in read_only or a.startswith("--format=") for a in args)


def _unsafe_option(argv: Sequence[str], values: str, unsafe: str, unsafe_long: frozenset[str]) -> bool:
    """Whether ``argv`` uses one of the unsafe options, spelled any way getopt accepts."""
    for token in argv[1:]:
        if token == "--":
            return False
        if token.startswith("--"):
            name = token.split("=", 1)[0]
            if any(name == u or (len(name) > 3 and u.startswith(name)) for u in unsafe_long):
                return True  # getopt_long accepts unambiguous abbreviations (--out, --compress)
        elif token.startswith("-") and token != "-":
            for letter in token[1:]:
                if letter in unsafe:
                    return True
                if letter in values:
                    break
    return False


def is_known_safe(argv: Sequence[str], *, dynamic: bool = False, env: Sequence[str] = ()) -> bool:
    """Known to only read (and print). ``dynamic``: some arguments are only known at run time; ``env``: variables
    assigned for the command (any but a few formatting ones can make a program run another: ``PAGER``,
    ``GIT_EXTERNAL_DIFF``, ``LD_PRELOAD``)."""
    if any(not _HARMLESS_ENV.match(name) for name in env):
        return False
    name = _name(argv)
    if name in _SAFE_ANY_ARGS:
        return True
    if dynamic:
        return False
    if name in _SAFE_UNLESS:
        return not _unsafe_option(argv, *_SAFE_UNLESS[name])
    if name == "uniq":  # `uniq IN OUT` writes OUT
        return len([a for a in argv[1:] if not a.startswith("-") or a == "-"]) <= 1
    if name == "find":
        return not any(a in _UNSAFE_FIND for a in argv)
    if name == "rg":
        return not any(a in ("--search-zip", "-z") or a.split("=", 1)[0] in ("--pre", "--hostname-bin")
                       for a in argv)
    if name == "git":
        return _git_safe(argv)
    if name == "sed":
        return len(argv) <= 4 and len(argv) > 2 and argv[1] == "-n" and bool(_SED_N.match(argv[2]))
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
        if sub == "push" and _push_rewrites(argv[found[0] + 1:] if found else ()):
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


def _push_rewrites(args: Sequence[str]) -> bool:
    """``git push`` arguments that force or delete: ``--force[-with-lease[=..]]``, ``-f`` in a cluster, ``--mirror``,
    ``--delete``/``-d``, ``--prune``, and refspecs ``+src:dst`` (force) or ``:dst`` (delete)."""
    for token in args:
        if token == "--":
            continue
        name = token.split("=", 1)[0]
        if name.startswith("--force") or name in ("--mirror", "--delete", "--prune"):
            return True
        if token.startswith("-") and not token.startswith("--") and set(token[1:]) & {"f", "d"}:
            return True
        if token.startswith("+") or (token.startswith(":") and len(token) > 1):
            return True
    return False


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
