"""Shell-aware command analysis: every simple command a script would run, found with tree-sitter-bash.

This is the only module that imports ``tree_sitter``. :func:`analyse` takes an argv (usually ``["bash", "-lc",
script]``) and returns the simple commands it runs: across ``&&``/``||``/``;``/``|``, subshells, groups, control
flow, function bodies, command and process substitutions (also inside strings, assignments, redirect targets and
heredocs), with ``VAR=x`` prefixes dropped and wrappers (:mod:`policies.wrappers`) unwrapped at any depth, the wrapper
itself kept too. It also reports files written by redirections and why the script cannot be fully analysed (a syntax
error, a command name only known at run time, a shell reading commands from a pipe, ...). Quoting is resolved
(``g"i"t``, ``\\git``, ``$'git'`` are ``git``); a token the shell only knows at run time (``$X``, globs,
substitutions) is marked *wild*.
"""

from __future__ import annotations

import codecs
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from policies.shellwords import unescape_double, unescape_word
from policies.wrappers import SHELLS, Inner, Opaque, Runs, Script, Stdin, unwrap

__all__ = ["SimpleCommand", "Analysis", "analyse", "MAX_DEPTH", "MAX_NESTING"]

MAX_DEPTH = 12  # nested wrappers / `bash -c` levels analysed before giving up (and prompting)
MAX_NESTING = 64  # nested syntax ($( ( { if ...) followed before giving up (and prompting), far below the stack limit
_WRITE_OPS = frozenset({">", ">>", "&>", "&>>", ">|", "<>"})
_local = threading.local()


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    argv: tuple[str, ...]
    wild: frozenset[int] = frozenset()
    open_tail: bool = False
    wrapper: bool = False  # its inner command is listed after it
    env: tuple[str, ...] = ()  # variables assigned for it: `A=1 cmd`, `env A=1 cmd`, `sudo A=1 cmd`
    via: tuple[str, ...] = ()  # wrappers it was reached through (not counting the shell running the whole script)


@dataclass
class Analysis:
    commands: list[SimpleCommand] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)  # reasons the script cannot be fully analysed
    writes: list[str | None] = field(default_factory=list)  # redirect targets written; None: only known at run time
    cd_targets: list[str | None] = field(default_factory=list)  # directories the script cd's into; None: unknown
    assigned: set[str] = field(default_factory=set)  # every variable the script assigns or exports
    functions: bool = False  # the script defines shell functions (which can shadow any program name)

    @property
    def leaves(self) -> list[SimpleCommand]:
        return [c for c in self.commands if not c.wrapper]


def _parser() -> Any:
    parser = getattr(_local, "parser", None)
    if parser is None:
        import tree_sitter
        import tree_sitter_bash

        parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
        _local.parser = parser
    return parser


def analyse(argv: Sequence[str]) -> Analysis:
    """The commands ``argv`` runs (``argv`` itself first). Plain programs never touch the parser. Never raises for
    what the script says: a script nested too deeply to follow is reported as opaque."""
    result = Analysis()
    walker = _Walker(result)
    # The shell that runs a whole script (`bash -lc SCRIPT`, how agent commands run) is the harness, not a wrapper.
    walker.harness = len(argv) > 2 and os.path.basename(argv[0]) in SHELLS
    try:
        walker.expand(tuple(argv), frozenset(), False, None, 0)
    except RecursionError:  # a last resort: MAX_NESTING normally stops well before the interpreter's limit
        result.opaque.append("the script is nested too deeply to analyse")
    return result


