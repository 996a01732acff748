"""What ``orchestrate trust`` writes leaves config.toml such that a key the user appends at the end still works
(issue 14: it landed inside the ``[projects."..."]`` table written last, with a confusing error)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from orchestrator.compose import load_config
from orchestrator.settings.config import CliOverrides
from orchestrator.settings.home import Home
from orchestrator.settings.trust import set_trust


def _settings(home: Path, cwd: Path):  # type: ignore[no-untyped-def]
    return load_config(cwd=cwd, cli=CliOverrides(), home=Home(home), environ={})


def test_a_key_appended_after_trust_is_a_top_level_key(orchestrate_home: Path, tmp_path: Path) -> None:
    set_trust(Home(orchestrate_home), tmp_path, "trusted")
    set_trust(Home(orchestrate_home), tmp_path / "other", "untrusted")
    config = orchestrate_home / "config.toml"
    with config.open("a") as f:
        f.write('model = "openai/gpt-4.1"\nmax_parallel = 2\n')
    loaded = _settings(orchestrate_home, tmp_path)
    assert loaded.settings.model == "openai/gpt-4.1" and loaded.settings.max_parallel == 2
    assert loaded.trust_level == "trusted"


def test_the_entry_goes_after_the_top_level_keys_and_before_the_first_table(orchestrate_home: Path,
                                                                             tmp_path: Path) -> None:
    config = orchestrate_home / "config.toml"
    original = '# mine\nmodel = "a"\n\n# the coder\n[roles.coder]\nmodel = "b"  # keep this comment\n'
    config.write_text(original)
    set_trust(Home(orchestrate_home), tmp_path, "trusted")
    text = config.read_text()
    entry = f'projects."{tmp_path.resolve()}".trust_level = "trusted"\n'
    assert text == original.replace('model = "a"\n', 'model = "a"\n' + entry)
    set_trust(Home(orchestrate_home), tmp_path, "untrusted")  # an existing entry changes where it is
    assert config.read_text() == text.replace('"trusted"', '"untrusted"')


def test_an_old_projects_table_is_kept_and_the_new_entry_still_goes_on_top(orchestrate_home: Path,
                                                                          tmp_path: Path) -> None:
    config = orchestrate_home / "config.toml"
    config.write_text('[projects."/old/place"]\ntrust_level = "trusted"\n')
    set_trust(Home(orchestrate_home), tmp_path, "untrusted")
    data = tomllib.loads(config.read_text())
    assert data["projects"] == {"/old/place": {"trust_level": "trusted"},
                                str(tmp_path.resolve()): {"trust_level": "untrusted"}}
    assert config.read_text().startswith(f'projects."{tmp_path.resolve()}".trust_level')
    set_trust(Home(orchestrate_home), Path("/old/place"), "untrusted")  # no such directory: resolve() keeps it
    assert tomllib.loads(config.read_text())["projects"]["/old/place"] == {"trust_level": "untrusted"}


def test_a_projects_header_falls_back_to_editing_that_table(orchestrate_home: Path, tmp_path: Path) -> None:
    config = orchestrate_home / "config.toml"
    config.write_text('[projects]\n"/x" = { trust_level = "trusted" }\n')  # dotted keys cannot join this table
    set_trust(Home(orchestrate_home), tmp_path, "trusted")
    assert tomllib.loads(config.read_text())["projects"][str(tmp_path.resolve())] == {"trust_level": "trusted"}


def test_a_bracket_line_inside_a_multiline_array_is_not_taken_for_a_header(orchestrate_home: Path,
                                                                          tmp_path: Path) -> None:
    config = orchestrate_home / "config.toml"
    config.write_text('x = [\n  [1, 2],\n]\n[review]\nmax_rounds = 2\n')
    set_trust(Home(orchestrate_home), tmp_path, "trusted")
    data = tomllib.loads(config.read_text())
    assert data["x"] == [[1, 2]] and data["review"] == {"max_rounds": 2}
    assert data["projects"][str(tmp_path.resolve())] == {"trust_level": "trusted"}
    assert config.read_text().index("projects.") < config.read_text().index("[review]")
