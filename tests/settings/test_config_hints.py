"""Config errors name the file, line and key, what is allowed, and the fix (issue 14: "a hint where config values are
validated"; a key appended after a ``[projects."..."]`` table gave a confusing error)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli
from orchestrator.compose import load_config
from orchestrator.core.errors import ConfigError
from orchestrator.settings.config import CliOverrides
from orchestrator.settings.home import Home


def _error(home: Path, cwd: Path, text: str, *overrides: str) -> ConfigError:
    (home / "config.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(cwd=cwd, cli=CliOverrides(overrides=overrides), home=Home(home), environ={})
    assert "\n" not in str(info.value)
    return info.value


def test_a_top_level_key_appended_after_a_table_is_named_with_the_fix(orchestrate_home: Path, tmp_path: Path) -> None:
    cfg = orchestrate_home / "config.toml"
    err = _error(orchestrate_home, tmp_path, '[projects."/work/app"]\ntrust_level = "trusted"\nmodel = "openai/x"\n')
    assert str(err.location) == f"{cfg}:3"
    assert err.message == '`model` is inside the [projects."/work/app"] table, where it is unknown'
    assert err.hint is not None and "move `model = ...` above the file's first [table] line" in err.hint
    err = _error(orchestrate_home, tmp_path, '[roles.coder]\nmodel = "a"\nmax_parallel = 2\n')
    assert err.message.startswith("`max_parallel` is inside the [roles.coder] table")


@pytest.mark.parametrize(("text", "message", "hint"), [
    ('modle = "x"\n', "unknown key `modle`", "did you mean `model`?"),
    ('[review]\nmax_round = 2\n', "unknown key `review.max_round`", "did you mean `max_rounds`? Keys in [review]: "),
    ('temperature = 0.2\n', "unknown key `temperature`", "`temperature` goes in a table: [roles.NAME]"),
    ('projects."/a".trust_level = "trusted"\n[projects."/b"]\ntrust_level = "trusted"\nmax_rounds = 2\n',
     'unknown key `projects."/b".max_rounds`', "`max_rounds` goes in [review] or [validate]; a key after a [table] "
     "header belongs to that table"),
    ('sandbox_mode = "readonly"\n', '`sandbox_mode` = "readonly": must be one of read-only, workspace-write, '
     'danger-full-access', 'did you mean sandbox_mode = "read-only"?'),
    ('[sandbox]\nbackend = "docker"\n', '`sandbox.backend` = "docker": must be one of auto, bwrap, landlock',
     'e.g. backend = "auto"'),
    ('max_parallel = "a"\n', '`max_parallel` = "a": expected an integer',
     "e.g. max_parallel = 4; numbers and true/false take no quotes"),
    ('[review]\nmax_rounds = 0\n', "`review.max_rounds` = 0: must be at least 1", "e.g. max_rounds = 3, the default"),
    ('[roles.planer]\nmodel = "x"\n', "unknown name `planer` in [roles] (allowed: planner, coder, reviewer, "
     "validator)", "did you mean [roles.planner]?"),
])
def test_each_error_says_what_is_allowed_and_the_fix(orchestrate_home: Path, tmp_path: Path, text: str, message: str,
                                                     hint: str) -> None:
    err = _error(orchestrate_home, tmp_path, text)
    assert err.message == message and err.hint is not None and err.hint.startswith(hint), (err.message, err.hint)
    assert err.location is not None and err.location.line is not None


def test_an_override_names_itself(orchestrate_home: Path, tmp_path: Path) -> None:
    err = _error(orchestrate_home, tmp_path, "", "approval_policy=sometimes")
    assert err.message == ('`approval_policy` = "sometimes": must be one of untrusted, on-failure, on-request, never '
                           "(from -c approval_policy=sometimes)")


def test_the_cli_prints_one_line_and_exits_2(orchestrate_home: Path, tmp_path: Path) -> None:
    (orchestrate_home / "config.toml").write_text('sandbox_mode = "readonly"\n')
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(out=Console(file=out, width=300), err=Console(file=err, width=300),
                     environ={"ORCHESTRATE_HOME": str(orchestrate_home)})
    assert cli(["plan", "-C", str(tmp_path), "do it"], ctx) == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {orchestrate_home}/config.toml:1: `sandbox_mode`"), lines
