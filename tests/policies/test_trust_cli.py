"""`orchestrate trust` / `untrust`, set_trust keeping comments, and the first-run question."""

from __future__ import annotations

import io
import os
import tomllib
from pathlib import Path

from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli
from orchestrator.compose import load_config
from orchestrator.settings.home import Home
from orchestrator.settings.trust import set_trust, trust_level_for
from orchestrator.terminal.trust import ask_trust


def _ctx() -> tuple[CliContext, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return CliContext(out=Console(file=out, width=300), err=Console(file=err, width=300), environ=dict(os.environ)), \
        out, err


def test_trust_and_untrust_edit_the_user_config(tmp_path: Path, orchestrate_home: Path) -> None:
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / "sub").mkdir()
    config = orchestrate_home / "config.toml"
    config.write_text("# my settings\nmax_parallel = 2  # two is enough\n")
    ctx, out, _ = _ctx()
    assert cli(["trust", str(project / "sub")], ctx) == 0
    assert "trusted" in out.getvalue()
    text = config.read_text()
    assert text.startswith("# my settings\nmax_parallel = 2  # two is enough\n")
    assert tomllib.loads(text)["projects"][str(project.resolve())] == {"trust_level": "trusted"}
    assert load_config(cwd=project / "sub", home=Home(orchestrate_home), environ={}).trust_level == "trusted"
    assert cli(["untrust", str(project)], _ctx()[0]) == 0
    assert tomllib.loads(config.read_text())["projects"][str(project.resolve())] == {"trust_level": "untrusted"}
    assert "# two is enough" in config.read_text()


def test_trust_of_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    ctx, _, err = _ctx()
    assert cli(["trust", str(tmp_path / "nope")], ctx) == 2
    assert "no such directory" in err.getvalue()


def test_trust_level_for_uses_the_nearest_entry(tmp_path: Path) -> None:
    projects = {str(tmp_path): {"trust_level": "trusted"}, str(tmp_path / "a"): {"trust_level": "untrusted"}}
    assert trust_level_for(projects, tmp_path / "b") == "trusted"
    assert trust_level_for(projects, tmp_path / "a" / "c") == "untrusted"
    assert trust_level_for(projects, Path("/elsewhere")) is None


def test_ask_trust_records_the_answer(tmp_path: Path, orchestrate_home: Path) -> None:
    home = Home(orchestrate_home)
    out = io.StringIO()
    assert ask_trust(Console(file=out), home, tmp_path, stream=io.StringIO("y\n")) == "trusted"
    assert "has not seen before" in out.getvalue()
    assert ask_trust(Console(file=io.StringIO()), home, tmp_path / "x", stream=io.StringIO("\n")) == "untrusted"
    projects = tomllib.loads(home.config_file.read_text())["projects"]
    assert projects[str(tmp_path.resolve())]["trust_level"] == "trusted"
    assert projects[str((tmp_path / "x").resolve())]["trust_level"] == "untrusted"


def test_set_trust_rejects_malformed_config(tmp_path: Path, orchestrate_home: Path) -> None:
    (orchestrate_home / "config.toml").write_text("model = \n")
    ctx, _, err = _ctx()
    assert cli(["trust", str(tmp_path)], ctx) == 2
    assert "config.toml" in err.getvalue() and "malformed TOML" in err.getvalue()
    set_trust(Home(tmp_path / "fresh"), tmp_path, "trusted")
    written = (tmp_path / "fresh" / "config.toml").read_text()
    assert written == f'projects."{tmp_path.resolve()}".trust_level = "trusted"\n'
