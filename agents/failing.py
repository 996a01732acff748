"""Which tests failed, and their source: what a failing candidate's feedback shows next to the test runner's output.

A test runner's failure report often stops at the line that raised, before the input that matters: a unittest
``with self.assertRaises(ValueError):`` block fails with "ValueError not raised" on the ``with`` line, and the call
with the offending argument is on the next line, never printed. A small model then answers with the same program
(issue 17, seen on the development set). The failing tests' own source, read from the task's test
files, shows what each one asks for in full.

Failing test names are read from pytest (``FAILED file::Class::name``), unittest (``FAIL: name (module.Class...)``)
and jest/vitest (a bullet, then the suites and the title, joined by angle quotes or ``>``) output. Python test files
are searched with :mod:`ast` (a method of any class or a module-level function of that name); JavaScript/TypeScript
files by the call ``test("name"``/``it(`` and its bracket-balanced extent. What cannot be found is left out: the
runner's output is shown either way.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterable, Mapping

__all__ = ["failing_tests", "sources_of"]

_PYTEST = re.compile(r"^(?:FAILED|ERROR) (\S+?\.py)::(\S+)", re.MULTILINE)
_UNITTEST = re.compile(r"^(?:FAIL|ERROR): (\w+) \(", re.MULTILINE)
# jest's and vitest's bullets (black circle, multiplication sign, cross) or vitest's "FAIL file >" line
_JEST = re.compile(r"^\s*(?:\u25cf|\u00d7|\u2715|FAIL\s+\S+\s+>)\s+(.+?)\s*(?:\d+ms)?$", re.MULTILINE)
_JS_SUFFIXES = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs")


def failing_tests(output: str) -> list[str]:
    """The names of the failing tests in a test runner's ``output``, first seen first, without repeats. pytest's
    parameters (``name[3-4]``) and classes are dropped (a test is looked up by its function's name); a jest/vitest
    name is its last part (the test's own title)."""
    names: list[str] = []
    for match in _PYTEST.finditer(output):
        names.append(match.group(2).split("::")[-1].split("[", 1)[0])
    names.extend(match.group(1) for match in _UNITTEST.finditer(output))
    for match in _JEST.finditer(output):
        title = re.split(r"\s+[\u203a>]\s+", match.group(1))[-1].strip()
        if title and not title.endswith((".js", ".ts", ".jsx", ".tsx")):
            names.append(title)
    return list(dict.fromkeys(names))


def sources_of(tests: Mapping[str, str], names: Iterable[str], *, limit: int, shown: str = "") -> str:
    """The source of each named test found in ``tests`` (path → content), in the order of ``names``, each headed
    by its file's path and line, within ``limit`` characters (the tests that do not fit are counted in one last line).
    A test whose every line is in ``shown`` already (the runner printed it) is left out: the model reads every byte.
    Empty when none is found."""
    seen = {line.strip() for line in shown.splitlines()}
    found: list[str] = []
    for name in dict.fromkeys(names):
        for path, text in tests.items():
            hit = _python_test(text, name) if path.endswith(".py") else \
                _js_test(text, name) if path.endswith(_JS_SUFFIXES) else None
            if hit is not None:
                line, source = hit
                body = [part.strip() for part in source.splitlines()[1:] if part.strip()]
                if not body or not all(part in seen for part in body):
                    found.append(f"{path}:{line}\n{source}")
                break
    kept: list[str] = []
    used = 0
    for block in found:
        if used + len(block) > limit and kept:
            break
        kept.append(block if len(block) <= limit else block[:limit].rstrip() + "\n...")
        used += len(kept[-1]) + 2
    text = "\n\n".join(kept)
    if len(kept) < len(found):
        text += f"\n\n({len(found) - len(kept)} more failing tests not shown)"
    return text


def _python_test(text: str, name: str) -> tuple[int, str] | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lines = text.splitlines()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name and node.end_lineno:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return start, textwrap.dedent("\n".join(lines[start - 1:node.end_lineno]))
    return None


def _js_test(text: str, name: str) -> tuple[int, str] | None:
    """The ``test(``/``it(`` call titled ``name`` up to its balanced closing bracket (strings and comments are not
    parsed: a bracket inside one can cut the block short, which only shows less)."""
    quoted = "|".join(re.escape(q + name + q) for q in ("'", '"', "`"))
    call = re.search(rf"\b(?:test|it)(?:\.\w+)?\(\s*(?:{quoted})", text)
    if call is None:
        return None
    depth = 0
    for index in range(call.start(), len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                start = text.rfind("\n", 0, call.start()) + 1
                end = text.find("\n", index)
                block = text[start:end if end != -1 else len(text)]
                return text.count("\n", 0, start) + 1, textwrap.dedent(block)
    return None
