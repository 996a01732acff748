"""Which checks the validator runs, and why: configured ones, else what the project shows, with its own interpreter
(real virtualenvs, a real python3 on a PATH the test controls) and the test runner that is really there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.checks import CheckFinder, describe
from orchestrator.core.errors import ConfigError
from orchestrator.settings.schema import Settings


def settings(**validate: object) -> Settings:
    return Settings.model_validate({"validate": validate})


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def make_venv(path: Path, *, pytest_installed: bool) -> Path:
    """A real virtualenv (no pip: quick); "pytest" is a stand-in package in its site-packages when asked for."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    if pytest_installed:
        (site,) = path.glob("lib/python*/site-packages")
        write(site, {"pytest/__init__.py": "", "pytest/__main__.py": "raise SystemExit(0)\n"})
    return path


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose python3 (first on PATH) cannot import pytest."""
    venv = make_venv(tmp_path_factory.mktemp("bare") / "v", pytest_installed=False)
    return {**os.environ, "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}


@pytest.fixture(scope="module")
def python_with_pytest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    venv = make_venv(tmp_path_factory.mktemp("withpytest") / "v", pytest_installed=True)
    return {**os.environ, "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}


def commands(root: Path, environ: dict[str, str], **validate: object) -> list[str]:
    return [c.command for c in CheckFinder(root, settings(**validate), environ=environ).find()]


def test_configured_commands_win(tmp_path: Path, bare_python: dict[str, str]) -> None:
    write(tmp_path, {"tests/test_x.py": ""})
    finder = CheckFinder(tmp_path, settings(commands=["ruff check .", "pytest -x"]), environ=bare_python)
    assert [(c.command, c.reason) for c in finder.find()] == [("ruff check .", "validate.commands"),
                                                              ("pytest -x", "validate.commands")]


def test_discovery_can_be_turned_off(tmp_path: Path, bare_python: dict[str, str]) -> None:
    write(tmp_path, {"tests/test_x.py": ""})
    assert commands(tmp_path, bare_python, discover=False) == []
    assert "validate.discover is off" in describe((), settings(discover=False))


def test_nothing_to_discover_says_so(tmp_path: Path, bare_python: dict[str, str]) -> None:
    write(tmp_path, {"main.py": "print(1)\n", "tests/data.txt": "a tests/ dir without Python is not Python tests"})
    assert commands(tmp_path, bare_python) == []
    assert describe((), settings()).startswith("checks: none found") and "review only" in describe((), settings())


@pytest.mark.parametrize(("layout", "expected"), [
    ({"tests/__init__.py": "", "tests/test_a.py": ""}, "python3 -m unittest discover -s tests -t ."),
    ({"tests/test_a.py": ""}, "python3 -m unittest discover -s tests"),
    ({"test/test_a.py": ""}, "python3 -m unittest discover -s test"),
    ({"tests/a_test.py": ""}, "python3 -m unittest discover -s tests -p '*_test.py'"),
    ({"pkg/__init__.py": "", "pkg/test_mod.py": ""}, "python3 -m unittest discover"),
    ({"mod_test.py": ""}, "python3 -m unittest discover -p '*_test.py'"),
])
def test_without_pytest_the_layout_gets_unittest(tmp_path: Path, bare_python: dict[str, str],
                                                 layout: dict[str, str], expected: str) -> None:
    write(tmp_path, layout)
    (check,) = CheckFinder(tmp_path, settings(), environ=bare_python).find()
    assert check.command == expected
    assert "python3 on PATH" in check.reason and "no pytest: unittest" in check.reason


def test_unittest_command_really_runs_the_demo_layout(tmp_path: Path, bare_python: dict[str, str]) -> None:
    """The README demo (examples/bank: unittest tests in a tests/ package) passes with the discovered command."""
    demo = Path(__file__).resolve().parents[2] / "examples" / "bank"
    root = write(tmp_path, {p.relative_to(demo).as_posix(): p.read_text() for p in demo.rglob("*.py")})
    (check,) = CheckFinder(root, settings(), environ=bare_python).find()
    proc = subprocess.run(["bash", "-c", check.command], cwd=root, env=bare_python, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0 and "Ran 2 tests" in proc.stderr, proc.stderr


def test_pytest_when_python3_can_import_it(tmp_path: Path, python_with_pytest: dict[str, str]) -> None:
    write(tmp_path, {"tests/test_a.py": ""})
    (check,) = CheckFinder(tmp_path, settings(), environ=python_with_pytest).find()
    assert check.command == "python3 -m pytest -q" and "pytest installed" in check.reason


@pytest.mark.parametrize(("files", "why"), [
    ({"tests/test_a.py": "import pytest\n"}, "tests/test_a.py imports it"),
    ({"tests/test_a.py": "", "conftest.py": ""}, "conftest.py"),
    ({"tests/test_a.py": "", "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, "pyproject.toml"),
])
def test_a_project_that_uses_pytest_gets_pytest_even_when_missing(tmp_path: Path, bare_python: dict[str, str],
                                                                  files: dict[str, str], why: str) -> None:
    """unittest would run none of its tests and pass: better to run pytest and report that it is not installed."""
    write(tmp_path, files)
    (check,) = CheckFinder(tmp_path, settings(), environ=bare_python).find()
    assert check.command == "python3 -m pytest -q"
    assert why in check.reason and "NOT installed" in check.reason


@pytest.mark.parametrize(("lock", "label"), [("uv.lock", ".venv/ (uv)"), ("poetry.lock", ".venv/ (poetry)"),
                                             (None, ".venv/")])
def test_the_project_venv_is_used_by_absolute_path(tmp_path: Path, bare_python: dict[str, str], lock: str | None,
                                                   label: str) -> None:
    root = write(tmp_path / "p", {"tests/test_a.py": "", **({lock: ""} if lock else {})})
    make_venv(root / ".venv", pytest_installed=True)
    (check,) = CheckFinder(root, settings(), environ=bare_python).find()
    assert check.command == f"{root.resolve()}/.venv/bin/python -m pytest -q"  # the staging copy has no .venv
    assert label in check.reason


def test_venv_dir_and_a_venv_without_pytest(tmp_path: Path, bare_python: dict[str, str]) -> None:
    root = write(tmp_path / "p", {"tests/test_a.py": ""})
    make_venv(root / "venv", pytest_installed=False)
    (check,) = CheckFinder(root, settings(), environ=bare_python).find()
    assert check.command == f"{root.resolve()}/venv/bin/python -m unittest discover -s tests"


def test_pdm_records_the_interpreter(tmp_path: Path, bare_python: dict[str, str]) -> None:
    root = write(tmp_path / "p", {"tests/test_a.py": ""})
    venv = make_venv(tmp_path / "elsewhere", pytest_installed=True)
    (root / ".pdm-python").write_text(f"{venv}/bin/python\n")
    make_venv(root / ".venv", pytest_installed=False)  # pdm's record wins over a stray .venv
    (check,) = CheckFinder(root, settings(), environ=bare_python).find()
    assert check.command == f"{venv}/bin/python -m pytest -q" and ".pdm-python (pdm)" in check.reason


def test_poetry_venv_in_its_cache_dir(tmp_path: Path, bare_python: dict[str, str]) -> None:
    import base64
    import hashlib

    root = write(tmp_path / "p", {"tests/test_a.py": "", "poetry.lock": "",
                                  "pyproject.toml": "[tool.poetry]\nname = \"My App\"\n"})
    digest = hashlib.sha256(os.path.realpath(root).encode()).digest()
    name = f"my_app-{base64.urlsafe_b64encode(digest).decode()[:8]}-py3.11"
    venv = make_venv(tmp_path / "cache" / "virtualenvs" / name, pytest_installed=True)
    env = {**bare_python, "POETRY_CACHE_DIR": str(tmp_path / "cache")}
    (check,) = CheckFinder(root, settings(), environ=env).find()
    assert check.command == f"{venv}/bin/python -m pytest -q" and "poetry" in check.reason


def test_the_venv_is_looked_for_up_to_the_git_top(tmp_path: Path, bare_python: dict[str, str]) -> None:
    top = write(tmp_path / "repo", {"svc/tests/test_a.py": ""})
    (top / ".git").mkdir()
    make_venv(top / ".venv", pytest_installed=True)
    (check,) = CheckFinder(top / "svc", settings(), environ=bare_python).find()
    assert check.command.startswith(f"{top.resolve()}/.venv/bin/python ")
    # without git, only the project directory itself counts
    (top / ".git").rmdir()
    (check,) = CheckFinder(top / "svc", settings(), environ=bare_python).find()
    assert check.command.startswith("python3 ")


def test_the_interpreter_is_probed_once_a_run(tmp_path: Path, bare_python: dict[str, str]) -> None:
    log = tmp_path / "calls"
    bin_dir = write(tmp_path / "bin", {"python3": f'#!/bin/sh\necho x >> {log}\nexec {sys.executable} "$@"\n'})
    (bin_dir / "python3").chmod(0o755)
    write(tmp_path / "p", {"tests/test_a.py": ""})
    finder = CheckFinder(tmp_path / "p", settings(), environ={**bare_python, "PATH": f"{bin_dir}:/usr/bin:/bin"})
    for _ in range(3):
        finder.find()
    assert log.read_text().count("x") == 1


def test_an_interpreter_the_repository_names_is_never_run_to_probe(tmp_path: Path,
                                                                    bare_python: dict[str, str]) -> None:
    """Discovery runs outside the sandbox: a repository's .pdm-python or fake venv must not run its own program."""
    root = write(tmp_path / "p", {"tests/test_a.py": "", "evil/pyvenv.cfg": "home = /usr/bin\n",
                                  "evil/bin/python": f"#!/bin/sh\ntouch {tmp_path}/pwned\n"})
    (root / "evil" / "bin" / "python").chmod(0o755)
    (root / ".pdm-python").write_text("evil/bin/python\n")
    (check,) = CheckFinder(root, settings(), environ=bare_python).find()
    assert check.command.startswith(f"{root}/evil/bin/python ")  # it is what the checks run, in the sandbox
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("lock", "expected"), [
    ("package-lock.json", "CI=true npm test"), ("yarn.lock", "CI=true yarn test"),
    ("pnpm-lock.yaml", "CI=true pnpm test"), ("bun.lockb", "CI=true bun run test"), (None, "CI=true npm test"),
])
def test_package_json_runs_through_the_lockfile_manager(tmp_path: Path, bare_python: dict[str, str],
                                                        lock: str | None, expected: str) -> None:
    write(tmp_path, {"package.json": json.dumps({"scripts": {"test": "vitest run"}}), **({lock: ""} if lock else {})})
    (check,) = CheckFinder(tmp_path, settings(), environ=bare_python).find()
    assert check.command == expected and "package.json test script" in check.reason


