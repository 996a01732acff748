"""Which checks fit a project, and why: the validator's commands, found once per run.

``validate.commands`` when configured; else (``validate.discover``) what the project shows, each with the reason:

* Python tests (``tests/`` or ``test/`` holding .py files, or ``test_*.py`` / ``*_test.py`` files): the project's own
  interpreter (:mod:`agents.pyenv`: pdm's record, ``.venv/``, ``venv/``, uv, poetry; else ``python3``) runs pytest
  when it can import it, or when the project declares pytest (``conftest.py``, a pytest config, ``import pytest`` in
  a test) — a missing pytest is then reported as the environment error it is; otherwise ``-m unittest discover``
  with the start directory and pattern of the layout.
* package.json with a real ``test`` script: run by the lockfile's package manager (package-lock.json → npm,
  yarn.lock → yarn, pnpm-lock.yaml → pnpm, bun.lock(b) → bun; none → npm), with ``CI=true`` so watchers exit.
* ``cargo test`` (Cargo.toml), ``go test ./...`` (go.mod), ``make test`` (a Makefile with a ``test`` target).

:class:`CheckFinder` probes the interpreter once and remembers what the user chose for a check that cannot start
(another command, or none); :meth:`CheckFinder.preflight` finds configured commands whose program does not exist.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import anyio
from pydantic import BaseModel, ConfigDict

from agents.paths import iter_files
from agents.pyenv import Interpreter, can_import, find_interpreter
from orchestrator.core.errors import ConfigError
from orchestrator.core.events import CheckInfo
from orchestrator.core.ports import CheckFixer  # re-exported (it lived here)

if TYPE_CHECKING:
    from orchestrator.settings.schema import Settings

__all__ = ["Check", "CheckFinder", "CheckFixer", "discover", "describe"]

_NPM_PLACEHOLDER = "no test specified"
_MAKE_TEST = re.compile(r"^test\s*:", re.MULTILINE)
_PYTEST_CONFIG = re.compile(r"^\[(tool\.pytest\.ini_options|tool:pytest|pytest)\]", re.MULTILINE)
_IMPORTS_PYTEST = re.compile(r"^\s*(import pytest|from pytest\b|from _pytest\b)", re.MULTILINE)
_LOCKFILES = (("bun.lockb", "bun run test"), ("bun.lock", "bun run test"), ("pnpm-lock.yaml", "pnpm test"),
              ("yarn.lock", "yarn test"), ("package-lock.json", "npm test"))
_SHELL_WORDS = frozenset({"cd", "source", ".", "export", "set", "exec", "eval", "if", "for", "while", "case", "{",
                          "(", "!", "[", "[[", "test", "true", "false", "echo", "printf", "command", "builtin",
                          "time", "env", "sudo", "timeout", "nice", "nohup"})
_MAX_SCANNED = 200  # test files listed (and read for `import pytest`) at most


class Check(BaseModel):
    """One check command; ``no_tests_exit`` is its runner's "collected nothing" exit code (not a failure)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    reason: str
    no_tests_exit: int | None = None

    def info(self) -> CheckInfo:
        return CheckInfo(command=self.command, reason=self.reason)


