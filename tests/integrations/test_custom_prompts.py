"""Custom slash-command prompts: discovery, front matter, Codex-compatible placeholders, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.core.errors import InputError
from orchestrator.settings.home import Home
from orchestrator.settings.prompts import expand_task, list_prompts, load_prompt


@pytest.fixture
def home(orchestrate_home: Path) -> Home:
    (orchestrate_home / "prompts").mkdir()
    return Home(orchestrate_home)


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def _expand(task: str, home: Home, project: Path | None = None) -> str:
    return expand_task(task, home=home, project_dir=project)


def test_positional_placeholders_and_arguments(home: Home) -> None:
    _write(home.prompts_dir, "deploy", "First:$1 Second:$2 Ninth:[$9] All:$ARGUMENTS")
    assert _expand('/deploy prod "us west"', home) == "First:prod Second:us west Ninth:[] All:prod us west"
    assert _expand("/deploy", home) == "First: Second: Ninth:[] All:"


def test_named_placeholders_take_key_value_arguments(home: Home) -> None:
    _write(home.prompts_dir, "ticket", "Fix $TICKET_ID: $TITLE (not $$TICKET_ID, not $lower)")
    assert _expand('/ticket TICKET_ID=T-42 TITLE="Crash on save"', home) == (
        "Fix T-42: Crash on save (not $$TICKET_ID, not $lower)")


def test_named_prompts_report_missing_and_malformed_arguments(home: Home) -> None:
    path = _write(home.prompts_dir, "ticket", "---\nargument-hint: TICKET_ID=<id> TITLE=<title>\n---\n"
                                              "Fix $TICKET_ID: $TITLE")
    with pytest.raises(InputError) as missing:
        _expand("/ticket TICKET_ID=T-1", home)
    assert missing.value.render() == (f"{path}: /ticket: missing required args: TITLE "
                                      "(usage: /ticket TICKET_ID=<id> TITLE=<title>)")
    with pytest.raises(InputError) as malformed:
        _expand("/ticket T-1", home)
    assert "/ticket: expected KEY=value but found 'T-1'" in malformed.value.render()
    assert malformed.value.exit_code == 2


def test_dollar_dollar_is_kept_and_other_dollars_are_text(home: Home) -> None:
    _write(home.prompts_dir, "price", "Costs $$5, $0, $x and $1 for $ITEM")
    # "$ITEM" is a named placeholder, so this prompt takes KEY=value arguments and $1 stays text (as in Codex).
    assert _expand("/price ITEM=tea", home) == "Costs $$5, $0, $x and $1 for tea"
    _write(home.prompts_dir, "cost", "Costs $$5 and $1, $0 or $x")
    assert _expand("/cost ten", home) == "Costs $$5 and ten, $0 or $x"


def test_a_prompt_without_placeholders_gets_the_arguments_appended(home: Home) -> None:
    _write(home.prompts_dir, "review", "Review the diff for bugs.\n")
    assert _expand("/review", home) == "Review the diff for bugs."
    assert _expand("/review focus on bank.py", home) == "Review the diff for bugs.\n\nfocus on bank.py"


def test_front_matter_is_parsed_and_stripped(home: Home) -> None:
    path = _write(home.prompts_dir, "draftpr", '---\ndescription: "Prep a draft PR"\n# a comment\n'
                                               "argument_hint: [TITLE=<t>]\n---\nOpen a PR titled $TITLE.\n")
    prompt = load_prompt(path)
    assert (prompt.name, prompt.description, prompt.argument_hint) == ("draftpr", "Prep a draft PR", "[TITLE=<t>]")
    assert prompt.body == "Open a PR titled $TITLE."
    assert _expand("/draftpr TITLE=x", home) == "Open a PR titled x."


def test_unterminated_front_matter_is_part_of_the_prompt(home: Home) -> None:
    path = _write(home.prompts_dir, "odd", "---\ndescription: never closed\nDo $1.")
    prompt = load_prompt(path)
    assert prompt.description is None
    assert prompt.body == "---\ndescription: never closed\nDo $1."


def test_project_prompts_win_when_the_project_is_given(home: Home, tmp_path: Path) -> None:
    _write(home.prompts_dir, "test", "global tests for $1")
    _write(home.prompts_dir, "only-home", "home")
    project = tmp_path / "repo"
    _write(project / ".orchestrate" / "prompts", "test", "---\ndescription: project\n---\nproject tests for $1")
    assert _expand("/test api", home) == "global tests for api"
    assert _expand("/test api", home, project) == "project tests for api"
    listed = {p.name: (p.scope, p.description) for p in list_prompts(home=home, project_dir=project)}
    assert listed == {"only-home": ("global", None), "test": ("project", "project")}


def test_codex_spelling_is_accepted(home: Home) -> None:
    _write(home.prompts_dir, "fix", "Fix $1")
    assert _expand("/prompts:fix lint", home) == "Fix lint"


def test_unknown_prompt_lists_the_available_ones(home: Home) -> None:
    _write(home.prompts_dir, "review", "r")
    _write(home.prompts_dir, "deploy", "d")
    with pytest.raises(InputError) as info:
        _expand("/reveiw now", home)
    assert info.value.render() == "unknown prompt /reveiw (available: /deploy, /review)"


def test_unknown_prompt_without_any_prompts_says_where_to_add_them(home: Home) -> None:
    with pytest.raises(InputError) as info:
        _expand("/tmp is full", home)
    assert info.value.render() == f"unknown prompt /tmp (no custom prompts yet: add NAME.md to {home.prompts_dir})"


@pytest.mark.parametrize("task", ["fix the bug", "/usr/bin/python crashes", "// TODO everywhere", " /tmp is full",
                                  "/"])
def test_tasks_that_are_not_invocations_are_unchanged(home: Home, task: str) -> None:
    assert _expand(task, home) == task


def test_the_command_may_end_the_first_line(home: Home) -> None:
    _write(home.prompts_dir, "plan", "Plan: $ARGUMENTS")
    assert _expand("/plan\nadd retries", home) == "Plan: add retries"


def test_non_markdown_and_unreadable_files_are_not_prompts(home: Home) -> None:
    _write(home.prompts_dir, "good", "g")
    (home.prompts_dir / "notes.txt").write_text("not a prompt")
    (home.prompts_dir / "bad.md").write_bytes(b"\xff\xfe\x00 not utf-8")
    assert [p.name for p in list_prompts(home=home, project_dir=None)] == ["good"]
    with pytest.raises(InputError) as info:
        _expand("/bad", home)
    assert info.value.render().startswith(f"{home.prompts_dir / 'bad.md'}: cannot read prompt:")
    with pytest.raises(InputError):
        _expand("/notes", home)
