"""A check that cannot start is an environment error, not a code failure: real commands through the real command
path (gate double, real bash), and the shell keeps the user's PATH."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agents.check_env import cannot_start
from agents.validator import run_checks, tail_bytes
from orchestrator.core.events import ListSink
from orchestrator.engine.commands import CommandRunner, shell_argv
from orchestrator.settings.schema import Settings
from policies.amend import append_allow_rule
from policies.sandbox import policy_for
from tests.agents.doubles import HostSandbox, ScriptedApprover, WordGate

pytestmark = pytest.mark.anyio


def settings(**validate: object) -> Settings:
    return Settings.model_validate({"validate": validate})


def runner(cfg: Settings, gate: WordGate | None = None) -> CommandRunner:
    return CommandRunner(gate=gate or WordGate(), approver=ScriptedApprover(), sandbox=HostSandbox(), settings=cfg,
                         events=ListSink(), policy_for=policy_for, persist_rule=append_allow_rule)


async def check(root: Path, command: str) -> tuple[bool, str]:
    cfg = settings(commands=[command], output_tail_bytes=2000)
    result = await run_checks("v1", root, commands=runner(cfg), settings=cfg)
    broken = result.cannot_start
    return result.passed, broken.environment if broken else ""


@pytest.fixture(scope="module")
def venv_without_pytest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


async def test_a_missing_program_is_an_environment_error(tmp_path: Path) -> None:
    passed, why = await check(tmp_path, "nosuch-tool-xyz --run")
    assert not passed and "`nosuch-tool-xyz` was not found (exit 127)" in why and "Fix:" in why


async def test_python_that_is_not_there_says_use_python3(tmp_path: Path) -> None:
    passed, why = await check(tmp_path, "PATH=/nonexistent python -m pytest -q")
    assert not passed and "`python` was not found" in why and "python3" in why


async def test_pytest_missing_from_the_venv_names_the_interpreter_and_the_fix(tmp_path: Path,
                                                                               venv_without_pytest: Path) -> None:
    python = venv_without_pytest / "bin" / "python"
    passed, why = await check(tmp_path, f"{python} -m pytest -q")
    assert not passed and f"pytest is not installed for {python}" in why
    assert f"`{python} -m pip install pytest`" in why


async def test_a_program_that_cannot_execute(tmp_path: Path) -> None:
    (tmp_path / "run-tests").write_text("#!/bin/sh\nexit 0\n")  # not executable
    passed, why = await check(tmp_path, "./run-tests")
    assert not passed and "exit 126" in why


async def test_failures_of_the_code_are_not_environment_errors(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("import bank\n\ndef test_a():\n    assert bank.x == 1\n")
    (tmp_path / "t.py").write_text("import unknown_module_of_the_project\n")
    for command in ("python3 -c 'assert 1 == 2'", f"{sys.executable} -m pytest -q -p no:cacheprovider test_a.py",
                    "python3 t.py", "exit 3"):
        passed, why = await check(tmp_path, command)
        assert not passed and why == "", command


async def test_the_tail_carries_the_problem_and_the_step_sees_it_once(tmp_path: Path) -> None:
    cfg = settings(commands=["echo ok", "nosuch-tool-xyz"], output_tail_bytes=200)
    result = await run_checks("v1", tmp_path, commands=runner(cfg), settings=cfg)
    assert not result.passed and result.failing == ["nosuch-tool-xyz"]
    assert result.output_tail.rstrip().endswith("Fix: install `nosuch-tool-xyz` or put it on PATH, or set "
                                                "validate.commands]")


@pytest.mark.parametrize(("output", "expected"), [
    ("node:internal/modules/cjs/loader:1080\n  throw err;\nError: Cannot find module "
     "'/p/node_modules/vitest/vitest.mjs'\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)",
     "node cannot load `/p/node_modules/vitest/vitest.mjs`"),
    ("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'vitest' imported from /p/vitest.config.js\n"
     "    at packageResolve (node:internal/modules/esm/resolve:854:9)", "node cannot load `vitest`"),
    ("npm ERR! Missing script: \"test\"", "no test script"),
    ("make: *** [Makefile:2: test] Error 127", "was not found"),
])
async def test_javascript_and_make_cases(tmp_path: Path, output: str, expected: str) -> None:
    (tmp_path / "package-lock.json").write_text("{}")
    problem = cannot_start(1 if "127" not in output else 2, output, tmp_path)
    assert problem is not None and expected in problem.what
    if "node" in expected:
        assert "`npm ci`" in problem.fix


async def test_a_relative_import_the_code_broke_is_the_coders(tmp_path: Path) -> None:
    output = ("Error: Cannot find module './Dashboard'\nRequire stack:\n- /p/src/x.test.js\n"
              "    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)")
    assert cannot_start(1, output, tmp_path) is None


async def test_a_missing_node_modules_is_named(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "yarn.lock").write_text("")
    problem = cannot_start(127, "> vitest run\n\nsh: 1: vitest: not found\n", tmp_path)
    assert problem is not None and "`vitest` was not found" in problem.what
    assert "node_modules/ is missing" in problem.what
    assert "`yarn install`" in problem.fix


async def test_commands_keep_the_users_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: `bash -lc` re-read /etc/profile, which resets PATH, so a venv's or a version manager's programs
    (and the user's only `python`) vanished from every command."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mytool").write_text("#!/bin/sh\necho from-my-path\n")
    (bin_dir / "mytool").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.profile that would put it back
    cfg = settings()
    outcome = await runner(cfg).run("s1", "mytool", cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.exit_code == 0 and "from-my-path" in outcome.output, outcome.output
    assert shell_argv("x")[:2] == ["bash", "-c"]


async def test_a_refused_check_blocks_validation(tmp_path: Path) -> None:
    cfg = settings(commands=["make test"])
    result = await run_checks("v1", tmp_path, commands=runner(cfg, WordGate({"make": "forbidden"})), settings=cfg)
    assert not result.passed and result.blocked and result.cannot_start is None and "NOT RUN" in result.output_tail


async def test_run_checks_runs_all_and_reports_the_failing_tail(tmp_path: Path) -> None:
    cfg = settings(commands=["echo fine", "echo broken >&2; exit 1"], output_tail_bytes=200)
    result = await run_checks("v1", tmp_path, commands=runner(cfg), settings=cfg)
    assert not result.passed and not result.blocked and result.failing == ["echo broken >&2; exit 1"]
    assert "broken" in result.output_tail and "fine" not in result.output_tail and result.cannot_start is None


async def test_no_checks_passes_with_a_note(tmp_path: Path) -> None:
    cfg = settings()
    result = await run_checks("v1", tmp_path, commands=runner(cfg), settings=cfg)
    assert result.passed and result.checks == () and "no checks" in result.output_tail


def test_tail_is_bounded_in_bytes() -> None:
    text = "é" * 100 + "END"
    tail = tail_bytes(text, 11)
    assert tail.startswith("[... output cut ...]\n") and tail.endswith("END")
    assert len(tail.split("\n")[1].encode()) <= 11
    assert tail_bytes("short", 100) == "short"
