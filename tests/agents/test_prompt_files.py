"""The prompts carry their own tests: every example in them is valid, every template renders."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from agents import prompts
from agents.actions import ACTION_NAMES, DoneAction, parse_action_text
from agents.reviewer import ReviewReply
from orchestrator.core.plan import parse_plan

PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def example_lines(name: str) -> list[str]:
    return [line for line in prompts.load(name).splitlines() if line.startswith("{")]


def test_the_coder_prompt_shows_one_valid_example_per_action() -> None:
    actions = [parse_action_text(line) for line in example_lines("coder_system")]
    assert sorted(a.action for a in actions) == sorted(ACTION_NAMES) and len(actions) == len(ACTION_NAMES)
    assert all(a.thought for a in actions)  # the examples show the thought-first shape the schema asks for
    assert isinstance(actions[-1], DoneAction)


def test_the_planner_example_is_a_valid_plan() -> None:
    shape, example = example_lines("planner_system")
    assert [s.id for s in parse_plan(shape).steps] == ["s1"]
    assert [s.id for s in parse_plan(example).steps] == ["s1", "s2"]


def test_the_reviewer_example_validates_and_requests_the_missing_part() -> None:
    [example] = example_lines("reviewer_system")
    verdict = ReviewReply.model_validate_json(example).to_verdict()
    assert verdict.verdict == "request_changes" and verdict.comments == ["not done yet: removals are logged"]


def test_format_error_example_is_a_valid_action() -> None:
    text = prompts.render("coder_format_error", error="x", example_path="a.py")
    assert parse_action_text(text.split("\n", 2)[2]).action == "read_file"


@pytest.mark.parametrize(
    "name", sorted(p.name[:-3] for p in resources.files("agents.prompts").iterdir() if p.name.endswith(".md"))
)
def test_every_prompt_renders_with_its_placeholders(name: str) -> None:
    names = set(PLACEHOLDER.findall(prompts.load(name)))
    rendered = prompts.render(name, **{key: f"<{key}>" for key in names})
    assert "${" not in rendered and all(f"<{key}>" in rendered for key in names)
    json_lines = [line for line in rendered.splitlines() if line.startswith("{")]
    for line in json_lines:
        json.loads(line)


def test_missing_placeholder_is_an_error() -> None:
    with pytest.raises(KeyError):
        prompts.render("coder_goal_part", task="t")


SECTIONED = sorted(p.name[:-3] for p in resources.files("agents.prompts").iterdir()
                   if p.name.endswith(".md") and prompts.sections(p.name[:-3]))


@pytest.mark.parametrize("name", [f"{file}#{section}" for file in SECTIONED for section in prompts.sections(file)])
def test_every_section_renders_with_its_placeholders(name: str) -> None:
    text = prompts.load(name)
    names = set(PLACEHOLDER.findall(text))
    rendered = prompts.render(name, **{key: f"<{key}>" for key in names})
    assert text.strip() and "<!--" not in text and "${" not in rendered


def test_sections_keep_a_leading_space_and_drop_the_blank_lines_between_them() -> None:
    text = "# title, ignored\n\n<!-- a -->\n (a suffix)\n\n<!-- b_2 -->\nline one\n${x} two\n\n\n"
    assert dict(prompts.split_sections(text)) == {"a": " (a suffix)", "b_2": "line one\n${x} two"}
    assert prompts.render("tool_observations#edit_tolerant").startswith(" (matched")


def test_a_section_name_used_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="'a' appears twice"):
        prompts.split_sections("<!-- a -->\nx\n<!-- a -->\ny\n")


def test_an_unknown_section_names_the_file() -> None:
    with pytest.raises(KeyError, match=r"tool_observations\.md"):
        prompts.load("tool_observations#no_such_message")


def test_a_placeholder_may_be_called_name() -> None:
    assert prompts.render("action_errors#invalid_action", name="edit", problems="p") == "invalid edit action: p"
