"""Guards on what a coder may write: the check's test files stay as they are, and Python stays parsable.

Both are product rules, not benchmark ones (issue 17):

- **Protected tests.** When the tests define success (a configured check command names a test file, or the task names
  one and says the tests must pass or stay unchanged), a coder that edits the tests can "pass" by weakening them. The
  toolbox refuses any change to such a file with a message that says why and what to change instead.
- **Unparsable Python.** An edit that merged two lines into ``def f(x):    x = x.lower() …`` left a module that no
  longer parsed, and the loop went on for 13 minutes on errors that hid the real one. A change that would leave a
  Python file unparsable (when it parsed before) is not written; the coder is told ``file:line: message``.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

__all__ = ["is_test_file", "protected_tests", "syntax_problem", "says_tests_define_success"]

_TEST_NAME = re.compile(r"(^test_.*\.py$|.*_test\.py$|.*\.(test|spec)\.[cm]?[jt]sx?$|.*_test\.go$)")
_SUCCESS = re.compile(
    r"\b(tests?|test file|test suite)\b.{0,80}\b(pass|passing|define success|must succeed)\b"
    r"|\bwithout (changing|modifying|editing|touching)\b",
    re.IGNORECASE | re.DOTALL,
)
_WORD = re.compile(r"[\w./-]+")


def is_test_file(path: str) -> bool:
    """Whether ``path``'s file name is a test module's (``test_x.py``, ``x_test.py``, ``x.test.js``, ``x_test.go``)."""
    return _TEST_NAME.match(PurePosixPath(path).name) is not None


def says_tests_define_success(task: str) -> bool:
    """Whether the task says its tests judge the work ("make the tests pass", "without changing the tests")."""
    return _SUCCESS.search(task) is not None


def protected_tests(task: str, checks: Iterable[str], root: Path) -> frozenset[str]:
    """The existing test files under ``root`` (root-relative) that a coder may not change: those a check command
    names, and those the task names when it says the tests define success."""
    words: list[str] = []
    for command in checks:
        try:
            words += shlex.split(command)
        except ValueError:
            words += command.split()
    if says_tests_define_success(task):
        words += _WORD.findall(task)
    found = set()
    for word in words:
        name = word.strip("`'\".,:;()")
        if not name or not is_test_file(name) or name.startswith("/"):
            continue
        path = (root / name).resolve()
        if path.is_file() and path.is_relative_to(root.resolve()):
            found.add(path.relative_to(root.resolve()).as_posix())
    return frozenset(found)


def syntax_problem(path: str, before: str | None, after: str) -> str | None:
    """``file:line: message`` when ``after`` (the new text of ``path``) is Python that does not parse and ``before``
    (``None``: a new file) did parse; else ``None``. Other languages are not checked."""
    if not path.endswith(".py") or (before is not None and _problem(before) is not None):
        return None
    problem = _problem(after)
    return f"{path}:{problem}" if problem else None


def _problem(text: str) -> str | None:
    try:
        ast.parse(text)
    except SyntaxError as exc:
        return f"{exc.lineno or 0}: {exc.msg}"
    except ValueError as exc:  # null bytes
        return f"0: {exc}"
    return None
