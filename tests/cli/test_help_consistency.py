"""Help and flags (issue 14): the top-level help has examples too, and every command that reads the configuration
takes the same -C/-p/-c options (``models check`` had -p and -c but no -C)."""

from __future__ import annotations

import argparse

import pytest

from orchestrator.cli.main import build_parser, cli

Command = tuple[tuple[str, ...], argparse.ArgumentParser]


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[Command]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*path, name))
    return found


def test_the_top_level_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--help"]) == 0
    shown = capsys.readouterr().out
    assert "examples:\n  orchestrate " in shown and "``" not in shown
    assert "`orchestrate TASK` runs interactively" in shown


def test_commands_that_read_the_config_take_dash_C_dash_p_and_dash_c() -> None:
    for path, parser in _commands(build_parser()):
        options = {option for action in parser._actions for option in action.option_strings}
        if "-p" in options or "--profile" in options:
            assert {"-C", "--cd", "-c", "--config"} <= options, path
