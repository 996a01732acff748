"""The validator: the project's checks, run in a staging root through the command path, with a bounded output tail.

Checks are ``validate.commands`` when configured, else (with ``validate.discover``) what the project shows:
pytest when there are tests, ``npm test`` when package.json defines a real test script, ``cargo test``,
``go test ./...``, ``make test``. Every check goes through the :class:`~orchestrator.commands.CommandRunner` (gate,
approval, sandbox, events) like any agent command. A check that could not run at all (refused, blocked by the
sandbox) makes the result ``blocked``: the coder cannot fix that, so the pipeline fails the step instead of looping.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from agents.paths import iter_files

if TYPE_CHECKING:
    from orchestrator.commands import CommandRunner
    from orchestrator.config_schema import Settings

__all__ = ["CheckResult", "ValidationResult", "discover_checks", "run_checks", "PYTEST"]

PYTEST = "python -m pytest -q"
_PYTEST_NO_TESTS = 5  # pytest's exit code when it collected nothing: not a failure of the change
_NPM_PLACEHOLDER = "no test specified"
_MAKE_TEST = re.compile(r"^test\s*:", re.MULTILINE)


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    passed: bool
    exit_code: int | None
    output: str  # the check's observation: command, output, exit code
    blocked: bool = False  # it did not run (refused by policy or the user, blocked by the sandbox)


class ValidationResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    passed: bool
    checks: tuple[CheckResult, ...] = ()
    output_tail: str = ""  # the end of the failing checks' output (``validate.output_tail_bytes``), or a note

    @property
    def blocked(self) -> bool:
        return any(c.blocked for c in self.checks)

    @property
    def failing(self) -> list[str]:
        return [c.command for c in self.checks if not c.passed]


def discover_checks(root: Path, settings: Settings) -> list[str]:
    """The check commands for the project at ``root``: configured ones, else discovered ones (possibly none)."""
    configured = list(settings.validate_.commands)
    if configured or not settings.validate_.discover:
        return configured
    checks: list[str] = []
    if _has_python_tests(root):
        checks.append(PYTEST)
    if _npm_test_script(root / "package.json"):
        checks.append("npm test")
    if (root / "Cargo.toml").is_file():
        checks.append("cargo test")
    if (root / "go.mod").is_file():
        checks.append("go test ./...")
    makefile = root / "Makefile"
    if makefile.is_file() and _MAKE_TEST.search(makefile.read_text(encoding="utf-8", errors="replace")):
        checks.append("make test")
    return checks


def _has_python_tests(root: Path) -> bool:
    if (root / "tests").is_dir() or (root / "test").is_dir():
        return True
    return any(iter_files(root, root.resolve(), "test_*.py")) or any(iter_files(root, root.resolve(), "*_test.py"))


def _npm_test_script(package_json: Path) -> bool:
    if not package_json.is_file():
        return False
    try:
        data = json.loads(package_json.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return False
    scripts = data.get("scripts") if isinstance(data, dict) else None
    script = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(script, str) and bool(script.strip()) and _NPM_PLACEHOLDER not in script


async def run_checks(step_id: str, root: Path, *, commands: CommandRunner, settings: Settings) -> ValidationResult:
    """Run every check in ``root`` (all of them, so the coder sees every failure at once)."""
    checks = discover_checks(root, settings)
    if not checks:
        return ValidationResult(passed=True, output_tail="no checks configured or discovered")
    results: list[CheckResult] = []
    for command in checks:
        outcome = await commands.run(
            step_id, command, cwd=root, workspace=root, timeout_s=settings.validate_.timeout_s
        )
        passed = outcome.ok or (command == PYTEST and outcome.exit_code == _PYTEST_NO_TESTS and not outcome.denied)
        results.append(
            CheckResult(command=command, passed=passed, exit_code=outcome.exit_code, output=outcome.observation(),
                        blocked=outcome.refused or outcome.denied)
        )
    failing = [r for r in results if not r.passed]
    text = "\n\n".join(r.output for r in failing) if failing else "\n\n".join(r.output for r in results)
    return ValidationResult(
        passed=not failing, checks=tuple(results), output_tail=tail_bytes(text, settings.validate_.output_tail_bytes)
    )


def tail_bytes(text: str, limit: int) -> str:
    """The last ``limit`` bytes of ``text`` (UTF-8), cut at a character boundary, marked when cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return "[... output cut ...]\n" + data[-limit:].decode("utf-8", errors="ignore")
