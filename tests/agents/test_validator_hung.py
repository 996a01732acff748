"""A check that hangs (issue 17) fails with what the coder needs: pytest's location of the loop and one line saying
the check was stopped as hung. Real command path: the gate double, the real CommandRunner and SandboxRunner."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from agents import prompts
from agents.validator import ValidationResult, run_checks
from orchestrator.core.events import ListSink
from orchestrator.engine.commands import CommandRunner
from orchestrator.settings.schema import Settings
from policies.sandbox import SandboxRunner, policy_for
from tests.agents.doubles import ScriptedApprover, WordGate
from tests.sandbox.test_hung_commands import LOOPING_TEST

pytestmark = pytest.mark.anyio
CHECK = f"{sys.executable} -m pytest -q -p no:cacheprovider count_test.py"


async def _validate(root: Path, *, timeout_s: float | None = None, **validate: Any) -> ValidationResult:
    (root / "count_test.py").write_text(LOOPING_TEST)
    settings = Settings.model_validate({"sandbox_mode": "danger-full-access",
                                        "validate": {"commands": [CHECK], **validate}})
    commands = CommandRunner(gate=WordGate(), approver=ScriptedApprover(), sandbox=SandboxRunner(backends=[]),
                             settings=settings, events=ListSink(), policy_for=policy_for,
                             persist_rule=lambda prefix, file: None)
    return await run_checks("s1", root, commands=commands, settings=settings, timeout_s=timeout_s)


async def test_a_hung_check_fails_with_where_it_looped_and_a_line_saying_so(tmp_path: Path) -> None:
    result = await _validate(tmp_path, idle_timeout_s=2)
    (check,) = result.checks
    assert not result.passed and not check.passed and not check.blocked and not check.environment
    hung = prompts.render("check_hung", seconds="2")
    assert check.output.endswith("\n" + hung) and result.output_tail.endswith(hung)
    assert "count_test.py:3: KeyboardInterrupt" in check.output
    assert "[timed out: the command was stopped" not in check.output  # the hung line says why, not "run quicker"


async def test_the_callers_timeout_bounds_each_check_and_is_not_called_hung(tmp_path: Path) -> None:
    result = await _validate(tmp_path, timeout_s=3, idle_timeout_s=0)  # 0: the idle bound is off
    (check,) = result.checks
    assert not check.passed and "timed out after 3s" in check.output
    assert "count_test.py:3: KeyboardInterrupt" in check.output
    assert prompts.render("check_hung", seconds="0") not in check.output


def test_the_idle_bound_is_a_config_key_with_a_default() -> None:
    assert Settings().validate_.idle_timeout_s == 60.0
    with pytest.raises(ValueError, match="idle_timeout_s"):
        Settings.model_validate({"validate": {"idle_timeout_s": -1}})
