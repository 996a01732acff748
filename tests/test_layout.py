"""The package layout stays as DESIGN.md draws it (issue 13): a small top level in orchestrator/, short modules, and
the terminal (rich, prompts) confined to cli/ and terminal/. The import layering itself is `lint-imports`
(pyproject.toml [tool.importlinter]); these are the rules it cannot express."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("orchestrator", "agents", "policies", "memory")
MAX_TOP_LEVEL_MODULES = 12  # __init__, __main__, api, compose, testing, ...: everything else lives in a sub-package
MAX_LINES = 350
TERMINAL = ("orchestrator/cli/", "orchestrator/terminal/")


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts)


def test_orchestrator_top_level_stays_small() -> None:
    top = sorted(p.name for p in (ROOT / "orchestrator").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"{len(top)} modules directly in orchestrator/: {top}; put new ones " \
                                              "in the sub-package of their concept (core, settings, models, ...)"


def test_no_module_exceeds_the_line_budget() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines (split them by concept): {long}"


def _runtime_rich_imports(tree: ast.AST) -> list[int]:
    """Lines importing rich outside ``if TYPE_CHECKING:`` blocks and ``__rich__`` methods (objects may render
    themselves)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        typing_only = isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        if typing_only or (isinstance(node, ast.FunctionDef) and node.name == "__rich__"):
            skipped.update(id(n) for n in ast.walk(node))
    lines = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(name == "rich" or name.startswith("rich.") for name in names):
            lines.append(node.lineno)
    return lines


def test_only_the_cli_and_the_terminal_package_import_rich() -> None:
    found = {}
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(TERMINAL):
            continue
        lines = _runtime_rich_imports(ast.parse(path.read_text(), rel))
        if lines:
            found[rel] = lines
    assert found == {}, f"rich imported outside cli/ and terminal/ (prompts and rendering live there): {found}"
