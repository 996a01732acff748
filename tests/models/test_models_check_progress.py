"""``models check`` says which model it is asking before the answer comes (issue 14: nothing was shown while it
ran), and a failure's reason is one readable line at 80 columns, not a shredded table cell."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli

CAPABLE = "function:tests.models.model_functions:capable"
TEXT_TOOLS = "function:tests.models.model_functions:text_tools"


def _run(argv: list[str], home: Path) -> tuple[int, str]:
    screen = Console(record=True, width=80)  # stdout and stderr interleaved, as a terminal shows them
    environ = {"ORCHESTRATE_HOME": str(home), "ORCHESTRATE_FORBID_MODEL_REQUESTS": "1"}
    code = cli(argv, CliContext(out=screen, err=screen, environ=environ))
    return code, screen.export_text()


def test_each_model_is_announced_with_its_roles_before_its_result_and_the_table(orchestrate_home: Path) -> None:
    code, shown = _run(["models", "check", "-c", f'model="{CAPABLE}"', "-c", f'roles.coder.model="{TEXT_TOOLS}"'],
                       orchestrate_home)
    assert code == 0
    lines = [line.rstrip() for line in shown.splitlines()]
    first = lines.index(f"checking {CAPABLE} (planner, reviewer, validator) ...")
    second = lines.index(f"checking {TEXT_TOOLS} (coder) ...")
    assert lines[first + 1].startswith("  chat yes, JSON schema yes, tool calls native")
    assert lines[second + 1].startswith("  chat yes") and "tool calls as JSON text" in lines[second + 1]
    assert first < second < lines.index("model check")  # the table comes last


def test_a_failure_reason_is_one_line_under_the_table(orchestrate_home: Path) -> None:
    code, shown = _run(["models", "check", "openai/gpt-4.1"], orchestrate_home)
    assert code == 2
    lines = [line.rstrip() for line in shown.splitlines()]
    assert lines[0] == "checking openai/gpt-4.1 ..."
    assert lines[1].startswith("  failed: ") and "forbidden" in lines[1]
    assert "openai/gpt-4.1" in lines[-1] and "forbidden" in lines[-1]
    assert sum("forbidden" in line for line in lines) == 2  # in the progress line and under the table only
