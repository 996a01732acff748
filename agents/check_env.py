"""A check that could not start is an environment error, not a failure of the change: tell which from its output.

:func:`cannot_start` reads a check's exit code and output: exit 127 (a program not found: ``bash: …: command not
found``, ``sh: 1: vitest: not found``), exit 126 (not executable), the ``-m`` runner missing
(``/usr/bin/python3: No module named pytest``), node failing to load its own tool (``Cannot find module`` /
``Cannot find package`` from node's module loader, for a package or a path, not a relative import of the project),
npm finding no script or no package.json, and make's ``Error 127``. It returns what went wrong and the fix, or None
when the check ran (its pass or fail is then the code's, and goes back to the coder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EnvironmentProblem", "cannot_start"]

_NOT_FOUND = re.compile(
    r"^(?:bash|sh|/bin/sh|/usr/bin/bash|/bin/bash)(?:: line \d+)?(?:: \d+)?: (?P<name>[^\s:]+): "
    r"(?:command not found|not found|No such file or directory)$", re.MULTILINE)
_NO_MODULE = re.compile(r"^(?P<exe>\S+): No module named (?P<module>[\w.]+)$", re.MULTILINE)
_NODE_MISSING = re.compile(r"Cannot find (?:module|package) '(?P<target>[^']+)'")
_NPM_SETUP = re.compile(r"^npm (?:ERR!|error) (?:Missing script: \"?test\"?|enoent Could not read package\.json)",
                        re.MULTILINE)
_MAKE_127 = re.compile(r"^make(?:\[\d+\])?: \*\*\* \[[^\]]*\] Error 127$", re.MULTILINE)


@dataclass(frozen=True)
class EnvironmentProblem:
    """Why a check could not start (``what``) and how the user fixes it (``fix``)."""

    what: str
    fix: str

    def describe(self, command: str) -> str:
        return f"check `{command}` cannot start: {self.what}. Fix: {self.fix}"


def cannot_start(exit_code: int | None, output: str, root: Path) -> EnvironmentProblem | None:
    """The environment problem that kept a check from starting, or None (see the module docstring)."""
    if exit_code is None or exit_code == 0:
        return None
    if exit_code == 127 or _MAKE_127.search(output):
        return _not_found(output, root)
    if exit_code == 126:
        return EnvironmentProblem("a program it runs is not executable (exit 126)",
                                  "make it executable (chmod +x), or set validate.commands")
    missing = _NO_MODULE.search(output)
    if missing:
        exe, module = missing["exe"], missing["module"]
        return EnvironmentProblem(f"{module} is not installed for {exe}",
                                  f"`{exe} -m pip install {module}` (or add it to the project's dev dependencies), "
                                  "or set validate.commands")
    node = _NODE_MISSING.search(output)
    if node and "node:internal/modules" in output and not node["target"].startswith("."):
        return EnvironmentProblem(f"node cannot load `{node['target']}`", _install_js(root))
    if _NPM_SETUP.search(output):
        return EnvironmentProblem("npm finds no package.json or no test script there",
                                  "set validate.commands to the project's test command")
    return None


def _not_found(output: str, root: Path) -> EnvironmentProblem:
    match = _NOT_FOUND.search(output)
    name = match["name"] if match else None
    what = f"`{name}` was not found (exit 127)" if name else "a program it runs was not found (exit 127)"
    if name and name.startswith("/") and Path(name).exists():
        return EnvironmentProblem(f"`{name}` exists, but not inside the sandbox (exit 127)",
                                  "keep the project and its tools out of /tmp (the sandbox has a private /tmp) and of "
                                  "sandbox.hide_paths, or set validate.commands")
    if (root / "package.json").is_file() and not (root / "node_modules").is_dir() and name not in _JS_MANAGERS:
        return EnvironmentProblem(what + "; the project's node_modules/ is missing", _install_js(root))
    if name == "python":
        return EnvironmentProblem(what, "there is no `python` on PATH: use python3 (or the project's venv) in "
                                        "validate.commands, or let discovery choose (leave validate.commands empty)")
    return EnvironmentProblem(what, f"install {'`' + name + '`' if name else 'it'} or put it on PATH, "
                                    "or set validate.commands")


_JS_MANAGERS = frozenset({"npm", "yarn", "pnpm", "bun", "node", "npx"})


def _install_js(root: Path) -> str:
    for lock, install in (("pnpm-lock.yaml", "pnpm install"), ("yarn.lock", "yarn install"),
                          ("bun.lockb", "bun install"), ("bun.lock", "bun install"), ("package-lock.json", "npm ci")):
        if (root / lock).is_file():
            return f"install the project's dependencies (`{install}` in the project)"
    return "install the project's dependencies (`npm install` in the project)"