class _Walker:
    def __init__(self, result: Analysis) -> None:
        self.result = result
        self.harness = False
        self.nesting = 0
        self.env: tuple[str, ...] = ()  # assignments of the command being expanded
        self.via: tuple[str, ...] = ()  # wrappers crossed to reach it

    # ------------------------------------------------------------------------------------------ argv level

    def expand(self, argv: tuple[str, ...], wild: frozenset[int], open_tail: bool, stdin: str | None,
               depth: int) -> None:
        if not argv:
            return
        unwrapped = unwrap(argv, wild)
        is_wrapper = unwrapped is not None and not isinstance(unwrapped, Runs)
        self.result.commands.append(SimpleCommand(argv, wild, open_tail, is_wrapper, self.env, self.via))
        if unwrapped is None:
            self._note_cd(argv, wild)
            return
        if depth >= MAX_DEPTH:
            self.result.opaque.append(f"wrappers nested more than {MAX_DEPTH} deep")
            return
        outer = (self.env, self.via)
        harness = self.harness and depth == 0
        self.via = self.via if harness else (*self.via, os.path.basename(argv[0]))
        try:
            for item in unwrapped.items if isinstance(unwrapped, Runs) else (unwrapped,):
                self._run(argv, item, open_tail, stdin, depth)
        finally:
            self.env, self.via = outer

    def _run(self, argv: tuple[str, ...], unwrapped: Inner | Script | Stdin | Opaque, open_tail: bool,
             stdin: str | None, depth: int) -> None:
        if isinstance(unwrapped, Inner):
            self.env = (*self.env, *unwrapped.env)
            self.expand(unwrapped.argv, unwrapped.wild, unwrapped.open_tail or open_tail, stdin, depth + 1)
        elif isinstance(unwrapped, Script):
            self.env = ()
            self.script(unwrapped.text, depth + 1)
        elif isinstance(unwrapped, Stdin):
            if stdin is None:
                self.result.opaque.append(f"`{os.path.basename(argv[0])}` reads commands from standard input")
            else:
                self.script(stdin, depth + 1)
        elif isinstance(unwrapped, Opaque):
            self.result.opaque.append(unwrapped.reason)

    def _note_cd(self, argv: tuple[str, ...], wild: frozenset[int]) -> None:
        if argv[0] not in ("cd", "pushd"):
            return
        operands = [(i, a) for i, a in enumerate(argv[1:], start=1) if not a.startswith("-") or a == "-"]
        if not operands:
            self.result.cd_targets.append("~")
        else:
            index, target = operands[0]
            self.result.cd_targets.append(None if index in wild or target == "-" else target)

    def script(self, text: str, depth: int) -> None:
        tree = _parser().parse(text.encode("utf-8"))
        root = tree.root_node
        if root.has_error:
            self.result.opaque.append("the script does not parse as shell")
        self.walk(root, depth)

    # ----------------------------------------------------------------------------------------- tree level

    def walk(self, node: Any, depth: int) -> None:
        if self.nesting >= MAX_NESTING:
            self.result.opaque.append(f"the script nests more than {MAX_NESTING} levels deep")
            return
        self.nesting += 1
        try:
            self._walk(node, depth)
        finally:
            self.nesting -= 1

    def _walk(self, node: Any, depth: int) -> None:
        kind = node.type
        if kind == "variable_assignment":
            name = node.child_by_field_name("name")
            if name is not None:
                self.result.assigned.add(name.text.decode(errors="replace"))
        elif kind == "function_definition":
            self.result.functions = True
        if kind == "command":
            self.command(node, (), depth)
        elif kind == "redirected_statement":
            body = node.child_by_field_name("body")
            redirects = [c for c in node.named_children if body is None or c != body]
            if body is not None and body.type == "command":
                self.command(body, redirects, depth)
            else:
                for redirect in redirects:
                    self.redirect(redirect, depth)
                if body is not None:
                    self.walk(body, depth)
        elif kind in ("ERROR", "MISSING") or node.is_missing:
            for child in node.named_children:
                self.walk(child, depth)
        elif kind in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
            self.redirect(node, depth)
        elif kind in ("word", "string", "raw_string", "concatenation", "simple_expansion", "expansion",
                      "command_substitution", "process_substitution", "arithmetic_expansion", "number"):
            self.word(node, depth)
        else:
            for child in node.named_children:
                self.walk(child, depth)

    def command(self, node: Any, redirects: Sequence[Any], depth: int) -> None:
        argv: list[str] = []
        wild: set[int] = set()
        name_node = None
        stdin: str | None = None
        assigns: list[str] = []
        for child in node.named_children:
            kind = child.type
            if kind == "command_name":
                name_node = child
                value, static = self.word(child.named_children[0] if child.named_child_count else child, depth)
                argv.append(value)
                if not static:
                    self.result.opaque.append(f"the command name `{child.text.decode(errors='replace')}` is only "
                                              "known at run time")
            elif kind == "variable_assignment":
                self.walk(child, depth)
                name = child.child_by_field_name("name")
                assigns.append(name.text.decode(errors="replace") if name is not None else "")
            elif kind in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                text = self.redirect(child, depth)
                stdin = text if text is not None else stdin
            elif name_node is not None:
                value, static = self.word(child, depth)
                if not static:
                    wild.add(len(argv))
                argv.append(value)
            else:
                self.walk(child, depth)
        for redirect in redirects:
            text = self.redirect(redirect, depth)
            stdin = text if text is not None else stdin
        if name_node is not None and 0 not in wild:
            outer, self.env = self.env, tuple(assigns)
            try:
                self.expand(tuple(argv), frozenset(wild), False, stdin, depth)
            finally:
                self.env = outer

    def redirect(self, node: Any, depth: int) -> str | None:
        """Record what a redirect writes; returns the text a heredoc/herestring feeds to stdin when static."""
        kind = node.type
        if kind == "file_redirect":
            op = next((c.type for c in node.children if not c.is_named), "")
            dest = node.child_by_field_name("destination")
            if dest is None:
                return None
            value, static = self.word(dest, depth)
            duplicate = op in (">&", "<&", ">&-", "<&-") and (dest.type == "number" or value == "-")
            if op in _WRITE_OPS or (op == ">&" and not duplicate):
                self.result.writes.append(value if static else None)
            return None
        if kind == "herestring_redirect":
            target = node.named_children[-1] if node.named_child_count else None
            if target is None:
                return None
            value, static = self.word(target, depth)
            return value + "\n" if static else None
        if kind == "heredoc_redirect":
            body = next((c for c in node.named_children if c.type == "heredoc_body"), None)
            if body is None:
                return ""
            dynamic = any(c.type != "heredoc_content" for c in body.named_children)
            for child in body.named_children:
                if child.type != "heredoc_content":
                    self.word(child, depth)
            return None if dynamic else body.text.decode("utf-8", errors="replace")
        self.walk(node, depth)
        return None

    def word(self, node: Any, depth: int) -> tuple[str, bool]:
        """A token's value and whether it is static; substitutions inside it are analysed as commands."""
        kind = node.type
        text = node.text.decode("utf-8", errors="replace")
        if kind == "word":
            return unescape_word(text)
        if kind == "number":
            return text, True
        if kind == "raw_string":
            return text[1:-1], True
        if kind == "ansi_c_string":
            try:
                return codecs.decode(text[2:-1].encode("latin-1", "backslashreplace"), "unicode_escape"), True
            except (UnicodeDecodeError, ValueError):
                return text, False
        if kind in ("string", "translated_string", "concatenation"):
            parts: list[str] = []
            static = True
            for child in node.named_children:
                if child.type == "string_content":
                    parts.append(unescape_double(child.text.decode("utf-8", errors="replace")))
                    continue
                value, child_static = self.word(child, depth)
                parts.append(value)
                brace = kind == "concatenation" and value in ("{", "}") and ("," in text or ".." in text)
                static = static and child_static and not brace
            return "".join(parts), static
        if kind in ("command_substitution", "process_substitution"):
            for child in node.named_children:
                self.walk(child, depth)
            return text, False
        for child in node.named_children:  # ${...}, $((...)): look inside for substitutions
            self.walk(child, depth)
        return text, False
