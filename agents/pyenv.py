"""The project's Python interpreter, as its own tools record it, and whether it can import pytest.

:func:`find_interpreter` looks in the project directory and its parents up to the git top level (only the directory
itself outside git) for, in order: pdm's ``.pdm-python`` file, an in-project virtualenv (``.venv/``, which uv and
poetry's ``virtualenvs.in-project`` create, then ``venv/``), uv's ``UV_PROJECT_ENVIRONMENT``, and poetry's venv in its
cache directory. Otherwise it is ``python3``: a bare ``python`` is never assumed to exist.

:func:`can_import` never runs an interpreter that the repository names (a committed ``.venv`` could hold a ``.pth``
file, which Python executes at start-up, and this probe runs outside the sandbox): a virtualenv is inspected on disk
(its ``site-packages``), and only an interpreter found on ``PATH`` is asked, from a neutral directory.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Interpreter", "find_interpreter", "can_import"]

_PROBE = "import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)"
_PROBE_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Interpreter:
    """``command``: what a check runs (an absolute path, or ``python3`` on PATH); ``venv``: its virtualenv, if any;
    ``source``: where it was found, for the user (".venv/ (uv)", ".pdm-python", "python3 on PATH", ...)."""

    command: str
    source: str
    venv: Path | None = None


def find_interpreter(project: Path, environ: Mapping[str, str] | None = None) -> Interpreter:
    """The interpreter the project's tests should run with (see the module docstring)."""
    env = os.environ if environ is None else environ
    for directory in _search_dirs(project):
        found = _recorded(directory, project.resolve(), env)
        if found is not None:
            return found
    return Interpreter(command="python3", source="no project virtualenv: python3 on PATH")


def can_import(interpreter: Interpreter, module: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``interpreter`` can import ``module`` (see the module docstring for how it is found out)."""
    if interpreter.venv is not None:
        return _in_site_packages(interpreter.venv, module)
    env = dict(os.environ if environ is None else environ)
    program = shutil.which(interpreter.command, path=env.get("PATH"))
    if program is None:
        return False
    try:
        proc = subprocess.run([program, "-c", _PROBE, module], cwd="/", env=env, capture_output=True,
                              timeout=_PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def _search_dirs(project: Path) -> list[Path]:
    """``project``, then its parents up to the first one holding ``.git`` (only ``project`` when none does)."""
    project = project.resolve()
    chain = [project, *project.parents]
    for i, directory in enumerate(chain):
        if (directory / ".git").exists():
            return chain[: i + 1]
    return [project]


def _recorded(directory: Path, project: Path, env: Mapping[str, str]) -> Interpreter | None:
    pdm = directory / ".pdm-python"
    if pdm.is_file():
        found = _from_pdm(directory, pdm, _label(pdm, project))
        if found is not None:
            return found
    uv_env = env.get("UV_PROJECT_ENVIRONMENT")
    if uv_env and (directory / "uv.lock").is_file():
        found = _venv_at(directory / uv_env, "UV_PROJECT_ENVIRONMENT (uv)")
        if found is not None:
            return found
    for name in (".venv", "venv"):
        found = _venv_at(directory / name, f"{_label(directory / name, project)}/{_manager(directory)}")
        if found is not None:
            return found
    return _poetry_cache_venv(directory, env)


def _from_pdm(directory: Path, record: Path, label: str) -> Interpreter | None:
    text = record.read_text(encoding="utf-8", errors="replace").strip()
    if not text:
        return None
    python = Path(text) if Path(text).is_absolute() else directory / text
    for venv in (python.parent.parent, python.parent):  # bin/python, or Scripts/python.exe
        if (venv / "pyvenv.cfg").is_file() and python.is_file():
            return Interpreter(command=str(python), source=f"{label} (pdm)", venv=venv)
    return None  # an interpreter outside any virtualenv: only python3 on PATH is probed (module docstring)


def _venv_at(venv: Path, source: str) -> Interpreter | None:
    if not (venv / "pyvenv.cfg").is_file():
        return None
    for python in (venv / "bin" / "python", venv / "bin" / "python3", venv / "Scripts" / "python.exe"):
        if python.is_file():
            return Interpreter(command=str(python), source=source, venv=venv)
    return None


def _manager(directory: Path) -> str:
    if (directory / "uv.lock").is_file():
        return " (uv)"
    if (directory / "poetry.lock").is_file():
        return " (poetry)"
    if (directory / "pdm.lock").is_file():
        return " (pdm)"
    return ""


def _poetry_cache_venv(directory: Path, env: Mapping[str, str]) -> Interpreter | None:
    """Poetry's venv outside the project: ``{cache}/virtualenvs/{name}-{hash of the path}-py{X.Y}``."""
    name = _poetry_name(directory / "pyproject.toml") if (directory / "poetry.lock").is_file() else None
    if name is None:
        return None
    root = _poetry_venvs_dir(env)
    sanitized = re.sub(r'[ $`!*@"\\\r\n\t]', "_", name.lower())[:42]
    digest = hashlib.sha256(os.path.normcase(os.path.realpath(directory)).encode()).digest()
    prefix = f"{sanitized}-{base64.urlsafe_b64encode(digest).decode()[:8]}-py"
    candidates = sorted(root.glob(prefix + "*"), reverse=True) if root.is_dir() else []
    for venv in candidates:
        found = _venv_at(venv, f"poetry's virtualenv {venv}")
        if found is not None:
            return found
    return None


def _poetry_name(pyproject: Path) -> str | None:
    import tomllib

    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for table in (data.get("tool", {}).get("poetry", {}), data.get("project", {})):
        if isinstance(table, dict) and isinstance(table.get("name"), str):
            return str(table["name"])
    return None


def _poetry_venvs_dir(env: Mapping[str, str]) -> Path:
    if env.get("POETRY_VIRTUALENVS_PATH"):
        return Path(env["POETRY_VIRTUALENVS_PATH"]).expanduser()
    if env.get("POETRY_CACHE_DIR"):
        return Path(env["POETRY_CACHE_DIR"]).expanduser() / "virtualenvs"
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "pypoetry" / "virtualenvs"
    cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
    return cache / "pypoetry" / "virtualenvs"


def _in_site_packages(venv: Path, module: str) -> bool:
    """The module as a package, a single-file module or an installed distribution in the venv's site-packages."""
    for site in [*venv.glob("lib/python*/site-packages"), venv / "Lib" / "site-packages"]:
        if (site / module).is_dir() or (site / f"{module}.py").is_file() or any(site.glob(f"{module}-*.dist-info")):
            return True
    return False


def _label(path: Path, project: Path) -> str:
    """How a found file is named for the user: relative to the project when it is inside, else absolute."""
    try:
        return str(path.relative_to(project))
    except ValueError:
        return str(path)
