"""Help and flag traps (issue 14): every command's --help describes it and shows an example, without raw markup;
``plan`` takes no safety flags (it runs nothing); ``sandbox run`` takes ``-s`` like every other command."""

from __future__ import annotations

import argparse

import pytest

from orchestrator.cli.main import build_parser, cli
from orchestrator.settings.schema import PlannerConfig


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path the parser knows (``("sessions",)``, ``("sessions", "rm")``, ...)."""
    found = [path] if path else []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*path, name))
    return found


@pytest.mark.parametrize("command", _commands(build_parser()), ids=" ".join)
def test_every_command_has_a_description_and_an_example(command: tuple[str, ...],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([*command, "--help"]) == 0
    shown = capsys.readouterr().out
    _, _, rest = shown.partition("\n\n")
    assert rest.strip() and not rest.lstrip().startswith(("positional arguments", "options")), shown  # a description
    assert "examples:\n  orchestrate " in shown, shown
    assert "``" not in shown, shown


def test_plan_takes_no_safety_flags(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in (["--yolo"], ["--full-auto"], ["-s", "read-only"], ["-a", "never"]):
        assert cli(["plan", *flag, "do it"]) == 2, flag
        assert "unrecognized arguments" in capsys.readouterr().err
    exec_args = build_parser().parse_args(["exec", "--yolo", "--full-auto", "-s", "read-only", "-a", "never", "x"])
    assert exec_args.yolo and exec_args.full_auto and exec_args.sandbox_mode == "read-only"


def test_sandbox_run_takes_dash_s_and_keeps_mode() -> None:
    parser = build_parser()
    for flag in ("-s", "--sandbox", "--mode"):
        args = parser.parse_args(["sandbox", "run", flag, "read-only", "--", "true"])
        assert args.mode == "read-only", flag


def test_merge_files_zero_is_accepted_as_the_default_toml_says() -> None:
    assert PlannerConfig(merge_files=0).merge_files == 0
