"""Bad input through the real CLI (subprocess): exit 2 with one clear line, no traceback, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.core.events import GitInfo
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store

ROOT = Path(__file__).resolve().parents[2]


def orchestrate(*args: str, cwd: Path, home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def _one_clean_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert proc.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("exec", "-C", "missing-dir", "do it"), "-C missing-dir: no such directory"),
        (("exec", "-p", "nope", "do it"), "unknown profile 'nope'"),
        (("exec", "--role-model", "painter=scripted:/x.json", "do it"), "unknown role 'painter'"),
        (("exec", "-c", "max_parallel=0", "do it"), "max_parallel"),
        (("exec", "resume", "no-such-session", "--json"), "no session 'no-such-session'"),
        (("exec", "resume", "--json"), "no session to resume here"),
        (("exec", "-", "--json"), "the task is empty (stdin was empty)"),
    ],
)
def test_bad_input_exits_2_with_one_line(bank_repo: Path, orchestrate_home: Path, args: tuple[str, ...],
                                         expected: str) -> None:
    before = sorted(p.name for p in bank_repo.iterdir())
    proc = orchestrate(*args, cwd=bank_repo, home=orchestrate_home)
    assert proc.returncode == 2, proc.stderr
    assert expected in _one_clean_line(proc)
    assert sorted(p.name for p in bank_repo.iterdir()) == before
    assert not (orchestrate_home / "sessions").exists() or not any(
        p for p in (orchestrate_home / "sessions").iterdir() if not p.name.startswith("."))


def test_malformed_config_names_file_and_line(bank_repo: Path, orchestrate_home: Path) -> None:
    (orchestrate_home / "config.toml").write_text('model = "x"\nmax_parallel = [\n')
    proc = orchestrate("exec", "--json", "do it", cwd=bank_repo, home=orchestrate_home)
    assert proc.returncode == 2
    line = _one_clean_line(proc)
    assert f"{orchestrate_home / 'config.toml'}:" in line and "malformed TOML" in line


def test_sessions_lists_this_directory_unless_all(bank_repo: Path, orchestrate_home: Path, tmp_path: Path) -> None:
    store = Store(Home(orchestrate_home))
    with store.create(cwd=bank_repo, task="here", git=GitInfo(branch="main", commit="abc")) as s:
        s.update_meta(status="succeeded")
        here = s.id
    with store.create(cwd=tmp_path, task="elsewhere") as s:
        s.update_meta(status="failed")
        elsewhere = s.id
    store.close()
    listed = json.loads(orchestrate("sessions", "--json", cwd=bank_repo, home=orchestrate_home).stdout)
    assert [(r["id"], r["cwd"], r["branch"], r["status"]) for r in listed] == [(here, str(bank_repo), "main",
                                                                              "succeeded")]
    everything = json.loads(orchestrate("sessions", "--all", "--json", cwd=bank_repo, home=orchestrate_home).stdout)
    assert [r["id"] for r in everything] == [elsewhere, here]
    table = orchestrate("sessions", cwd=bank_repo, home=orchestrate_home)
    assert here in table.stdout and "succeeded" in table.stdout and elsewhere not in table.stdout


def test_importing_the_package_is_cheap() -> None:
    code = ("import sys, orchestrator; "
            "print(sorted(m for m in ('litellm', 'networkx', 'diskcache', 'rich', 'anyio') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"


def test_the_sessions_table_never_cuts_an_id_on_a_narrow_terminal(bank_repo: Path, orchestrate_home: Path) -> None:
    store = Store(Home(orchestrate_home))
    with store.create(cwd=bank_repo, task="add input validation to bank.py " * 4) as s:
        s.update_meta(status="failed")
        session_id = s.id
    store.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(orchestrate_home), "COLUMNS": "60"}
    shown = subprocess.run([sys.executable, "-m", "orchestrator", "sessions"], cwd=bank_repo, env=env,
                           capture_output=True, text=True, timeout=120, check=True).stdout
    assert session_id in shown.split(), shown


@pytest.mark.parametrize(("word", "meant"), [("sesions", "sessions"), ("exce", "exec"), ("Plan", "plan"),
                                            ("modles", "models"), ("trsut", "trust")])
def test_a_mistyped_subcommand_is_not_run_as_a_task(word: str, meant: str, tmp_path: Path) -> None:
    proc = orchestrate(word, cwd=tmp_path, home=tmp_path / "home")
    assert proc.returncode == 2
    assert f"did you mean `orchestrate {meant}`" in _one_clean_line(proc)
    assert not (tmp_path / "home" / "sessions").exists()  # no model run, no session named after the typo


def test_one_edit_apart_counts_insertions_deletions_substitutions_and_swaps() -> None:
    from orchestrator.cli.main import one_edit_apart

    assert all(one_edit_apart(a, "sessions") for a in ("sesions", "sessionss", "sessiors", "sessinos"))
    assert not any(one_edit_apart(a, "sessions") for a in ("sessions", "sesion", "snoisses", "refactor"))
