from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.compose import load_config
from orchestrator.core.errors import ConfigError, UsageError
from orchestrator.settings.config import CliOverrides
from orchestrator.settings.home import Home


def _load(home: Path, cwd: Path, **cli: object):  # type: ignore[no-untyped-def]
    return load_config(cwd=cwd, cli=CliOverrides(**cli), home=Home(home), environ={})  # type: ignore[arg-type]


def test_defaults_load(orchestrate_home: Path, tmp_path: Path) -> None:
    settings = _load(orchestrate_home, tmp_path).settings
    assert settings.sandbox_mode == "workspace-write"
    assert settings.memory.max_bytes == 32768
    assert settings.memory.root_markers == (".git",)


def test_profile_and_role_models(orchestrate_home: Path, tmp_path: Path) -> None:
    (orchestrate_home / "config.toml").write_text(
        'model = "openai/gpt-4.1"\n[roles.reviewer]\nmodel = "anthropic/claude"\n'
        '[profiles.local]\nmodel = "ollama/qwen"\n[profiles.local.roles.planner]\nmodel = "local"\n'
    )
    plain = _load(orchestrate_home, tmp_path).settings
    assert plain.role("coder").model == "openai/gpt-4.1"
    assert plain.role("reviewer").model == "anthropic/claude"
    prof = _load(orchestrate_home, tmp_path, profile="local", role_models=("validator=x/y",)).settings
    assert prof.role("coder").model == "ollama/qwen"
    assert prof.role("planner").model == "local"
    assert prof.role("reviewer").model == "anthropic/claude"
    assert prof.role("validator").model == "x/y"


def test_top_level_api_base_goes_with_the_top_level_model_only(orchestrate_home: Path, tmp_path: Path) -> None:
    (orchestrate_home / "config.toml").write_text(
        'model = "ollama_chat/qwen2.5-coder"\napi_base = "http://127.0.0.1:11434"\n'
        '[roles.planner]\nmodel = "anthropic/claude-sonnet-4-5"\n'
        '[roles.reviewer]\nmodel = "openai/llama"\napi_base = "http://10.0.0.2:8000/v1"\n'
    )
    settings = _load(orchestrate_home, tmp_path).settings
    assert settings.role("coder").api_base == "http://127.0.0.1:11434"  # inherits the model and its URL
    assert settings.role("planner").api_base == ""  # its own cloud model: not the Ollama URL
    assert settings.role("reviewer").api_base == "http://10.0.0.2:8000/v1"


def test_unknown_key_names_file_and_line(orchestrate_home: Path, tmp_path: Path) -> None:
    cfg = orchestrate_home / "config.toml"
    cfg.write_text('model = "x"\n\n[review]\nmax_round = 2\n')
    with pytest.raises(ConfigError) as err:
        _load(orchestrate_home, tmp_path)
    assert str(err.value).startswith(f"{cfg}:4: unknown key `review.max_round`")


def test_bad_value_in_profile_names_line(orchestrate_home: Path, tmp_path: Path) -> None:
    cfg = orchestrate_home / "config.toml"
    cfg.write_text('[profiles.a]\nsandbox_mode = "wide-open"\n')
    with pytest.raises(ConfigError) as err:
        _load(orchestrate_home, tmp_path)
    assert f"{cfg}:2:" in str(err.value)


def test_malformed_toml(orchestrate_home: Path, tmp_path: Path) -> None:
    cfg = orchestrate_home / "config.toml"
    cfg.write_text('a = 1\nmodel = "unterminated\n')
    with pytest.raises(ConfigError) as err:
        _load(orchestrate_home, tmp_path)
    assert f"{cfg}:2: malformed TOML" in str(err.value)


def test_unknown_profile(orchestrate_home: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown profile 'nope'"):
        _load(orchestrate_home, tmp_path, profile="nope")


def test_unknown_role(orchestrate_home: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown role 'boss'"):
        _load(orchestrate_home, tmp_path, role_models=("boss=x",))


def test_dash_c_overrides_parse_toml_then_string(orchestrate_home: Path, tmp_path: Path) -> None:
    s = _load(orchestrate_home, tmp_path, overrides=("max_parallel=7", "model=openai/gpt-4.1")).settings
    assert s.max_parallel == 7
    assert s.model == "openai/gpt-4.1"
    with pytest.raises(ConfigError, match=r"-c review.max_rounds=0"):
        _load(orchestrate_home, tmp_path, overrides=("review.max_rounds=0",))


def test_untrusted_project_config_is_skipped(orchestrate_home: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / ".orchestrate").mkdir()
    (project / ".orchestrate" / "config.toml").write_text("max_parallel = 9\n")
    loaded = _load(orchestrate_home, project)
    assert loaded.settings.max_parallel == 4
    assert loaded.notices and "not trusted" in loaded.notices[0]
    (orchestrate_home / "config.toml").write_text(f'[projects."{project}"]\ntrust_level = "trusted"\n')
    assert _load(orchestrate_home, project).settings.max_parallel == 9


def test_project_config_cannot_grant_trust(orchestrate_home: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".orchestrate").mkdir(parents=True)
    (project / ".git").mkdir()
    (project / ".orchestrate" / "config.toml").write_text(f'[projects."{tmp_path}"]\ntrust_level = "trusted"\n')
    (orchestrate_home / "config.toml").write_text(f'[projects."{project}"]\ntrust_level = "trusted"\n')
    with pytest.raises(ConfigError, match="only be set in the user config"):
        _load(orchestrate_home, project)