class CheckFinder:
    """The checks of the project at ``project`` (the session's cwd): found per staging root, probed once a run."""

    def __init__(self, project: Path, settings: Settings, *, fixer: CheckFixer | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.project = project
        self.settings = settings
        self.fixer = fixer
        self._environ = environ
        self._python: tuple[Interpreter, bool] | None = None  # the interpreter, and whether it imports pytest
        self._replaced: dict[str, str] = {}  # a check that could not start → the user's command ("" = none)
        self._skip_all = False
        self._asking = anyio.Lock()

    def python(self) -> tuple[Interpreter, bool]:
        """The project's interpreter and whether it can import pytest (probed on first use only)."""
        if self._python is None:
            interpreter = find_interpreter(self.project, self._environ)
            self._python = (interpreter, can_import(interpreter, "pytest", self._environ))
        return self._python

    def find(self, root: Path | None = None) -> tuple[Check, ...]:
        """The checks for the tree at ``root`` (default: the project), after the user's replacements."""
        if self._skip_all:
            return ()
        configured = self.settings.validate_.commands
        if configured:
            found = [Check(command=c, reason="validate.commands") for c in configured]
        elif not self.settings.validate_.discover:
            return ()
        else:
            found = discover(root or self.project, self.python)
        replaced = [c if c.command not in self._replaced else
                    Check(command=self._replaced[c.command], reason="your replacement") for c in found]
        return tuple(c for c in replaced if c.command)

    def infos(self) -> tuple[CheckInfo, ...]:
        """The project's checks as ``plan.created`` reports them."""
        return tuple(c.info() for c in self.find())

    async def fix(self, command: str, reason: str) -> bool:
        """Ask the user about a check that cannot start (once per command): True when it was replaced or dropped
        and the checks should run again, False when nobody can answer (the step fails)."""
        if self.fixer is None:
            return False
        async with self._asking:
            if command not in self._replaced:
                answer = (await self.fixer.fix_check(command, reason)).strip()
                self._replaced[command] = answer
                self._skip_all = self._skip_all or not answer
        return True

    def preflight(self) -> None:
        """Raise :class:`ConfigError` for a configured check whose program is not installed (it could never run)."""
        for command in self.settings.validate_.commands:
            program = _program(command)
            if program is not None and not _installed(program, self.project, self._environ):
                raise ConfigError(f"validate.commands: `{command}` cannot run: `{program}` is not installed or not on "
                                  "PATH", hint="install it, or set validate.commands to a command that exists "
                                               "(e.g. -c 'validate.commands=[\"python3 -m pytest -q\"]')")


def describe(checks: tuple[Check, ...] | tuple[CheckInfo, ...], settings: Settings) -> str:
    """The one line a run starts with: which checks run, and why."""
    if checks:
        return "checks: " + "; ".join(f"`{c.command}` ({c.reason})" for c in checks)
    if settings.validate_.commands or not settings.validate_.discover:
        return "checks: none (validate.discover is off and validate.commands is empty): review only"
    return ("checks: none found (no Python tests, package.json test script, Cargo.toml, go.mod or Makefile test "
            "target): review only; set validate.commands to add some")


def discover(root: Path, python: PythonProbe) -> list[Check]:
    """The checks the tree at ``root`` shows (module docstring); ``python()`` is called only for Python tests."""
    checks: list[Check] = []
    layout = _python_layout(root)
    if layout is not None:
        checks.append(_python_check(root, layout, *python()))
    package = _npm_check(root)
    if package is not None:
        checks.append(package)
    if (root / "Cargo.toml").is_file():
        checks.append(Check(command="cargo test", reason="Cargo.toml"))
    if (root / "go.mod").is_file():
        checks.append(Check(command="go test ./...", reason="go.mod"))
    makefile = root / "Makefile"
    if makefile.is_file() and _MAKE_TEST.search(makefile.read_text(encoding="utf-8", errors="replace")):
        checks.append(Check(command="make test", reason="Makefile has a test target"))
    return checks


class PythonProbe(Protocol):
    def __call__(self) -> tuple[Interpreter, bool]: ...


def _python_layout(root: Path) -> tuple[str | None, str, list[str]] | None:
    """(tests directory or None, file pattern, test files relative to ``root``) when the tree has Python tests."""
    base = root.resolve()
    for name in ("tests", "test"):
        if (root / name).is_dir():
            files = _some(iter_files(base, base / name, "*.py"))
            if files:
                names = [f.rsplit("/", 1)[-1] for f in files]
                suffixed = not any(n.startswith("test") for n in names) and any(n.endswith("_test.py") for n in names)
                return name, "*_test.py" if suffixed else "test*.py", files
    for pattern in ("test_*.py", "*_test.py"):
        files = _some(iter_files(base, base, pattern))
        if files:
            return None, "test*.py" if pattern == "test_*.py" else pattern, files
    return None


def _some(files: Iterator[str]) -> list[str]:
    return list(itertools.islice(files, _MAX_SCANNED))


def _python_check(root: Path, layout: tuple[str | None, str, list[str]], interpreter: Interpreter,
                  has_pytest: bool) -> Check:
    directory, pattern, files = layout
    where = f"{directory}/" if directory else f"{pattern} files"
    python = shlex.quote(interpreter.command)
    declared = _declares_pytest(root, files)
    if has_pytest or declared:
        why = "pytest installed" if has_pytest else f"the project uses pytest ({declared}), NOT installed"
        return Check(command=f"{python} -m pytest -q", reason=f"{where}; {interpreter.source}; {why}",
                     no_tests_exit=5)
    command = f"{python} -m unittest discover"
    if directory:
        command += f" -s {directory}" + (" -t ." if (root / directory / "__init__.py").is_file() else "")
    if pattern != "test*.py":
        command += f" -p {shlex.quote(pattern)}"
    return Check(command=command, reason=f"{where}; {interpreter.source}; no pytest: unittest", no_tests_exit=5)


def _declares_pytest(root: Path, files: list[str]) -> str:
    """Why the project needs pytest (conftest.py, a pytest config, a test importing it), or "" when nothing says so."""
    if (root / "conftest.py").is_file() or any(f.rsplit("/", 1)[-1] == "conftest.py" for f in files):
        return "conftest.py"
    for name in ("pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini"):
        path = root / name
        if path.is_file() and (name == "pytest.ini" or _PYTEST_CONFIG.search(_read(path))):
            return f"{name} configures it"
    for rel in files:
        if _IMPORTS_PYTEST.search(_read(root / rel)):
            return f"{rel} imports it"
    return ""


def _npm_check(root: Path) -> Check | None:
    package_json = root / "package.json"
    if not package_json.is_file():
        return None
    try:
        data = json.loads(package_json.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    script = scripts.get("test") if isinstance(scripts, dict) else None
    if not (isinstance(script, str) and script.strip() and _NPM_PLACEHOLDER not in script):
        return None
    lock, run = next(((lock, run) for lock, run in _LOCKFILES if (root / lock).is_file()), ("", "npm test"))
    manager = run.split()[0]
    reason = f"package.json test script; {lock} → {manager}" if lock else "package.json test script; no lockfile: npm"
    return Check(command=f"CI=true {run}", reason=reason)


def _program(command: str) -> str | None:
    """The program a plain command starts with (after VAR=value words), or None when the shell decides."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    words = [w for w in words if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)] if words else []
    if not words or words[0] in _SHELL_WORDS or any(ch in words[0] for ch in "$`*?;&|<>(){}"):
        return None
    return words[0]


def _installed(program: str, project: Path, environ: Mapping[str, str] | None) -> bool:
    if "/" in program:
        path = Path(program) if Path(program).is_absolute() else project / program
        return path.exists()
    return shutil.which(program, path=(environ if environ is not None else os.environ).get("PATH")) is not None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
