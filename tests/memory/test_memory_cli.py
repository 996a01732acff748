"""``orchestrate memory show [-C DIR] [--json]``: the JSON contract of DESIGN.md and the rich tree."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli

Write = Callable[[Path, str | bytes], Path]
REPO_ROOT = Path(__file__).resolve().parents[2]


def _ctx(home: Path) -> tuple[CliContext, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(
        out=Console(file=out, width=300, color_system=None),
        err=Console(file=err, width=300, color_system=None),
        environ={"ORCHESTRATE_HOME": str(home)},
    )
    return ctx, out, err


def _project(repo: Path, home: Path, write: Write) -> None:
    write(home / "AGENTS.md", "  global  \n")
    write(repo / "AGENTS.md", "root [b]doc[/b]\n")
    write(repo / "a" / "AGENTS.md", "a doc: é")


def test_json_is_exactly_the_contract(orchestrate_home: Path, repo: Path, write: Write) -> None:
    _project(repo, orchestrate_home, write)
    ctx, out, err = _ctx(orchestrate_home)
    assert cli(["memory", "show", "-C", str(repo / "a"), "--json"], ctx) == 0, err.getvalue()
    assert out.getvalue().count("\n") == 1
    assert json.loads(out.getvalue()) == {
        "sources": [
            {"path": str(orchestrate_home / "AGENTS.md"), "scope": "global", "bytes": 6, "truncated": False},
            {"path": str(repo / "AGENTS.md"), "scope": "project", "bytes": 16, "truncated": False},
            {"path": str(repo / "a" / "AGENTS.md"), "scope": "project", "bytes": 9, "truncated": False},
        ],
        "text": "global\n\n--- project-doc ---\n\nroot [b]doc[/b]\n\n\na doc: é",
    }


def test_json_marks_truncation_with_the_user_configured_budget(
    orchestrate_home: Path, repo: Path, write: Write
) -> None:
    _project(repo, orchestrate_home, write)
    write(orchestrate_home / "config.toml", "[memory]\nmax_bytes = 20\n")
    ctx, out, _ = _ctx(orchestrate_home)
    assert cli(["memory", "show", "--json", "--cd", str(repo / "a")], ctx) == 0
    data = json.loads(out.getvalue())
    assert [(s["bytes"], s["truncated"]) for s in data["sources"]] == [(6, False), (16, False), (4, True)]
    assert data["text"].endswith("\n\na do")


def test_json_with_no_docs(orchestrate_home: Path, repo: Path) -> None:
    ctx, out, _ = _ctx(orchestrate_home)
    assert cli(["memory", "show", "-C", str(repo), "--json"], ctx) == 0
    assert json.loads(out.getvalue()) == {"sources": [], "text": ""}


def test_tree_shows_paths_bytes_and_truncation(orchestrate_home: Path, repo: Path, write: Write) -> None:
    _project(repo, orchestrate_home, write)
    write(orchestrate_home / "config.toml", "[memory]\nmax_bytes = 20\n")
    ctx, out, _ = _ctx(orchestrate_home)
    assert cli(["memory", "show", "-C", str(repo / "a")], ctx) == 0
    text = out.getvalue()
    assert f"AGENTS.md memory for {repo / 'a'} (project root {repo})" in text
    assert f"{orchestrate_home / 'AGENTS.md'}  6 bytes" in text
    assert f"{repo / 'AGENTS.md'}  16 bytes\n" in text
    assert f"{repo / 'a' / 'AGENTS.md'}  4 bytes  truncated (5 bytes dropped)" in text
    assert "[memory] max_bytes" in text and "-c memory.max_bytes=65536" in text


def test_tree_without_docs_and_with_docs_disabled(orchestrate_home: Path, repo: Path, write: Write) -> None:
    ctx, out, _ = _ctx(orchestrate_home)
    assert cli(["memory", "show", "-C", str(repo)], ctx) == 0
    assert "no AGENTS.md docs apply here" in out.getvalue()
    write(orchestrate_home / "config.toml", "[memory]\nmax_bytes = 0\n")
    ctx, out, _ = _ctx(orchestrate_home)
    assert cli(["memory", "show", "-C", str(repo)], ctx) == 0
    assert "project docs are disabled: memory.max_bytes = 0" in out.getvalue()


def test_missing_directory_is_a_usage_error(orchestrate_home: Path, tmp_path: Path) -> None:
    ctx, out, err = _ctx(orchestrate_home)
    assert cli(["memory", "show", "-C", str(tmp_path / "nope"), "--json"], ctx) == 2
    assert out.getvalue() == ""
    assert err.getvalue().strip() == f"error: -C {tmp_path / 'nope'}: no such directory"


def test_subprocess_json_on_stdout(orchestrate_home: Path, repo: Path, write: Write) -> None:
    _project(repo, orchestrate_home, write)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ORCHESTRATE_HOME": str(orchestrate_home)}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "memory", "show", "--json"],
        cwd=repo / "a", env=env, capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [s["path"] for s in data["sources"]] == [
        str(orchestrate_home / "AGENTS.md"), str(repo / "AGENTS.md"), str(repo / "a" / "AGENTS.md")
    ]
    assert data["text"].startswith("global\n\n--- project-doc ---\n\nroot")
