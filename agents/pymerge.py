"""Merge a reply that holds only some definitions of a Python module into the module, by name.

Asked for a module's complete new text, a small model often writes only what it changed: the new function, or the
one class it edited. Taken as the whole file, that deletes everything else. Read as *definitions to put in*, it is
a precise edit: each top-level ``def``/``class`` of the reply replaces the module's definition of that name (its
decorators included) or, when new, is appended; an ``import`` the module lacks goes after its imports. A reply with
anything else at top level (statements, a ``__main__`` block, code that does not parse) is not a set of definitions,
and :func:`merge_definitions` returns ``None``.
"""

from __future__ import annotations

import ast

__all__ = ["definition_sources", "merge_definitions", "module_docstring", "renamed_definitions"]

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IMPORTS = (ast.Import, ast.ImportFrom)


def merge_definitions(module: str, reply: str) -> str | None:
    """``module`` with the reply's top-level definitions and imports put in (see the module docstring), or ``None``."""
    try:
        tree = ast.parse(module)
        given = ast.parse(reply)
    except SyntaxError:
        return None
    body = [node for node in given.body if not _is_docstring(node, given)]
    if not body or any(not isinstance(node, (*_DEFINITIONS, *_IMPORTS)) for node in body):
        return None
    lines = module.splitlines(keepends=True)
    reply_lines = reply.splitlines(keepends=True)
    spans = {node.name: _span(node) for node in tree.body if isinstance(node, _DEFINITIONS)}
    replaced: list[tuple[int, int, str]] = []  # (start, end) line spans of the module, 0-based, and their new text
    appended: list[str] = []
    imports: list[str] = []
    for node in body:
        start, end = _span(node)
        text = "".join(reply_lines[start:end]).rstrip("\n") + "\n"
        if not isinstance(node, _DEFINITIONS):  # an import
            if text.strip() not in {line.strip() for line in lines}:
                imports.append(text)
        elif node.name in spans:
            replaced.append((*spans.pop(node.name), text))
        else:
            appended.append(text)
    for start, end, text in sorted(replaced, reverse=True):
        lines[start:end] = [text]
    merged = "".join(lines)
    if appended:
        merged = merged.rstrip("\n") + "\n\n\n" + "\n\n".join(appended)
    if imports:
        merged = _insert_imports(merged, imports)
    return merged


def definition_sources(text: str) -> dict[str, str]:
    """Each top-level ``def``/``class`` of ``text`` by name: its source, decorators included. Raises SyntaxError."""
    lines = text.splitlines(keepends=True)
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, _DEFINITIONS):
            start, end = _span(node)
            found[node.name] = "".join(lines[start:end])
    return found


def _span(node: ast.stmt) -> tuple[int, int]:
    """0-based [start, end) lines of a statement, decorators included."""
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    return first - 1, node.end_lineno or node.lineno


def _is_docstring(node: ast.stmt, tree: ast.Module) -> bool:
    return (node is tree.body[0] and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _insert_imports(module: str, imports: list[str]) -> str:
    """``imports`` after the module's last top-level import (or its docstring, or at the top)."""
    tree = ast.parse(module)
    anchor = 0
    for node in tree.body:
        if isinstance(node, _IMPORTS) or _is_docstring(node, tree):
            anchor = node.end_lineno or node.lineno
        else:
            break
    lines = module.splitlines(keepends=True)
    lines[anchor:anchor] = imports
    return "".join(lines)


def renamed_definitions(before: str, after: str) -> set[str]:
    """Top-level definitions of ``before`` that ``after`` has under a new name: same body, same kind, old name gone."""
    try:
        old, new = ast.parse(before), ast.parse(after)
    except SyntaxError:
        return set()
    new_names = {node.name for node in new.body if isinstance(node, _DEFINITIONS)}
    old_names = {node.name for node in old.body if isinstance(node, _DEFINITIONS)}
    bodies = {(type(node), _body(node)) for node in new.body
              if isinstance(node, _DEFINITIONS) and node.name not in old_names}
    return {node.name for node in old.body if isinstance(node, _DEFINITIONS) and node.name not in new_names
            and (type(node), _body(node)) in bodies}


def _body(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    return "\n".join(ast.dump(statement) for statement in node.body)


def module_docstring(text: str) -> str | None:
    """The module's docstring (``None``: none, or the text does not parse)."""
    try:
        return ast.get_docstring(ast.parse(text))
    except SyntaxError:
        return None
