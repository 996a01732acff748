"""The wheel a user installs carries every resource the program loads, and runs from outside the checkout.

A non-editable ``pip install '.[local]'`` once shipped without ``orchestrator._config`` (the default config and rules)
and every command died with ``ModuleNotFoundError``; the editable install that CI used hid it. This test builds the
wheel from the repository as pip does, installs it into a fresh virtual environment, and runs ``orchestrate --help``
and ``orchestrate plan`` (with a scripted planner) from a directory outside the checkout, with a fresh HOME.

The fresh environment gets the third-party dependencies from the test's own environment through a ``.pth`` line (a
path added that way has its own ``.pth`` files ignored, so the checkout's editable install cannot leak in); the
package under test comes only from the wheel, which the test asserts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RESOURCES = (
    "orchestrator/_config/default.toml",
    "orchestrator/_config/default.rules",
    "orchestrator/py.typed",
    "agents/prompts/coder_system.md",
    "agents/prompts/planner_system.md",
    "agents/prompts/reviewer_system.md",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (built,) = out.glob("orchestrate-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    # pip itself installs it (console script included), from the wheel alone: no index, no dependencies.
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install", "-q",
                           "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, check=False,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    fresh_purelib = Path(sysconfig.get_path("purelib", vars={"base": str(env_dir), "platbase": str(env_dir)}))
    (fresh_purelib / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env_dir


def _run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home = cwd.parent / "home"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home), "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
           "ORCHESTRATE_HOME": str(home / ".orchestrate")}
    return subprocess.run([str(venv / "bin" / "orchestrate"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=120)


def test_the_wheel_carries_every_resource_the_program_loads(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [r for r in RESOURCES if r not in names]
    prompts = {p.name for p in (ROOT / "agents" / "prompts").iterdir() if p.suffix in (".md", ".txt")}
    assert prompts <= {Path(n).name for n in names if n.startswith("agents/prompts/")}


def test_the_installed_wheel_runs_outside_the_checkout(venv: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "bank.py").write_text("def deposit(balance, amount):\n    return balance + amount\n")
    located = subprocess.run([str(venv / "bin" / "python"), "-c", "import orchestrator; print(orchestrator.__file__)"],
                             cwd=project, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    assert Path(located.stdout.strip()).is_relative_to(venv)

    helped = _run(venv, project, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "exec" in helped.stdout

    plan = {"summary": "validate", "steps": [{"id": "s1", "role": "coder", "goal": "validate deposits",
                                               "files": ["bank.py"]}]}
    replies = tmp_path / "planner.json"
    replies.write_text(json.dumps([json.dumps(plan)]))
    planned = _run(venv, project, "plan", "--json", "-m", f"scripted:{replies}", "add input validation to bank.py")
    assert planned.returncode == 0, planned.stderr
    assert "Traceback" not in planned.stderr
    steps = json.loads(planned.stdout)["steps"]
    assert [s["id"] for s in steps] == ["s1"]


def test_no_resource_is_read_from_the_checkout_when_installed(venv: Path) -> None:
    probe = ("from orchestrator.settings.home import resource_path; "
             "print(resource_path('default.toml')); print(resource_path('default.rules'))")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, check=True,
                         cwd=venv, env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}})
    for line in out.stdout.split():
        assert Path(line).is_relative_to(venv) and Path(line).is_file()
