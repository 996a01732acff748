"""`orchestrate execpolicy check`: Codex-identical output (goldens from Codex's CLI tests and README), exit 2 on
load errors, and `--shell` evaluating the full gate."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.cli.context import CliContext
from orchestrator.cli.main import cli

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "orchestrator", "execpolicy", "check", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, check=False)


def _inproc(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(out=Console(file=out, width=80), err=Console(file=err, width=300), environ=dict(os.environ))
    code = cli(["execpolicy", "check", *args], ctx)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "policy.rules"
    path.write_text('prefix_rule(\n    pattern = ["git", "push"],\n    decision = "forbidden",\n'
                    '    justification = "pushing is blocked in this repo",\n)\n'
                    'prefix_rule(pattern=["git", "status"], decision="allow")\n'
                    'host_executable(name="git", paths=["/usr/bin/git"])\n')
    return path


def test_check_prints_codex_json_byte_for_byte(rules: Path) -> None:
    result = _run("--rules", str(rules), "--", "git", "push", "origin", "main")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        '{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["git","push"],"decision":"forbidden",'
        '"justification":"pushing is blocked in this repo"}}],"decision":"forbidden"}\n'
    )


def test_check_without_match_and_hyphen_values(rules: Path) -> None:
    code, out, _ = _inproc("-r", str(rules), "ls", "-la", "--color")
    assert code == 0 and out == '{"matchedRules":[]}\n'


def test_pretty_and_host_executable_resolution(rules: Path) -> None:
    code, out, _ = _inproc("--rules", str(rules), "--pretty", "--resolve-host-executables", "--",
                           "/usr/bin/git", "status")
    assert code == 0
    assert out == ('{\n  "matchedRules": [\n    {\n      "prefixRuleMatch": {\n        "matchedPrefix": [\n'
                   '          "git",\n          "status"\n        ],\n        "decision": "allow",\n'
                   '        "resolvedProgram": "/usr/bin/git"\n      }\n    }\n  ],\n  "decision": "allow"\n}\n')
    assert _inproc("--rules", str(rules), "--resolve-host-executables", "--", "/opt/git", "status")[1] == (
        '{"matchedRules":[]}\n')


def test_multiple_rules_files_merge_in_order(tmp_path: Path) -> None:
    allow, prompt = tmp_path / "allow.rules", tmp_path / "prompt.rules"
    allow.write_text('prefix_rule(pattern=["git"], decision="allow")\n')
    prompt.write_text('prefix_rule(pattern=["git", "push"], decision="prompt")\n')
    code, out, _ = _inproc("-r", str(allow), "--rules", str(prompt), "git", "push")
    assert code == 0 and json.loads(out) == {
        "matchedRules": [{"prefixRuleMatch": {"matchedPrefix": ["git"], "decision": "allow"}},
                         {"prefixRuleMatch": {"matchedPrefix": ["git", "push"], "decision": "prompt"}}],
        "decision": "prompt",
    }


def test_load_error_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text('prefix_rule(pattern=["ls"])\n\nprefix_rule(pattern=["rm"], decision="deny")\n')
    result = _run("--rules", str(bad), "--", "ls")
    assert result.returncode == 2 and result.stdout == ""
    assert f"{bad}:3: invalid decision: deny" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_errors_exit_2(rules: Path) -> None:
    assert _inproc("--", "ls")[0] == 2  # no --rules
    assert _inproc("--rules", str(rules))[0] == 2  # no command


def test_shell_mode_prints_the_gate_verdict(rules: Path, tmp_path: Path) -> None:
    result = _run("--shell", "--rules", str(rules), "-a", "on-request", "-s", "workspace-write", "--",
                  "cd sub && FOO=1 bash -lc 'sudo git push'", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert list(verdict) == ["decision", "commands", "bypass_sandbox", "reason", "proposed_amendment"]
    assert verdict["decision"] == "forbidden"
    assert verdict["commands"] == [["cd", "sub"], ["git", "push"]]
    assert "pushing is blocked in this repo" in verdict["reason"]


def test_shell_mode_policies_and_amendment(rules: Path) -> None:
    _, out, _ = _inproc("--shell", "-r", str(rules), "-a", "untrusted", "--", "cargo build --release")
    assert json.loads(out) == {"decision": "prompt", "commands": [["cargo", "build", "--release"]],
                               "bypass_sandbox": False,
                               "reason": "`cargo build --release` is not a known-safe command (approval policy "
                                         "`untrusted`)",
                               "proposed_amendment": ["cargo", "build"]}
    _, out, _ = _inproc("--shell", "-r", str(rules), "-a", "never", "--", "rm -rf build")
    assert json.loads(out)["decision"] == "forbidden"
    _, out, _ = _inproc("--shell", "-r", str(rules), "--", "git", "status")
    assert json.loads(out)["bypass_sandbox"] is False  # allowed by rule: without asking, in the sandbox
    opt_in = ("-c", 'sandbox.unconfined_prefixes=[["git", "status"]]')
    _, out, _ = _inproc("--shell", "-r", str(rules), *opt_in, "--", "git", "status")
    assert json.loads(out)["bypass_sandbox"] is True
    _, out, _ = _inproc("--shell", "-r", str(rules), *opt_in, "--", "GIT_PAGER=./x.sh git status")
    assert json.loads(out)["bypass_sandbox"] is False


def test_shell_mode_without_rules_uses_the_run_rules(orchestrate_home: Path, tmp_path: Path) -> None:
    (orchestrate_home / "rules").mkdir()
    (orchestrate_home / "rules" / "mine.rules").write_text('prefix_rule(pattern=["make", "deploy"], '
                                                          'decision="forbidden")\n')
    code, out, _ = _inproc("--shell", "-C", str(tmp_path), "--", "make deploy && rm -rf /")
    assert code == 0 and json.loads(out)["decision"] == "forbidden"


def test_strings_are_escaped_like_serde_json(tmp_path: Path) -> None:
    """serde_json writes non-ASCII as raw UTF-8, escapes `"`, `\\` and control characters (`\\t`, `\\u001f`), and
    leaves `/`, `<`, `>`, `&` alone: the bytes on stdout must be the same."""
    path = tmp_path / "u.rules"
    path.write_text('prefix_rule(pattern=["échö", "a/b"], decision="prompt", '
                    'justification="naïve \\"q\\" \\\\ \\t \\x1f <>&")\n', encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8")
    result = subprocess.run([sys.executable, "-m", "orchestrator", "execpolicy", "check", "--rules", str(path), "--",
                             "échö", "a/b"], capture_output=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        '{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["échö","a/b"],"decision":"prompt",'
        '"justification":"naïve \\"q\\" \\\\ \\t \\u001f <>&"}}],"decision":"prompt"}\n'
    ).encode()
