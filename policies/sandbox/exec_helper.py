"""The Landlock backend's launcher: confine a child process, run the command in it, and end the whole tree.

Run as ``python -I -S exec_helper.py STATUS_FD [OPTIONS] -- CMD...`` (a fresh, single-threaded interpreter, which is
why this is safer than a ``preexec_fn`` in a threaded orchestrator). Options (paths absolute, repeatable):
``-n`` network allowed, ``-w DIR`` writable, ``-t DIR`` private temp dir (writable), ``-p PATH`` keep read-only,
``-H PATH`` hide, ``-s MB`` tmpfs size, ``-u N`` ``RLIMIT_NPROC``, ``-d MB`` ``RLIMIT_DATA``, ``-c FILE`` a
``cgroup.procs`` to join. No ``json``/``typing`` imports: they would double the per-command cost.

In order: join the cgroups; with ``CAP_SYS_ADMIN`` (root) build a mount and pid namespace
(:mod:`policies.sandbox.mountns`: everything read-only but the writable roots, protected and hidden paths, sized
tmpfs, read-only ``/proc``), else become a child subreaper; fork; in the child set the rlimits, drop every capability
(a root command keeps uid 0 but loses the power to remount, mknod, load modules, ...), apply Landlock and the seccomp
network filter, ``execvp``. The helper waits for the command, then ends what it left behind: as root the pid
namespace dies with its first process; otherwise every remaining descendant (reparented to the subreaper) is killed.
It exits with the command's status (``128 + N`` for a signal).

Any failure before ``exec`` is written as one line of text to ``STATUS_FD`` and the command exits 125: the runner
reports a sandbox failure, never a command result. A command that cannot be found exits 127 like a shell.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

TYPE_CHECKING = False  # the exec helper imports this: keep typing/collections out of its start-up
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main", "drop_capabilities"]

_PR_CAPBSET_DROP = 24
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
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


class _Options:
    """The parsed command line (a plain class: ``dataclasses`` would cost start-up time)."""

    def __init__(self) -> None:
        self.network = False
        self.writable: list[str] = []
        self.temp_dir = ""
        self.protected: list[str] = []
        self.hidden: list[str] = []
        self.tmpfs_mb = 0
        self.nproc = 0
        self.data_mb = 0
        self.cgroups: list[str] = []
        self.command: list[str] = []


_LISTS = {"-w": "writable", "-p": "protected", "-H": "hidden", "-c": "cgroups"}
_INTS = {"-s": "tmpfs_mb", "-u": "nproc", "-d": "data_mb"}


def _parse(args: list[str]) -> _Options:
    opts = _Options()
    i = 0
    while args[i] != "--":
        flag = args[i]
        if flag == "-n":
            opts.network, i = True, i + 1
            continue
        value = args[i + 1]
        if flag in _LISTS:
            getattr(opts, _LISTS[flag]).append(value)
        elif flag in _INTS:
            setattr(opts, _INTS[flag], int(value))
        elif flag == "-t":
            opts.temp_dir = value
        else:
            raise ValueError(flag)
        i += 2
    opts.command = args[i + 1:]
    if not opts.command:
        raise ValueError("no command")
    return opts


def _confine_child(opts: _Options) -> None:
    """In the command's process, just before ``exec``."""
    import resource

    from policies.sandbox import landlock, seccomp

    if opts.nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (opts.nproc, opts.nproc))
    if opts.data_mb:
        resource.setrlimit(resource.RLIMIT_DATA, (opts.data_mb << 20, opts.data_mb << 20))
    drop_capabilities()
    landlock.restrict_self([*opts.writable, *([opts.temp_dir] if opts.temp_dir else [])], network=opts.network)
    if not opts.network:
        seccomp.install(seccomp.network_filter())


def _exec(command: list[str]) -> int:
    try:
        os.execvp(command[0], command)
    except FileNotFoundError:
        sys.stderr.write(f"orchestrate-sandbox: {command[0]}: command not found\n")
        return 127
    except OSError as exc:
        sys.stderr.write(f"orchestrate-sandbox: {command[0]}: {exc.strerror}\n")
        return 126
    return 0  # unreachable: execvp does not return


def _run_command(opts: _Options, status_fd: int) -> int:
    """The command's process: confine, then ``exec``; returns only on failure."""
    try:
        _confine_child(opts)
    except (OSError, ValueError, ImportError) as exc:
        return _fail(status_fd, f"cannot confine the command: {exc}")
    return _exec(opts.command)


def _status(wait_status: int) -> int:
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    return os.WEXITSTATUS(wait_status)


def _spawn(opts: _Options, status_fd: int) -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(_run_command(opts, status_fd))
    return pid


def _pid_one(opts: _Options, status_fd: int) -> int:
    """The first process of the new pid namespace: mount its /proc, run the command, reap until it ends. Its exit
    makes the kernel kill everything else in the namespace."""
    from policies.sandbox import mountns

    _prctl(_PR_SET_PDEATHSIG, 9)  # the helper gone (killed): the namespace goes too
    try:
        mountns.mount_proc()
    except OSError as exc:
        return _fail(status_fd, f"cannot mount /proc: {exc}")
    command = _spawn(opts, status_fd)
    while True:
        pid, wait_status = os.wait()
        if pid == command:
            return _status(wait_status)


def _end_descendants() -> None:
    """As a subreaper: kill every remaining descendant (each one killed hands its children to us) and reap them."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue
        for child in _children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, 9)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _children() -> list[int]:
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children", encoding="ascii") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        pass
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == me:
                        found.append(int(name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def _join_cgroups(files: list[str]) -> None:
    for path in files:
        with open(path, "w", encoding="ascii") as fh:
            fh.write(str(os.getpid()))


def main(argv: Sequence[str]) -> int:
    try:
        status_fd, opts = int(argv[0]), _parse(list(argv[1:]))
    except (ValueError, IndexError):
        sys.stderr.write("usage: exec_helper.py STATUS_FD [-n] [-w DIR]... [-t DIR] [-p PATH]... [-H PATH]... "
                         "[-s MB] [-u N] [-d MB] [-c FILE]... -- CMD...\n")
        return 2
    os.set_inheritable(status_fd, False)
    try:
        _join_cgroups(opts.cgroups)
        if _has_capability(21):  # CAP_SYS_ADMIN: root can lay out its own mount namespace
            from policies.sandbox import mountns

            mountns.confine_mounts(writable=opts.writable, protected=opts.protected, hidden=opts.hidden,
                                   temp_dir=opts.temp_dir, tmpfs_mb=opts.tmpfs_mb)
            child = os.fork()
            if child == 0:
                os._exit(_pid_one(opts, status_fd))
            return _status(os.waitpid(child, 0)[1])
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    except OSError as exc:
        return _fail(status_fd, f"cannot confine the command: {exc}")
    command = _spawn(opts, status_fd)
    code = _status(os.waitpid(command, 0)[1])
    _end_descendants()
    return code


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option})")


if __name__ == "__main__":
    # Started with -I -S: put the package root (three levels up) on the path so the sibling modules import.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    sys.exit(main(sys.argv[1:]))
