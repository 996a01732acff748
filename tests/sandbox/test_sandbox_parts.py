"""The sandbox's parts on their own: environment scrubbing, the seccomp filter, git metadata discovery, the bwrap
command line, denial detection and bounded capture."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrator.core.contracts import SandboxPolicy
from policies.sandbox import seccomp
from policies.sandbox.bwrap import bwrap_argv
from policies.sandbox.capture import BoundedCapture
from policies.sandbox.denial import detect_denial
from policies.sandbox.env import is_secret, scrub_env
from policies.sandbox.gitpaths import protected_paths
from tests.sandbox.sandbox_support import git, make_repo

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "anthropic_api_key", "GH_TOKEN", "GITHUB_TOKEN", "DB_PASSWORD",
                                  "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AZURE_CLIENT_SECRET", "MY_SECRET",
                                  "GOOGLE_APPLICATION_CREDENTIALS", "SSH_AUTH_SOCK", "HF_TOKEN"])
def test_secret_names_are_scrubbed(name: str) -> None:
    assert is_secret(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "LANG", "TERM", "VIRTUAL_ENV", "PYTHONPATH",
                                  "TOKENIZERS_PARALLELISM"])
def test_ordinary_names_pass(name: str) -> None:
    assert not is_secret(name)


def test_allow_and_deny_lists_take_precedence() -> None:
    env = {"GH_TOKEN": "1", "NPM_TOKEN": "2", "CORP_URL": "3", "PATH": "4"}
    kept = scrub_env(env, allow=["gh_token", "CORP_*"], deny=["CORP_*"])
    assert kept == {"GH_TOKEN": "1", "PATH": "4"}


def _child(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          check=False, timeout=60)


@pytest.mark.skipif(not seccomp.supported(), reason="no seccomp syscall table for this architecture")
def test_seccomp_filter_takes_the_network_but_keeps_local_ipc() -> None:
    proc = _child("""
        import errno, socket
        from policies.sandbox import seccomp
        seccomp.install(seccomp.network_filter())
        def denied(fn):
            try:
                fn()
            except OSError as exc:
                return exc.errno == errno.EPERM
            return False
        assert denied(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        assert denied(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
        assert denied(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
        assert denied(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC))
        assert denied(lambda: socket.socket(socket.AF_UNIX).connect("/nonexistent.sock"))
        a, b = socket.socketpair()
        a.sendall(b"ping")
        assert b.recv(4) == b"ping"
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK).close()
        print("ok")
    """)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_seccomp_program_shape() -> None:
    for machine in ("x86_64", "aarch64"):
        program = seccomp.network_filter(machine)
        assert program and len(program) % 8 == 0
    with pytest.raises(seccomp.UnsupportedArchError):
        seccomp.network_filter("mips")


def test_git_metadata_of_a_repo_and_of_a_worktree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo)
    assert protected_paths(repo.resolve()).metadata == (repo / ".git", repo / ".orchestrate")
    sub = repo / "pkg"
    sub.mkdir()
    assert protected_paths(sub.resolve()).metadata == (repo / ".git",)
    worktree = (tmp_path / "wt").resolve()
    git(repo, "worktree", "add", "-q", str(worktree))
    found = protected_paths(worktree)
    common = (repo / ".git").resolve()
    assert found.git_dirs == (common / "worktrees" / "wt", common)
    assert set(found.metadata) >= {worktree / ".git", common, common / "worktrees" / "wt"}


def test_a_forged_gitdir_pointer_is_ignored(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    make_repo(victim)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".git").write_text(f"gitdir: {victim / '.git'}\n")  # a command wrote this to get victim/.git bound
    assert protected_paths(ws.resolve()).git_dirs == ()


def test_bwrap_mount_order(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    make_repo(ws)
    policy = SandboxPolicy(mode="workspace-write", workspace=ws.resolve())
    argv = bwrap_argv("bwrap", ["true"], policy=policy, cwd=ws.resolve(), seccomp_fd=5, status_fd=6)
    pos = {key: argv.index(key) for key in ("--cap-drop", "--unshare-net", "--seccomp", "--json-status-fd")}
    assert argv[pos["--cap-drop"] + 1] == "ALL" and "--disable-userns" in argv
    tmpfs = argv.index("/tmp", argv.index("--tmpfs"))
    bind = argv.index("--bind")
    git_ro = max(i for i, a in enumerate(argv) if a == "--ro-bind" and argv[i + 1] == str(ws.resolve() / ".git"))
    assert argv[tmpfs - 1] == "--tmpfs" and tmpfs < bind < git_ro, "workspace after /tmp, .git after workspace"
    assert argv[-2:] == ["--", "true"]
    networked = bwrap_argv("bwrap", ["true"], policy=policy.model_copy(update={"network": True}), cwd=ws,
                           seccomp_fd=None, status_fd=None)
    assert "--unshare-net" not in networked and "--seccomp" not in networked
    read_only = bwrap_argv("bwrap", ["true"], policy=policy.model_copy(update={"mode": "read-only"}), cwd=ws,
                           seccomp_fd=None, status_fd=None)
    assert "--bind" not in read_only


def test_denial_detection() -> None:
    assert detect_denial("bwrap", 1, "touch: cannot touch '/etc/x': Read-only file system", network=False)
    assert detect_denial("landlock", 1, "bash: /etc/x: Permission denied", network=False)
    reason = detect_denial("bwrap", 7, "curl: (6) Could not resolve host: example.com", network=False)
    assert reason and "network is off" in reason
    assert detect_denial("bwrap", 7, "curl: (6) Could not resolve host: example.com", network=True) is None
    assert detect_denial("bwrap", 0, "Read-only file system", network=False) is None
    assert detect_denial("none", 1, "Read-only file system", network=False) is None
    assert detect_denial("bwrap", 1, "AssertionError: 2 != 3", network=False) is None
    assert detect_denial("landlock", 128 + 31, "", network=False)


def test_bounded_capture_keeps_head_and_tail() -> None:
    capture = BoundedCapture(10)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"qrst"):
        capture.feed(chunk)
    assert capture.total == 20
    assert capture.text() == "abcde\n[... 10 bytes omitted ...]\npqrst"
    small = BoundedCapture(100)
    small.feed("héllo".encode()[:2])
    small.feed("héllo".encode()[2:])
    assert small.text() == "héllo"


@pytest.mark.parametrize("name", ["PGPASSWORD", "MYSQL_PWD", "SECRET_KEY", "GITHUB_PAT", "OPENAI_KEY",
                                  "NPM_CONFIG__AUTHTOKEN", "NPM_CONFIG_//registry.npmjs.org/:_authToken",
                                  "CORP_THING", "DJANGO_SETTINGS_MODULE", "GIT_ASKPASS", "VAULT_ADDR"])
def test_the_environment_is_an_allow_list(name: str) -> None:
    assert scrub_env({name: "value", "PATH": "/usr/bin"}) == {"PATH": "/usr/bin"}


def test_core_variables_pass_but_credential_urls_do_not() -> None:
    env = {"PATH": "/bin", "HOME": "/h", "LANG": "C.UTF-8", "LC_ALL": "C", "TERM": "xterm", "VIRTUAL_ENV": "/v",
           "PIP_INDEX_URL": "https://user:s3cr3t@pypi.example/simple", "GIT_AUTHOR_NAME": "me",
           "GOPROXY": "https://proxy.golang.org", "npm_config_registry": "https://:tok@registry.example/"}
    assert scrub_env(env) == {"PATH": "/bin", "HOME": "/h", "LANG": "C.UTF-8", "LC_ALL": "C", "TERM": "xterm",
                              "VIRTUAL_ENV": "/v", "GIT_AUTHOR_NAME": "me", "GOPROXY": "https://proxy.golang.org"}
    assert scrub_env(env, allow=["PIP_INDEX_URL"], deny=["LC_*"])["PIP_INDEX_URL"].startswith("https://user:")
    assert "LC_ALL" not in scrub_env(env, allow=["LC_ALL"], deny=["LC_*"])
