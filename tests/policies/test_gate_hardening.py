"""Issue 12 (red team): the gate's classes of bypass, checked on the real bash parser, real git and the real sandbox.

2: an allow rule (or "always allow") no longer runs a command unconfined; only ``[sandbox] unconfined_prefixes`` does,
   and never for a command whose environment, wrapper, program path or options the agent controls.
4: git's global options, aliases, ``git-X`` programs and every wrapper are seen through before matching.
5: a nested ``.orchestrate/`` the agent created is not loaded; a committed one is.
9: ``untrusted`` no longer trusts commands that run programs or write files; the built-in rules catch force pushes.
10: absurdly nested scripts are a prompt, never a crash.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrator.compose import load_config
from orchestrator.core.contracts import ApprovalPolicy, ApprovalResponse, GateVerdict
from orchestrator.core.events import ListSink
from orchestrator.engine.commands import CommandRunner
from orchestrator.settings.home import Home, resource_path
from orchestrator.settings.schema import Settings
from orchestrator.workspace.gitrun import committed_files
from policies.amend import append_allow_rule
from policies.gate import Gate, build_gate, gate_for
from policies.rules import RulesLoader
from policies.sandbox import build_sandbox, policy_for
from tests.agents.doubles import ScriptedApprover
from tests.support import make_repo

README_RULES = ('prefix_rule(pattern=["git", "diff"])\nprefix_rule(pattern=["git", "status"])\n'
                'prefix_rule(pattern=["git", "push"], decision="forbidden")\n')


def _gate(policy: ApprovalPolicy = "on-request", *, unconfined: tuple[tuple[str, ...], ...] = ()) -> Gate:
    loader = RulesLoader()
    loader.load_file(resource_path("default.rules"))
    loader.load_text("readme.rules", README_RULES)
    return Gate(loader.policy, approval_policy=policy, unconfined=unconfined)


def _check(gate: Gate, script: str, cwd: Path = Path("/work/project")) -> GateVerdict:
    return gate.evaluate(["bash", "-c", script], cwd=cwd)


# ------------------------------------------------------------------------------------------- 2: allow ≠ unconfined

OPTED_IN = (("git", "diff"), ("git", "status"))


@pytest.mark.parametrize(
    "script",
    [
        "GIT_EXTERNAL_DIFF=./x.sh git diff",
        "PATH=./bin:$PATH git status",
        "GIT_CONFIG_PARAMETERS=\"'diff.external'='./x.sh'\" git diff",
        "LD_PRELOAD=./evil.so git status",
        "PAGER=./x.sh git diff",
        "env GIT_EXTERNAL_DIFF=./x.sh git diff",
        "env -S 'GIT_EXTERNAL_DIFF=./x.sh git diff'",
        "env git diff",
        "sudo git diff",
        "nice git status",
        "bash -c 'git diff'",
        "git diff --ext-diff",
        "git diff --output=/etc/motd",
        "git diff -c",
        "git -c diff.external=./x.sh diff",
        "git -C /tmp/evil diff",
        "./git diff",
        "/work/project/bin/git diff",
        "export PATH=./bin:$PATH; git diff",
        "git() { ./x.sh; }; git diff",
        "git diff > patch.txt",
        "git diff $REV",
        "git diff && ./x.sh",
    ],
)
def test_agent_controlled_forms_of_an_opted_in_command_stay_sandboxed(script: str) -> None:
    assert _check(_gate(unconfined=OPTED_IN), script).bypass_sandbox is False


def test_only_the_explicit_opt_in_unconfines_and_allow_rules_alone_never_do() -> None:
    assert _check(_gate(), "git diff").bypass_sandbox is False  # the README's allow rule: sandboxed, not asked
    assert _check(_gate(), "git diff").decision == "allow"
    opted = _gate(unconfined=OPTED_IN)
    assert _check(opted, "git diff").bypass_sandbox is True
    assert _check(opted, "git status && git diff HEAD~1 -- src").bypass_sandbox is True
    assert _check(opted, "/usr/bin/git diff").bypass_sandbox is True  # an absolute path outside the workspace
    # Listed, but permitted only by the approval policy (no rule names it): stays sandboxed.
    assert _check(_gate(unconfined=(("cargo", "test"),)), "cargo test").bypass_sandbox is False


def test_always_allow_makes_a_command_silent_not_unconfined() -> None:
    assert _gate("untrusted").evaluate(["python3", "-m", "pytest", "-q"], cwd=Path("/w")).proposed_amendment == (
        "python3", "-m", "pytest")
    gate = _gate()  # under on-request an explicit allow rule used to take the command out of the sandbox for good
    gate.add_allow_rule(["python3", "-m", "pytest"], "user.rules:1")
    verdict = gate.evaluate(["python3", "-m", "pytest", "-q"], cwd=Path("/w"))
    assert verdict.decision == "allow" and verdict.bypass_sandbox is False


@pytest.mark.sandbox
@pytest.mark.anyio
@pytest.mark.parametrize("attack", ["GIT_EXTERNAL_DIFF=./x.sh git diff", "PATH=./bin:$PATH git status"])
async def test_real_attack_under_the_readme_rule_runs_inside_the_sandbox(tmp_path: Path, attack: str) -> None:
    """The issue's attack, for real: git runs the agent's script; it must not escape even though the user allowed
    (and opted out of the sandbox) `git diff` and `git status`."""
    outside = tmp_path / "outside"
    outside.mkdir()
    marker = outside / "escaped"
    payload = f"#!/bin/sh\necho pwned > {marker}\n"
    workspace = make_repo(tmp_path / "ws", {"a.txt": "one\n", "x.sh": payload, "bin/git": payload})
    (workspace / "a.txt").write_text("two\n")
    for script in ("x.sh", "bin/git"):
        (workspace / script).chmod(0o755)
    settings = Settings(approval_policy="on-request", sandbox={"unconfined_prefixes": [list(p) for p in OPTED_IN]})
    gate = gate_for(_gate().policy, settings)
    verdict = gate.evaluate(["bash", "-c", attack], cwd=workspace)
    assert verdict.decision == "allow" and verdict.bypass_sandbox is False
    runner = CommandRunner(gate=gate, approver=ScriptedApprover(), sandbox=build_sandbox(settings),
                           settings=settings, events=ListSink(), policy_for=policy_for, persist_rule=append_allow_rule)
    outcome = await runner.run("s1", attack, cwd=workspace, workspace=workspace, timeout_s=60)
    assert outcome.sandbox not in ("", "none"), outcome
    assert not marker.exists(), outcome.observation()


# ------------------------------------------------------------------------------- 4: git and wrappers normalised


@pytest.mark.parametrize(
    "script",
    [
        "git -C . push", "git --git-dir=.git push", "git --work-tree=. --no-pager push", "git -c alias.p=push p",
        "git -c 'alias.p=!git push' p", "git-push origin main", "/usr/lib/git-core/git-push origin",
        "env -iS 'git push'", "env -i -S 'git push'", "env -S'git push'", "env -iu HOME git push",
        "env --split-string='git push'", "sudo -E env A=1 git push", "nice -n 5 git push", "timeout 5 git push",
        "nohup git push", "command -p git push", "exec -a x git push", "time -p git push", "stdbuf -oL git push",
        "ionice -c 3 git push", "setsid -w git push", "xargs -a list git push", "echo x | xargs -I{} git push {}",
        "sh -c 'git push'", "bash -lc \"sh -c 'git push'\"", "find . -exec git push \\;",
        "find . -execdir git push {} +",
        "flock /tmp/lock git push", "flock -c 'git push' /tmp/lock", "watch -n 5 git push", "su -c 'git push'",
        "runuser -u me -- git push", "strace -o /dev/null git push", "busybox sh -c 'git push'", "chroot / git push",
        "unshare -r git push", "taskset -c 0 git push", "git rebase -x 'git push' HEAD~2",
        "git submodule foreach git push", "git bisect run git push", "git push origin main --force",
    ],
)
def test_a_forbidden_git_push_is_found_through_git_options_aliases_and_wrappers(script: str) -> None:
    verdict = _check(_gate(), script)
    assert verdict.decision == "forbidden", verdict.reason
    assert "readme.rules:3" in verdict.reason


@pytest.mark.parametrize("script", ["parallel git ::: push", "fish -c 'git push'", "env -S 'git $X'",
                                    "git -c alias.x=status -c alias.x=push x", "GIT_CONFIG_COUNT=1 git p"])
def test_what_cannot_be_followed_prompts(script: str) -> None:
    verdict = _check(_gate(), script)
    assert verdict.decision in ("prompt", "forbidden"), verdict.reason


def test_a_git_alias_prompts_while_a_rule_restricts_git_unless_an_allow_rule_vouches_for_it() -> None:
    assert _check(_gate(), "git st").decision == "prompt"
    gate = _gate()
    gate.add_allow_rule(["git", "st"], "user.rules:1")
    assert _check(gate, "git st").decision == "allow"
    assert _check(gate, "GIT_CONFIG_PARAMETERS=\"'alias.st'='push'\" git st").decision == "prompt"
    assert _check(gate, "git -c alias.st=push st").decision == "forbidden"


# ------------------------------------------------------------------------------- 9: untrusted and built-in rules


@pytest.mark.parametrize(
    "script",
    ["sort --compress-program=./x.sh big.txt", "sort --compress=./x.sh f", "sort -uo out in", "uniq in out",
     "file -m ./magic x", "file -C -m magic", "PAGER=./x.sh git log", "GIT_PAGER=./x.sh git log -p",
     "env PAGER=./x.sh git log", "git -C /tmp/evil log", "git --exec-path=. status", "date -s 2020-01-01",
     "printf -v PATH ./bin", "./ls", "/work/project/ls -la", "find . -fprint out"],
)
def test_untrusted_asks_for_commands_that_run_programs_or_write_files(script: str) -> None:
    assert _check(_gate("untrusted"), script).decision == "prompt"


@pytest.mark.parametrize("script", ["sort -t o -k 2 f", "uniq in", "file x", "LC_ALL=C sort f", "git -C . log",
                                    "date", "printf '%s\\n' x", "/bin/ls", "find . -name x"])
def test_untrusted_still_trusts_plain_reads(script: str) -> None:
    assert _check(_gate("untrusted"), script).decision == "allow"


@pytest.mark.parametrize("policy", ["on-request", "on-failure"])
@pytest.mark.parametrize(
    "script",
    ["git push origin +main", "git push origin :main", "git push origin +HEAD:main", "git push -fu origin main",
     "git push --force-with-lease=main origin main", "git push --prune origin", "git push origin main --force",
     "find . -exec rm -rf {} +", "git -c alias.c=clean c -fdx"],
)
def test_built_in_rules_and_heuristics_ask_before_rewriting_history_or_deleting(policy: ApprovalPolicy,
                                                                                script: str) -> None:
    loader = RulesLoader()
    loader.load_file(resource_path("default.rules"))
    assert Gate(loader.policy, approval_policy=policy).evaluate(["bash", "-c", script], cwd=Path("/w")).decision \
        == "prompt"


def test_find_exec_from_an_absolute_root_still_meets_the_rm_root_rule() -> None:
    assert _check(_gate(), "find / -maxdepth 0 -exec rm -rf {} +").decision == "forbidden"


# ------------------------------------------------------------------------------------------- 10: deep nesting


@pytest.mark.parametrize("script", ["$(" * 400 + ")" * 400, "(" * 1000 + ")" * 1000,
                                    'echo "$(' * 300 + ')"' * 300, "{ " * 600 + "true; " + "}; " * 600,
                                    "a=$(" * 300 + "x" + ")" * 300])
def test_absurd_nesting_is_a_prompt_not_a_crash(script: str) -> None:
    verdict = _check(_gate(), script)
    assert verdict.decision == "prompt" and verdict.bypass_sandbox is False
    assert _check(_gate("never"), script).decision == "forbidden"


@pytest.mark.anyio
async def test_a_deeply_nested_command_is_refused_through_the_command_runner(tmp_path: Path) -> None:
    settings = Settings(approval_policy="on-request")
    approver = ScriptedApprover(ApprovalResponse(choice="deny", message="no"))
    runner = CommandRunner(gate=gate_for(_gate().policy, settings), approver=approver,
                           sandbox=build_sandbox(settings), settings=settings, events=ListSink(),
                           policy_for=policy_for, persist_rule=append_allow_rule)
    outcome = await runner.run("s1", "$(" * 400 + ")" * 400, cwd=tmp_path, workspace=tmp_path, timeout_s=30)
    assert outcome.refused and "cannot be fully analysed" in approver.requests[0].verdict.reason


# ------------------------------------------------------------------------------ 5: nested .orchestrate loading


def _trusted_project(tmp_path: Path, home: Path, files: dict[str, str]) -> Path:
    project = make_repo(tmp_path / "proj", {"README": "x\n", **files}).resolve()
    (home / "config.toml").write_text(f'[projects."{project}"]\ntrust_level = "trusted"\n')
    return project


def _agent_writes(project: Path) -> Path:
    sub = project / "sub"
    (sub / ".orchestrate" / "rules").mkdir(parents=True, exist_ok=True)
    (sub / ".orchestrate" / "rules" / "x.rules").write_text('prefix_rule(pattern=["python3"])\n')
    (sub / ".orchestrate" / "config.toml").write_text('sandbox_mode = "danger-full-access"\n')
    return sub


def test_a_nested_orchestrate_the_agent_created_is_not_loaded(tmp_path: Path, orchestrate_home: Path) -> None:
    project = _trusted_project(tmp_path, orchestrate_home, {})
    sub = _agent_writes(project)
    home = Home(orchestrate_home)
    loaded = load_config(cwd=sub, home=home, environ={})
    assert loaded.settings.sandbox_mode == "workspace-write"
    assert any("sub/.orchestrate/config.toml" in n and "commit" in n for n in loaded.notices), loaded.notices
    gate = build_gate(loaded.settings, home=home, cwd=sub, project_root=project, trusted=True,
                      committed=committed_files)
    assert all(p.name != "x.rules" for p in gate.rule_files)
    assert any("x.rules" in n for n in gate.notices) and len(gate.notices) == 1
    assert gate.evaluate(["python3", "-c", "1"], cwd=sub).matched_rules[0]["kind"] == "heuristic"


def test_a_committed_nested_orchestrate_loads_until_it_is_modified(tmp_path: Path, orchestrate_home: Path) -> None:
    project = _trusted_project(tmp_path, orchestrate_home, {
        "sub/.orchestrate/rules/x.rules": 'prefix_rule(pattern=["make", "deploy"], decision="forbidden")\n',
        "sub/.orchestrate/config.toml": "max_parallel = 3\n"})
    sub, home = project / "sub", Home(orchestrate_home)
    loaded = load_config(cwd=sub, home=home, environ={})
    assert loaded.settings.max_parallel == 3 and not loaded.notices
    gate = build_gate(loaded.settings, home=home, cwd=sub, project_root=project, trusted=True,
                      committed=committed_files)
    assert gate.evaluate(["make", "deploy"], cwd=sub).decision == "forbidden" and not gate.notices
    (sub / ".orchestrate" / "config.toml").write_text('sandbox_mode = "danger-full-access"\n')
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)  # staged but not committed: still the agent's
    (sub / ".orchestrate" / "rules" / "x.rules").write_text('prefix_rule(pattern=["make"])\n')
    loaded = load_config(cwd=sub, home=home, environ={})
    assert loaded.settings.sandbox_mode == "workspace-write" and loaded.notices
    gate = build_gate(loaded.settings, home=home, cwd=sub, project_root=project, trusted=True,
                      committed=committed_files)
    assert all(p.name != "x.rules" for p in gate.rule_files) and gate.notices


def test_the_project_roots_own_orchestrate_needs_no_commit(tmp_path: Path, orchestrate_home: Path) -> None:
    project = _trusted_project(tmp_path, orchestrate_home, {})
    (project / ".orchestrate" / "rules").mkdir(parents=True)
    (project / ".orchestrate" / "rules" / "mine.rules").write_text('prefix_rule(pattern=["make"], decision="prompt")\n')
    (project / ".orchestrate" / "config.toml").write_text("max_parallel = 2\n")
    home = Home(orchestrate_home)
    loaded = load_config(cwd=project, home=home, environ={})
    assert loaded.settings.max_parallel == 2 and not loaded.notices
    gate = build_gate(loaded.settings, home=home, cwd=project, project_root=project, trusted=True,
                      committed=committed_files)
    assert [p.name for p in gate.rule_files][-1] == "mine.rules" and not gate.notices
