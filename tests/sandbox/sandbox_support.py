"""Support for the sandbox tests: a workspace and an "outside" on the real filesystem, real listeners, a victim process.

The arena lives under /var/tmp (not /tmp) so that, under bubblewrap, the outside directory is visible through the
read-only root rather than hidden by the private /tmp: a write there must fail, not land in a tmpfs. Everything a
sandboxed command must not reach is made reachable *without* the sandbox (world-writable outside dir and socket,
listeners on loopback, a victim process with a secret in its environment), so a blocked attempt is the sandbox's work.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from policies.sandbox.probe import probe

NOBODY = 65534
SECRET = "s3cr3t-" + uuid.uuid4().hex
# The attack parameters an arena passes to commands: not in the sandbox's core environment, so allowed by name.
ARENA_VARS = ("OUT", "PY", "TCP_PORT", "UDP_PORT", "UNIX_SOCK", "ABSTRACT", "VICTIM")
CLI_ALLOW = ("-c", "sandbox.env_allow=[" + ", ".join(f'"{name}"' for name in ARENA_VARS) + "]")


@dataclass
class Arena:
    root: Path
    ws: Path
    out: Path
    git_config: bytes
    git_head: str
    orchestrate_config: bytes
    tcp: socket.socket
    udp: socket.socket
    unix: socket.socket
    abstract: socket.socket
    abstract_name: str
    victim: subprocess.Popen[bytes]
    python: str  # the interpreter attacks run ("$PY")

    @property
    def target(self) -> Path:
        return self.out / "target.txt"

    def env(self) -> dict[str, str]:
        """The environment a command under test gets: the attack parameters plus secrets that must be scrubbed."""
        env = dict(os.environ)
        env.update({
            "OUT": str(self.out),
            "PY": self.python,
            "TCP_PORT": str(self.tcp.getsockname()[1]),
            "UDP_PORT": str(self.udp.getsockname()[1]),
            "UNIX_SOCK": str(self.out / "agent.sock"),
            "ABSTRACT": self.abstract_name,
            "VICTIM": str(self.victim.pid),
            "OPENAI_API_KEY": SECRET,
            "GH_TOKEN": SECRET,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        return env


def git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "safe.directory=*", *args], cwd=ws, check=True, capture_output=True,
                          text=True).stdout.strip()


def make_repo(ws: Path) -> None:
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.email", "t@example.com")
    git(ws, "config", "user.name", "t")
    (ws / "README.md").write_text("hello\n")
    (ws / ".orchestrate").mkdir()
    (ws / ".orchestrate" / "config.toml").write_text('sandbox_mode = "read-only"\n')
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "init")


def _listeners(out: Path) -> tuple[socket.socket, socket.socket, socket.socket, socket.socket, str]:
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(out / "agent.sock"))
    os.chmod(out / "agent.sock", 0o777)
    unix.listen(8)
    name = "orchestrate-test-" + uuid.uuid4().hex
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0" + name)
    abstract.listen(8)
    for sock in (tcp, udp, unix, abstract):
        sock.setblocking(False)
    return tcp, udp, unix, abstract, name


def build_arena(base: Path, *, owner: int | None = None, python: str = sys.executable) -> Arena:
    """A repo workspace and an outside dir under ``base``; ``owner``: chown them and run the victim as that uid."""
    ws, out = base / "ws", base / "outside"
    make_repo(ws)
    out.mkdir()
    os.chmod(out, 0o777)
    (out / "target.txt").write_text("original\n")
    os.chmod(out / "target.txt", 0o666)
    (ws / "escape-link").symlink_to(out)
    if owner is not None:
        for path in (ws, *ws.rglob("*")):
            os.lchown(path, owner, owner)
    tcp, udp, unix, abstract, name = _listeners(out)
    prefix = ["setpriv", f"--reuid={owner}", f"--regid={owner}", "--clear-groups"] if owner is not None else []
    victim = subprocess.Popen([*prefix, "sleep", "300"], env={"PATH": os.environ["PATH"], "VICTIM_KEY": SECRET})
    return Arena(
        root=base, ws=ws, out=out,
        git_config=(ws / ".git" / "config").read_bytes(), git_head=git(ws, "rev-parse", "HEAD"),
        orchestrate_config=(ws / ".orchestrate" / "config.toml").read_bytes(),
        tcp=tcp, udp=udp, unix=unix, abstract=abstract, abstract_name=name, victim=victim, python=python,
    )


def close_arena(arena: Arena) -> None:
    arena.victim.send_signal(signal.SIGKILL)
    arena.victim.wait()
    for sock in (arena.tcp, arena.udp, arena.unix, arena.abstract):
        sock.close()
    shutil.rmtree(arena.root, ignore_errors=True)


def require_backend(name: str) -> None:
    """Skip (with the probe's reason) when ``name`` does not work on this machine."""
    status = probe().status(name)
    if not status.available:
        pytest.skip(f"{name} unavailable here: {status.detail}")


# ------------------------------------------------------------------------------------------------------- attacks

CONFINED = ("read-only", "workspace-write")
EXTERNAL_HOST = "pypi.org"  # resolvable and reachable from this project's machines (the package index)


def _pending_accept(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except (BlockingIOError, InterruptedError):
        return False
    conn.close()
    return True


def _datagram(sock: socket.socket) -> bool:
    try:
        sock.recv(4096)
    except (BlockingIOError, InterruptedError):
        return False
    return True


def _is_char_device(path: Path) -> bool:
    import stat

    try:
        return stat.S_ISCHR(path.lstat().st_mode)
    except FileNotFoundError:
        return False


@dataclass(frozen=True)
class Attack:
    """One escape attempt. ``script`` (bash, run in the workspace) prints ESCAPED when its operation succeeded;
    ``host_check`` looks for the effect from outside. ``git_metadata``: the target is metadata inside the
    workspace, which Landlock cannot protect. ``control``: as root and unconfined the attempt works (proof that
    the script is a real attempt, so a block is the sandbox's doing)."""

    name: str
    script: str
    host_check: Callable[[Arena], bool] = lambda arena: False
    modes: tuple[str, ...] = CONFINED
    git_metadata: bool = False
    external: bool = False
    control: bool = True

    def escaped(self, arena: Arena, output: str) -> bool:
        return f"ESCAPED:{self.name}" in output or self.host_check(arena)

    def wrapped(self) -> str:
        return f"( {self.script} ) && echo ESCAPED:{self.name}\n"


_PY_CONNECT = '"$PY" -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 5)"'
_DNS_QUERY = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01").hex()

ATTACKS: tuple[Attack, ...] = (
    Attack("write_absolute", 'echo pwned > "$OUT/target.txt"',
           lambda a: a.target.read_text() != "original\n"),
    Attack("create_absolute", 'echo x > "$OUT/created.txt"', lambda a: (a.out / "created.txt").exists()),
    Attack("write_dotdot", 'echo x > "../$(basename "$OUT")/dotdot.txt"', lambda a: (a.out / "dotdot.txt").exists()),
    Attack("planted_symlink", "echo x > escape-link/via-link.txt", lambda a: (a.out / "via-link.txt").exists()),
    Attack("hard_link", 'ln "$OUT/target.txt" hardlink && echo pwned > hardlink',
           lambda a: a.target.read_text() != "original\n"),
    Attack("write_git", "echo '[core]' >> .git/config",
           lambda a: (a.ws / ".git" / "config").read_bytes() != a.git_config, git_metadata=True),
    Attack("git_commit", "git -c safe.directory='*' -c user.name=x -c user.email=x@x commit -q --allow-empty -m pwned",
           lambda a: git(a.ws, "rev-parse", "HEAD") != a.git_head, git_metadata=True),
    Attack("write_orchestrate_config", "echo 'sandbox_mode = \"danger-full-access\"' >> .orchestrate/config.toml",
           lambda a: (a.ws / ".orchestrate" / "config.toml").read_bytes() != a.orchestrate_config, git_metadata=True),
    # A bind mount (bubblewrap's read-only /) is made writable with `remount,bind,rw`; plain `remount,rw` fails even
    # with every capability, so the attempt must use the bind form to be a real one (see the remount control test).
    Attack("remount", '( mount -o remount,bind,rw / || mount -o remount,rw / ) && echo pwned > "$OUT/remounted.txt"',
           lambda a: (a.out / "remounted.txt").exists(), control=False),
    Attack("mknod", 'mknod "$PWD/nulldev" c 1 3', lambda a: _is_char_device(a.ws / "nulldev")),
    Attack("ptrace_outside", '"$PY" -c "import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); '
           'sys.exit(0 if l.ptrace(16, int(sys.argv[1]), 0, 0) == 0 else 1)" "$VICTIM"'),
    Attack("tcp_loopback", f'{_PY_CONNECT} 127.0.0.1 "$TCP_PORT"', lambda a: _pending_accept(a.tcp)),
    Attack("udp_dns_loopback", '"$PY" -c "import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)'
           f'.sendto(bytes.fromhex(\'{_DNS_QUERY}\'), (\'127.0.0.1\', int(sys.argv[1])))" "$UDP_PORT"',
           lambda a: _datagram(a.udp)),
    Attack("tcp_external", f"{_PY_CONNECT} {EXTERNAL_HOST} 443", external=True),
    Attack("dns_external", f'"$PY" -c "import socket; socket.getaddrinfo(\'{EXTERNAL_HOST}\', 443)"', external=True),
    Attack("unix_socket_outside", '"$PY" -c "import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])" '
           '"$UNIX_SOCK"', lambda a: _pending_accept(a.unix)),
    Attack("abstract_unix_socket", '"$PY" -c "import socket,sys; socket.socket(socket.AF_UNIX)'
           '.connect(chr(0) + sys.argv[1])" "$ABSTRACT"', lambda a: _pending_accept(a.abstract)),
    Attack("secret_in_env", f'env | grep -q "{SECRET}"', modes=(*CONFINED, "danger-full-access"), control=False),
    Attack("secret_of_outside_process", f'tr "\\0" "\\n" < "/proc/$VICTIM/environ" | grep -q "{SECRET}"'),
)


def external_reachable() -> str | None:
    """``None`` when the external host resolves and accepts TCP from here (unconfined), else why not."""
    try:
        socket.create_connection((EXTERNAL_HOST, 443), 5).close()
    except OSError as exc:
        return f"{EXTERNAL_HOST}:443 is not reachable from this machine even unconfined ({exc})"
    return None
