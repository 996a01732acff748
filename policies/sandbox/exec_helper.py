"""The Landlock backend's launcher: apply the confinement to itself, then ``exec`` the command.

Run as ``python -I -S exec_helper.py STATUS_FD NETWORK [WRITABLE_DIR...] -- CMD...`` (a fresh, single-threaded
interpreter, which is why this is safer than a ``preexec_fn`` in a threaded orchestrator); ``NETWORK`` is ``0`` or
``1``, the writable directories are absolute. No ``json``/``typing`` imports: they would double the per-command
cost. In order: drop every capability (a root command keeps uid 0 but loses the power to remount,
mknod, load modules, ...), Landlock, then the seccomp network filter unless the network is allowed, then ``execvp``.

Any failure before ``exec`` is written as one line of text to ``STATUS_FD`` (close-on-exec, so a
successful ``exec`` leaves it empty) and the helper exits 125: the runner reports a sandbox failure, never a command
result. A command that cannot be found exits 127 like a shell. Stdlib only.
"""

from __future__ import annotations

import ctypes
import os
import sys

TYPE_CHECKING = False  # the exec helper imports this: keep typing/collections out of its start-up
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main", "drop_capabilities"]

_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Empty the bounding, ambient, inheritable, permitted and effective sets (a no-op for a process without any)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as fh:
        last = int(fh.read().strip())
    has_setpcap = _has_capability(8)  # CAP_SETPCAP: needed to shrink the bounding set
    if has_setpcap:
        for cap in range(last + 1):
            if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap}) failed")
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    number = _SYS_CAPSET.get(os.uname().machine)
    if number is None:
        raise OSError(0, f"no capset syscall number for {os.uname().machine}")
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(ctypes.c_long(number), ctypes.byref(header), ctypes.byref(data)) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _has_capability(cap: int) -> bool:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> cap & 1)
    return False


def _fail(status_fd: int, message: str) -> int:
    try:
        os.write(status_fd, (message.replace("\n", " ") + "\n").encode())
    except OSError:
        sys.stderr.write(f"orchestrate-sandbox: {message}\n")
    return 125


def main(argv: Sequence[str]) -> int:
    from policies.sandbox import landlock, seccomp

    try:
        split = list(argv).index("--")
        status_fd, network = int(argv[0]), argv[1] == "1"
    except (ValueError, IndexError):
        split = -1
    if split < 2 or split == len(argv) - 1:
        sys.stderr.write("usage: exec_helper.py STATUS_FD NETWORK [WRITABLE_DIR...] -- CMD...\n")
        return 2
    writable, command = list(argv[2:split]), list(argv[split + 1 :])
    os.set_inheritable(status_fd, False)
    try:
        drop_capabilities()
        landlock.restrict_self(writable, network=network)
        if not network:
            seccomp.install(seccomp.network_filter())
    except (OSError, ValueError, seccomp.UnsupportedArchError) as exc:
        return _fail(status_fd, f"cannot confine the command: {exc}")
    try:
        os.execvp(command[0], command)
    except FileNotFoundError:
        sys.stderr.write(f"orchestrate-sandbox: {command[0]}: command not found\n")
        return 127
    except OSError as exc:
        sys.stderr.write(f"orchestrate-sandbox: {command[0]}: {exc.strerror}\n")
        return 126
    return 0  # unreachable: execvp does not return


if __name__ == "__main__":
    # Started with -I -S: put the package root (three levels up) on the path so the sibling modules import.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    sys.exit(main(sys.argv[1:]))
