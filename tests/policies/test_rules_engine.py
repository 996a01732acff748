"""The rules engine decides exactly as Codex's execpolicy (goldens from codex-rs/execpolicy/tests and its README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.core.errors import PolicyLoadError
from orchestrator.settings.home import resource_path
from policies.amend import allow_rule_line, append_allow_prefix_rule
from policies.policy import Policy
from policies.rules import RulesLoader, load_policy


def _policy(*sources: str) -> Policy:
    loader = RulesLoader()
    for i, source in enumerate(sources):
        loader.load_text(f"test{i}.rules", source)
    return loader.policy


def _check(policy: Policy, argv: list[str], *, resolve: bool = False, pretty: bool = False) -> str:
    return Policy.check_json(policy.matches(argv, resolve_host_executables=resolve), pretty=pretty)


def test_basic_match_golden() -> None:
    policy = _policy('prefix_rule(\n    pattern = ["git", "status"],\n)\n')
    assert _check(policy, ["git", "status"]) == (
        '{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["git","status"],"decision":"allow"}}],'
        '"decision":"allow"}'
    )


def test_no_match_omits_decision() -> None:
    assert _check(_policy('prefix_rule(pattern=["git", "status"])'), ["git", "push"]) == '{"matchedRules":[]}'


def test_justification_is_serialized_after_decision() -> None:
    policy = _policy('prefix_rule(pattern=["rm"], decision="forbidden", justification="destructive command")')
    out = json.loads(_check(policy, ["rm", "-rf", "/some/important/folder"]))
    assert out == {"matchedRules": [{"prefixRuleMatch": {"matchedPrefix": ["rm"], "decision": "forbidden",
                                                         "justification": "destructive command"}}],
                   "decision": "forbidden"}


def test_pretty_output_matches_serde_pretty() -> None:
    policy = _policy('prefix_rule(pattern=["git", "push"], decision="forbidden")')
    assert _check(policy, ["git", "push"], pretty=True) == (
        '{\n  "matchedRules": [\n    {\n      "prefixRuleMatch": {\n        "matchedPrefix": [\n          "git",\n'
        '          "push"\n        ],\n        "decision": "forbidden"\n      }\n    }\n  ],\n'
        '  "decision": "forbidden"\n}'
    )
    assert _check(policy, ["ls"], pretty=True) == '{\n  "matchedRules": []\n}'


def test_strictest_decision_wins_and_all_matches_are_reported_in_order() -> None:
    policy = _policy('prefix_rule(pattern=["git"], decision="prompt")',
                     'prefix_rule(pattern=["git", "commit"], decision="forbidden")')
    out = json.loads(_check(policy, ["git", "commit", "-m", "hi"]))
    assert [m["prefixRuleMatch"]["matchedPrefix"] for m in out["matchedRules"]] == [["git"], ["git", "commit"]]
    assert out["decision"] == "forbidden"
    assert json.loads(_check(policy, ["git", "status"]))["decision"] == "prompt"


def test_first_position_alternatives_make_one_rule_per_program() -> None:
    policy = _policy('prefix_rule(pattern = [["bash", "sh"], ["-c", "-l"]])')
    assert [r.first for rules in policy.rules_by_program.values() for r in rules] == ["bash", "sh"]
    assert json.loads(_check(policy, ["sh", "-l", "echo", "hi"]))["matchedRules"][0]["prefixRuleMatch"][
        "matchedPrefix"] == ["sh", "-l"]


def test_tail_alternatives_match_independently_not_cartesian() -> None:
    policy = _policy('prefix_rule(pattern = ["npm", ["i", "install"], ["--legacy-peer-deps", "--no-save"]])')
    assert len(policy) == 1
    out = json.loads(_check(policy, ["npm", "install", "--no-save", "leftpad"]))
    assert out["matchedRules"][0]["prefixRuleMatch"]["matchedPrefix"] == ["npm", "install", "--no-save"]
    assert _check(policy, ["npm", "i"]) == '{"matchedRules":[]}'  # shorter argv never matches


def test_tokens_match_exactly() -> None:
    policy = _policy('prefix_rule(pattern=["git", "push"], decision="forbidden")')
    for argv in (["Git", "push"], ["git", "--no-pager", "push"], ["git", "PUSH"], ["git", "push=1"]):
        assert _check(policy, argv) == '{"matchedRules":[]}'


def test_single_alternative_equals_plain_string_and_variables_work() -> None:
    policy = _policy('cmds = ["status", "log"]\n[prefix_rule(pattern=["git", [c]], decision="prompt") for c in cmds]\n'
                     'd = "allow"\nprefix_rule(pattern=["ls"], decision=f"{d}")')
    assert json.loads(_check(policy, ["git", "log"]))["decision"] == "prompt"
    assert policy.rules_by_program["git"][0].rest == (("status",),)


def test_match_and_not_match_examples_are_enforced() -> None:
    source = ('prefix_rule(\n    pattern = ["git", "status"],\n    match = [["git", "status"], "git status"],\n'
              '    not_match = [["git", "--config", "color.status=always", "status"],'
              ' "git --config color.status=always status"],\n)\n')
    assert len(_policy(source)) == 1


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        ('x = 1\nprefix_rule(pattern=["ls"], decision="deny")', 2, "invalid decision: deny"),
        ('prefix_rule(pattern=["ls"], decision="Allow")', 1, "invalid decision: Allow"),
        ('\nprefix_rule(pattern=["ls"], bogus=1)', 2, "bogus"),
        ('a = 1\nb = )\n', 2, "Parse error"),
        ('prefix_rule(pattern=[])', 1, "pattern cannot be empty"),
        ('prefix_rule(pattern=["a", []])', 1, "pattern alternatives cannot be empty"),
        ('prefix_rule(pattern=["a", 1])', 1, "got int"),
        ('prefix_rule(pattern=["a"], justification="  ")', 1, "justification cannot be empty"),
        ('\n\nprefix_rule(pattern=["git"], not_match=["git status"])', 3, "expected example to not match"),
        ('prefix_rule(pattern=["git", "push"],\n  match=["git pull"])', 1, "unmatched examples: ['git pull']"),
        ('prefix_rule(pattern=["git"], match=[""])', 1, "example cannot be an empty string"),
        ('prefix_rule(pattern=["git"], match=["git \'x"])', 1, "invalid shell syntax"),
        ('prefix_rule(pattern=["git"], match=[1])', 1, "example must be a string or list of strings"),
        ('prefix_rule(pattern=["git"], match=[[]])', 1, "example cannot be an empty list"),
        ('prefix_rule(pattern=["git"], match=[["git", 2]])', 1, "example tokens must be strings"),
        ('host_executable(name="git", paths=["git"])', 1, "host_executable paths must be absolute"),
        ('host_executable(name="/usr/bin/git", paths=[])', 1, "must be a bare executable name"),
        ('host_executable(name="git", paths=["/usr/bin/rg"])', 1, "must have basename `git`"),
        ('network_rule(host="*", protocol="http", decision="allow")', 1, "wildcards are not allowed"),
        ('network_rule(host="a.com", protocol="ftp", decision="allow")', 1, "protocol must be one of"),
        ('foo()', 1, "not found"),
        ('def f():\n    prefix_rule(["z"], "bad")\nf()', 2, "invalid decision: bad"),
    ],
)
def test_load_errors_name_file_and_line(source: str, line: int, fragment: str) -> None:
    with pytest.raises(PolicyLoadError) as info:
        RulesLoader().load_text("bad.rules", source)
    assert info.value.location is not None and info.value.location.path == "bad.rules"
    assert info.value.location.line == line
    assert fragment in info.value.message
    assert str(info.value).startswith(f"bad.rules:{line}: ")


def test_examples_see_only_their_own_call() -> None:
    with pytest.raises(PolicyLoadError, match="unmatched examples"):
        _policy('prefix_rule(pattern=["git", "status"])\nprefix_rule(pattern=["git", "push"], match=["git status"])')


def test_host_executable_resolution_goldens() -> None:
    policy = _policy('prefix_rule(pattern = ["git", "status"], decision = "prompt")\n'
                     'host_executable(name = "git", paths = ["/usr/bin/git", "/usr/bin/git"])')
    assert policy.host_executables["git"] == ("/usr/bin/git",)
    assert _check(policy, ["/usr/bin/git", "status"], resolve=True) == (
        '{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["git","status"],"decision":"prompt",'
        '"resolvedProgram":"/usr/bin/git"}}],"decision":"prompt"}'
    )
    assert _check(policy, ["/usr/bin/git", "status"]) == '{"matchedRules":[]}'  # resolution off
    assert _check(policy, ["/opt/homebrew/bin/git", "status"], resolve=True) == '{"matchedRules":[]}'


def test_host_executable_empty_list_allows_no_path_and_missing_entry_allows_any() -> None:
    empty = _policy('prefix_rule(pattern=["git"], decision="prompt")\nhost_executable(name="git", paths=[])')
    assert _check(empty, ["/usr/bin/git", "status"], resolve=True) == '{"matchedRules":[]}'
    unmapped = _policy('prefix_rule(pattern=["git"], decision="prompt")')
    assert json.loads(_check(unmapped, ["/usr/bin/git", "status"], resolve=True))["decision"] == "prompt"


def test_host_executable_does_not_override_exact_match_and_last_definition_wins() -> None:
    policy = _policy('prefix_rule(pattern=["/usr/bin/git"], decision="allow")\n'
                     'prefix_rule(pattern=["git"], decision="prompt")\n'
                     'host_executable(name="git", paths=["/usr/bin/git"])',
                     'host_executable(name="git", paths=["/opt/homebrew/bin/git"])')
    assert _check(policy, ["/usr/bin/git", "status"], resolve=True) == (
        '{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["/usr/bin/git"],"decision":"allow"}}],'
        '"decision":"allow"}'
    )
    assert policy.host_executables["git"] == ("/opt/homebrew/bin/git",)


def test_match_examples_resolve_host_executables() -> None:
    _policy('host_executable(name="git", paths=["/usr/bin/git"])\n'
            'prefix_rule(pattern=["git"], match=["/usr/bin/git status"], not_match=["/opt/git status"])')


def test_network_rules_are_normalised() -> None:
    policy = _policy('network_rule(host="API.github.com:443", protocol="https_connect", decision="deny",'
                     ' justification="no")')
    rule = policy.network_rules[0]
    assert (rule.host, rule.protocol, rule.decision) == ("api.github.com", "https", "forbidden")
    with pytest.raises(PolicyLoadError, match="invalid decision: deny"):
        _policy('prefix_rule(pattern=["a"], decision="deny")')


def test_files_load_in_order_and_missing_file_is_an_error(tmp_path: Path) -> None:
    first, second = tmp_path / "a.rules", tmp_path / "b.rules"
    first.write_text('prefix_rule(pattern=["git"], decision="prompt")\n')
    second.write_text('prefix_rule(pattern=["git", "commit"], decision="forbidden")\n')
    policy = load_policy([first, second])
    assert [r.origin for r in policy.rules_by_program["git"]] == [f"{first}:1", f"{second}:1"]
    with pytest.raises(PolicyLoadError, match="cannot read rules file"):
        load_policy([tmp_path / "missing.rules"])


def test_shipped_default_rules_load_and_carry_examples() -> None:
    path = resource_path("default.rules")
    text = path.read_text()
    assert "match" in text and "not_match" in text
    policy = load_policy([path])
    assert json.loads(_check(policy, ["rm", "-rf", "/"]))["decision"] == "forbidden"
    assert json.loads(_check(policy, ["git", "push", "--force"]))["decision"] == "prompt"
    assert all(r.decision != "allow" for rules in policy.rules_by_program.values() for r in rules)


def test_amendment_line_format_and_dedupe_match_codex(tmp_path: Path) -> None:
    path = tmp_path / "rules" / "default.rules"
    append_allow_prefix_rule(path, ["echo", "Hello, world!"])
    append_allow_prefix_rule(path, ["echo", "Hello, world!"])
    assert path.read_text() == 'prefix_rule(pattern=["echo", "Hello, world!"], decision="allow")\n'
    seeded = tmp_path / "seed.rules"
    seeded.write_text('prefix_rule(pattern=["ls"], decision="allow")')
    assert append_allow_prefix_rule(seeded, ["python3"]) == 2
    assert seeded.read_text() == ('prefix_rule(pattern=["ls"], decision="allow")\n'
                                  'prefix_rule(pattern=["python3"], decision="allow")\n')
    assert allow_rule_line(['a"b']) == 'prefix_rule(pattern=["a\\"b"], decision="allow")'
    assert json.loads(_check(load_policy([seeded]), ["python3", "x.py"]))["decision"] == "allow"
