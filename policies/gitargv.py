"""git's argv, normalised for matching: global options, aliases, option order, refspec spellings.

A rule about ``git push`` must see through ``git -C . push``, ``git --git-dir=.git push``, ``git -c alias.p=push p``,
``git-push``, ``git push origin main --force`` and ``git push origin +main``. :func:`git_runs` says what a git
command runs besides itself (an alias given with ``-c``, ``rebase -x``, ``submodule foreach``, ``bisect run``);
:func:`git_forms` gives the spellings a restrictive rule is also matched against; :func:`git_overrides` names what
makes a command read git configuration the agent may control; :func:`unknown_subcommand` spots a possible alias.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from policies.wrappers import Inner, Opaque, Runs, Script, Unwrapped

__all__ = ["git_runs", "git_forms", "git_overrides", "git_split", "unknown_subcommand", "GIT_COMMANDS"]

# Global options taking a value (``-C dir`` or ``--git-dir=dir``), and the ones that take none.
_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--super-prefix",
                         "--attr-source"})
_CONFIG_OPTIONS = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--config-env", "--exec-path", "--namespace",
                             "--super-prefix", "--attr-source"})
_GIT_COMMAND_NAMES = """
add am annotate apply archive backfill bisect blame branch bugreport bundle cat-file check-attr check-ignore
check-mailmap check-ref-format checkout checkout-index cherry cherry-pick citool clean clone column commit commit-graph
commit-tree config count-objects credential daemon describe diagnose diff diff-files diff-index diff-tree difftool
fast-export fast-import fetch fetch-pack filter-branch fmt-merge-msg for-each-ref for-each-repo format-patch fsck gc
get-tar-commit-id grep gui hash-object help hook http-backend index-pack init instaweb interpret-trailers lfs log
ls-files ls-remote ls-tree mailinfo mailsplit maintenance merge merge-base merge-file merge-index merge-tree mergetool
mktag mktree multi-pack-index mv name-rev notes pack-objects pack-redundant pack-refs prune prune-packed pull push
range-diff read-tree rebase receive-pack reflog refs remote repack replace replay request-pull rerere reset restore
rev-list rev-parse revert rm send-email send-pack shortlog show show-branch show-index show-ref sparse-checkout stage
stash status stripspace submodule switch symbolic-ref tag unpack-file unpack-objects update-index update-ref
update-server-info upload-archive upload-pack var verify-commit verify-pack verify-tag version whatchanged worktree
write-tree
"""
GIT_COMMANDS = frozenset(_GIT_COMMAND_NAMES.split())


def git_split(argv: Sequence[str]) -> tuple[list[str], int | None]:
    """(the global option tokens, index of the subcommand or ``None``)."""
    i = 1
    while i < len(argv):
        token = argv[i]
        if token in _WITH_VALUE:
            i += 2
        elif token.startswith("-") and token != "-":
            i += 1
        else:
            return list(argv[1:i]), i
    return list(argv[1:]), None


def _config(options: Sequence[str]) -> list[tuple[str, str | None]]:
    """(key, value) of every ``-c key=value``; value ``None`` for ``--config-env`` (only known at run time)."""
    found: list[tuple[str, str | None]] = []
    it = iter(range(len(options)))
    for i in it:
        token = options[i]
        if token in ("-c", "--config-env") and i + 1 < len(options):
            key, _, value = options[i + 1].partition("=")
            found.append((key.lower(), value if token == "-c" else None))
            next(it, None)
        elif token.startswith("--config-env="):
            found.append((token.split("=", 2)[1].lower(), None))
    return found


def _alias(argv: Sequence[str], wild: frozenset[int], options: list[str], sub: int) -> Unwrapped | None:
    name = argv[sub].lower()
    value: str | None = ""
    for key, val in _config(options):
        if key == f"alias.{name}":
            value = val
    if value == "":
        return None
    if value is None:
        return Opaque(f"`git {argv[sub]}` is an alias only known at run time (--config-env)")
    args = list(argv[sub + 1:])
    if any(k > sub for k in wild):
        return Opaque(f"`git {argv[sub]}` is an alias run with arguments only known at run time")
    if value.startswith("!"):
        return Script(f"{value[1:]} {shlex.join(args)}".strip())
    try:
        words = shlex.split(value)
    except ValueError:
        return Opaque(f"the alias `git {argv[sub]}` does not split")
    return Inner(("git", *options, *words, *args))


def _scripts(argv: Sequence[str], sub: int) -> list[Inner | Script | Opaque]:
    """What ``git rebase -x``, ``submodule foreach``, ``bisect run``, ``difftool -x``, ``filter-branch`` run."""
    name, rest = argv[sub], list(argv[sub + 1:])
    if name == "submodule" and rest[:1] == ["foreach"]:
        body = [t for t in rest[1:] if t not in ("--recursive", "-q", "--quiet")]
        return [Script(" ".join(body))] if body else []
    if name == "bisect" and rest[:1] == ["run"] and len(rest) > 1:
        return [Inner(tuple(rest[1:]))]
    found: list[Inner | Script | Opaque] = []
    takes = {"rebase": ("-x", "--exec"), "difftool": ("-x", "--extcmd"), "mergetool": ("--tool-cmd",)}.get(name, ())
    for i, token in enumerate(rest):
        flag, eq, value = token.partition("=")
        if name == "filter-branch" and flag.endswith("-filter") and i + 1 < len(rest):
            found.append(Script(rest[i + 1]))
        elif flag in takes:
            if eq:
                found.append(Script(value))
            elif i + 1 < len(rest):
                found.append(Script(rest[i + 1]))
        elif takes and token.startswith("-x") and len(token) > 2:
            found.append(Script(token[2:]))
    return found


def git_runs(argv: Sequence[str], wild: frozenset[int], *, renamed: bool = False) -> Unwrapped | None:
    """What git runs besides itself. ``renamed``: ``argv`` is ``git-X ...`` spelled as ``git X ...``."""
    options, sub = git_split(argv)
    if sub is None:
        return None
    if sub in wild:
        return Opaque("the git subcommand is only known at run time")
    alias = _alias(argv, wild, options, sub)
    if alias is not None:
        return alias
    if renamed:
        return Inner(tuple(argv), wild)
    items = _scripts(argv, sub)
    return Runs(tuple(items)) if items else None


def _spellings(token: str, sub: str) -> list[str]:
    """Other spellings of one option/operand a rule might name (``-fu`` → ``-f``, ``-u``; ``+main`` → ``--force``)."""
    if token.startswith("--"):
        name = token.split("=", 1)[0]
        return [name] if name != token else []
    if token.startswith("-") and len(token) > 2 and token[1:].isalpha():
        return [f"-{letter}" for letter in token[1:]]
    if sub == "push" and token.startswith("+"):
        return ["--force"]
    if sub == "push" and token.startswith(":") and len(token) > 1:
        return ["--delete"]
    return []


def git_forms(argv: Sequence[str], wild: frozenset[int]) -> list[tuple[tuple[str, ...], frozenset[int]]]:
    """Spellings of ``argv`` a restrictive rule is matched against too: global options dropped, and each option
    (split, stripped of its value, or implied by a refspec) moved right after the subcommand. Each comes with its
    run-time (wild) positions."""
    options, sub = git_split(argv)
    if sub is None:
        return []
    rest = [(argv[i], i in wild) for i in range(sub + 1, len(argv))]
    base = [("git", False), (argv[sub], sub in wild)]
    forms = [base + rest] if options else []
    for k, (token, is_wild) in enumerate(rest):
        if token == "--":
            break
        others = rest[:k] + rest[k + 1:]
        hoisted = [token, *_spellings(token, argv[sub])] if not is_wild else []
        for spelling in hoisted:
            if k or spelling != token:
                forms.append([*base, (spelling, False), *others])
    return [(tuple(t for t, _ in form), frozenset(i for i, (_, w) in enumerate(form) if w)) for form in forms]


def git_overrides(argv: Sequence[str], env: Sequence[str]) -> list[str]:
    """What points this git command at configuration the agent may have written: global options (``-c``, ``-C``,
    ``--git-dir``, ...) and ``GIT_*`` environment variables."""
    options, _ = git_split(argv)
    found = [t.split("=", 1)[0] for t in options if t.split("=", 1)[0] in _CONFIG_OPTIONS]
    return found + [name for name in env if name.startswith("GIT_")]


def unknown_subcommand(argv: Sequence[str]) -> str | None:
    """The subcommand when git does not know it by that name (an alias, or a ``git-NAME`` program on PATH)."""
    _, sub = git_split(argv)
    if sub is None or argv[sub] in GIT_COMMANDS:
        return None
    return argv[sub]
