"""The validator: the project's checks, run in a staging root through the command path, with a bounded output tail.

Which checks, and why, is :mod:`agents.checks` (configured ``validate.commands``, else discovered: the project's own
interpreter with pytest or unittest, the lockfile's package manager, cargo, go, make). Every check goes through the
:class:`~orchestrator.engine.commands.CommandRunner` (gate, approval, sandbox, events) like any agent command. The coder
cannot fix a check that did not run, so two kinds of result make the pipeline stop instead of looping: ``blocked``
(refused by the policy or the user, blocked by the sandbox) and ``cannot_start`` (an environment error such as a
missing program or test runner, :mod:`agents.check_env`).

A check silent for ``validate.idle_timeout_s`` is taken as hung (an agent's infinite loop, a read from stdin): the
sandbox interrupts it so the test runner prints where it was, and its observation ends with a line saying so
(``agents/prompts/check_hung.md``), which is what the coder needs to find the loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, ConfigDict

from agents import prompts
from agents.check_env import cannot_start
from agents.checks import Check, CheckFinder
from orchestrator.core.text import clip_bytes

if TYPE_CHECKING:
    from orchestrator.core.services import Commands
    from orchestrator.settings.schema import Settings

__all__ = ["CheckResult", "ValidationResult", "run_checks", "tail_bytes"]


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    passed: bool
    exit_code: int | None
    output: str  # the check's observation: command, output, exit code
    blocked: bool = False  # it did not run (refused by policy or the user, blocked by the sandbox)
    environment: str = ""  # it could not start: what went wrong and the fix (one line), else ""
    timed_out: bool = False  # stopped at its time bound, or as hung (silent for validate.idle_timeout_s)


class ValidationResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    passed: bool
    checks: tuple[CheckResult, ...] = ()
    output_tail: str = ""  # the end of the failing checks' output (``validate.output_tail_bytes``), or a note

    @property
    def blocked(self) -> bool:
        return any(c.blocked for c in self.checks)

    @property
    def timed_out(self) -> bool:
        return any(c.timed_out for c in self.checks)

    @property
    def cannot_start(self) -> CheckResult | None:
        """The first check that could not start (an environment error), if any."""
        return next((c for c in self.checks if c.environment), None)

    @property
    def failing(self) -> list[str]:
        return [c.command for c in self.checks if not c.passed]


async def run_checks(step_id: str, root: Path, *, commands: Commands, settings: Settings,
                     finder: CheckFinder | None = None, timeout_s: float | None = None) -> ValidationResult:
    """Run every check of the tree at ``root`` (all of them, so the coder sees every failure at once).

    ``finder`` is the run's :class:`CheckFinder` (its interpreter probe and the user's replacements); without one,
    the checks are found for ``root`` alone. ``timeout_s`` bounds each check (None: ``validate.timeout_s``; a caller
    with less time left passes less); each is also stopped once silent for ``validate.idle_timeout_s`` (0: never).
    """
    checks = (finder or CheckFinder(root, settings)).find(root)
    if not checks:
        return ValidationResult(passed=True, output_tail="no checks configured or discovered")
    bounds = _Bounds(timeout_s or settings.validate_.timeout_s, settings.validate_.idle_timeout_s or None)
    results = [await _run_one(step_id, check, root, commands, bounds) for check in checks]
    failing = [r for r in results if not r.passed]
    text = "\n\n".join(r.output for r in failing) if failing else "\n\n".join(r.output for r in results)
    return ValidationResult(
        passed=not failing, checks=tuple(results), output_tail=tail_bytes(text, settings.validate_.output_tail_bytes)
    )


class _Bounds(NamedTuple):
    timeout_s: float
    idle_timeout_s: float | None


async def _run_one(step_id: str, check: Check, root: Path, commands: Commands, bounds: _Bounds) -> CheckResult:
    outcome = await commands.run(step_id, check.command, cwd=root, workspace=root, timeout_s=bounds.timeout_s,
                                 idle_timeout_s=bounds.idle_timeout_s)
    ran = not (outcome.refused or outcome.denied or outcome.timed_out)
    problem = cannot_start(outcome.exit_code, outcome.output, root) if ran else None
    passed = outcome.ok or (ran and check.no_tests_exit is not None and outcome.exit_code == check.no_tests_exit)
    output = outcome.observation()
    environment = problem.describe(check.command) if problem is not None else ""
    if environment:
        output += f"\n[{environment}]"
    if outcome.hung:
        output += "\n" + prompts.render("check_hung", seconds=f"{bounds.idle_timeout_s or 0:g}")
    elif outcome.timed_out:
        output += "\n" + prompts.render("check_timed_out", seconds=f"{bounds.timeout_s:g}")
    return CheckResult(command=check.command, passed=passed and not environment, exit_code=outcome.exit_code,
                       output=output, blocked=outcome.refused or outcome.denied, environment=environment,
                       timed_out=outcome.timed_out)


def tail_bytes(text: str, limit: int) -> str:
    """The last ``limit`` bytes of ``text`` (UTF-8), cut at a character boundary, marked when cut."""
    return clip_bytes(text, limit, note="[... output cut ...]\n")