def test_other_ecosystems_and_placeholders(tmp_path: Path, bare_python: dict[str, str]) -> None:
    write(tmp_path, {"Cargo.toml": "[package]\n", "go.mod": "module x\n",
                     "Makefile": "build:\n\tcc x.c\ntest: build\n\t./x\n"})
    assert commands(tmp_path, bare_python) == ["cargo test", "go test ./...", "make test"]
    placeholder = 'echo "Error: no test specified" && exit 1'
    empty = write(tmp_path / "e", {"package.json": json.dumps({"scripts": {"test": placeholder}}),
                                   "Makefile": "build:\n\tcc x.c\n"})
    assert commands(empty, bare_python) == []


def test_a_configured_check_whose_program_is_missing_is_a_config_error(tmp_path: Path,
                                                                        bare_python: dict[str, str]) -> None:
    finder = CheckFinder(tmp_path, settings(commands=["CI=1 nosuch-runner-xyz --all"]), environ=bare_python)
    with pytest.raises(ConfigError) as caught:
        finder.preflight()
    assert "validate.commands" in caught.value.render() and "nosuch-runner-xyz" in caught.value.render()
    for fine in ("python3 -m unittest", "cd sub && make test", "./run.sh"):
        write(tmp_path, {"run.sh": ""})
        CheckFinder(tmp_path, settings(commands=[fine]), environ=bare_python).preflight()
