"""Which checks the validator runs: configured ones, else discovered from the project, and how results read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.validator import PYTEST, discover_checks, run_checks, tail_bytes
from orchestrator.commands import CommandRunner
from orchestrator.config_schema import Settings
from orchestrator.events import ListSink
from tests.agents.doubles import HostSandbox, ScriptedApprover, WordGate


def settings(**validate: object) -> Settings:
    return Settings.model_validate({"validate": validate})


def test_configured_commands_win(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    assert discover_checks(tmp_path, settings(commands=["ruff check .", "pytest -x"])) == ["ruff check .", "pytest -x"]


def test_discovery_can_be_turned_off(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    assert discover_checks(tmp_path, settings(discover=False)) == []


def test_nothing_to_discover(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("print(1)\n")
    assert discover_checks(tmp_path, settings()) == []


@pytest.mark.parametrize("layout", [{"tests/x.txt": ""}, {"pkg/test_mod.py": ""}, {"mod_test.py": ""}])
def test_python_tests_are_discovered(tmp_path: Path, layout: dict[str, str]) -> None:
    for name, text in layout.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert discover_checks(tmp_path, settings()) == [PYTEST]


def test_other_ecosystems(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"test": "jest"}}))
    (tmp_path / "Cargo.toml").write_text("[package]\n")
    (tmp_path / "go.mod").write_text("module x\n")
    (tmp_path / "Makefile").write_text("build:\n\tcc x.c\ntest: build\n\t./x\n")
    assert discover_checks(tmp_path, settings()) == ["npm test", "cargo test", "go test ./...", "make test"]


def test_npm_placeholder_script_and_makefile_without_test_are_ignored(tmp_path: Path) -> None:
    placeholder = 'echo "Error: no test specified" && exit 1'
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"test": placeholder}}))
    (tmp_path / "Makefile").write_text("build:\n\tcc x.c\n")
    assert discover_checks(tmp_path, settings()) == []


def test_tail_is_bounded_in_bytes() -> None:
    text = "é" * 100 + "END"
    tail = tail_bytes(text, 11)
    assert tail.startswith("[... output cut ...]\n") and tail.endswith("END")
    assert len(tail.split("\n")[1].encode()) <= 11
    assert tail_bytes("short", 100) == "short"


@pytest.mark.anyio
async def test_run_checks_runs_all_and_reports_the_failing_tail(tmp_path: Path) -> None:
    cfg = settings(commands=["echo fine", "echo broken >&2; exit 1"], output_tail_bytes=200)
    runner = CommandRunner(gate=WordGate(), approver=ScriptedApprover(), sandbox=HostSandbox(), settings=cfg,
                           events=ListSink())
    result = await run_checks("v1", tmp_path, commands=runner, settings=cfg)
    assert not result.passed and not result.blocked and result.failing == ["echo broken >&2; exit 1"]
    assert "broken" in result.output_tail and "fine" not in result.output_tail


@pytest.mark.anyio
async def test_a_refused_check_blocks_validation(tmp_path: Path) -> None:
    cfg = settings(commands=["make test"])
    runner = CommandRunner(gate=WordGate({"make": "forbidden"}), approver=ScriptedApprover(), sandbox=HostSandbox(),
                           settings=cfg, events=ListSink())
    result = await run_checks("v1", tmp_path, commands=runner, settings=cfg)
    assert not result.passed and result.blocked and "NOT RUN" in result.output_tail


@pytest.mark.anyio
async def test_no_checks_passes_with_a_note(tmp_path: Path) -> None:
    cfg = settings()
    runner = CommandRunner(gate=WordGate(), approver=ScriptedApprover(), sandbox=HostSandbox(), settings=cfg,
                           events=ListSink())
    result = await run_checks("v1", tmp_path, commands=runner, settings=cfg)
    assert result.passed and result.checks == () and "no checks" in result.output_tail
