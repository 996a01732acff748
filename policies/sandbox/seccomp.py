"""A classic-BPF seccomp filter that takes the network away, built with ``struct`` and installed with ``ctypes``.

The filter (for x86_64 and aarch64, checked against the architecture in every syscall):

- ``socket()``: only ``AF_UNIX`` stream and seqpacket sockets; every other family (IPv4, IPv6, netlink, packet, ...)
  and unix datagram sockets (which can ``sendto`` a path outside) fail with ``EPERM``.
- ``socketpair()``: only ``AF_UNIX`` non-datagram pairs (pipes between processes of the command keep working).
- ``connect()``: always ``EPERM``. Only unix sockets can exist, and a unix ``connect`` reaches whatever socket file the
  path names, possibly outside the sandbox (``/run/docker.sock``, an ssh agent).
- ``io_uring_setup()``: ``EPERM``, because io_uring operations bypass seccomp entirely.
- A syscall made with a foreign ABI (i386 ``int 0x80`` on x86_64) kills the process; x32 syscalls fail with ``ENOSYS``.

Used twice: serialised for bubblewrap's ``--seccomp FD`` (:func:`network_filter`), and installed in-process by the
Landlock helper before ``exec`` (:func:`install`). No work at import time; stdlib only and cheap to
import (the helper runs with ``-S`` before every command).
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

__all__ = ["UnsupportedArchError", "network_filter", "install", "supported"]

# BPF opcodes (linux/filter.h).
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_AND_K = 0x54  # BPF_ALU | BPF_AND | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K

_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000

# struct seccomp_data offsets: nr (0), arch (4), instruction_pointer (8), args[6] (16 + 8*i, low word first on LE).
_OFF_NR = 0
_OFF_ARCH = 4


def _off_arg(i: int) -> int:
    return 16 + 8 * i


_AF_UNIX = 1
_SOCK_DGRAM = 2
_SOCK_TYPE_MASK = 0xF  # SOCK_NONBLOCK / SOCK_CLOEXEC live in the high bits
_X32_SYSCALL_BIT = 0x40000000

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _Arch:
    """Syscall numbers of one architecture (a plain class: ``dataclasses``/``typing`` would cost the helper ~15 ms)."""

    __slots__ = ("audit", "connect", "io_uring_setup", "socket", "socketpair", "x32")

    def __init__(self, *, audit: int, socket: int, socketpair: int, connect: int, io_uring_setup: int,
                 x32: bool) -> None:
        self.audit, self.socket, self.socketpair, self.connect = audit, socket, socketpair, connect
        self.io_uring_setup, self.x32 = io_uring_setup, x32


_ARCHES: dict[str, _Arch] = {
    "x86_64": _Arch(audit=0xC000003E, socket=41, socketpair=53, connect=42, io_uring_setup=425, x32=True),
    "aarch64": _Arch(audit=0xC00000B7, socket=198, socketpair=199, connect=203, io_uring_setup=425, x32=False),
}


class UnsupportedArchError(RuntimeError):
    """The machine's architecture has no syscall table here; the caller treats seccomp as unavailable."""


def supported(machine: str | None = None) -> bool:
    return (machine or os.uname().machine) in _ARCHES


class _Program:
    """A tiny BPF assembler with forward labels (jump offsets are resolved when the program is packed)."""

    def __init__(self) -> None:
        self._ops: list[tuple[int, int | str, int | str, int]] = []
        self._labels: dict[str, int] = {}

    def label(self, name: str) -> None:
        self._labels[name] = len(self._ops)

    def op(self, code: int, k: int, jt: int | str = 0, jf: int | str = 0) -> None:
        self._ops.append((code, jt, jf, k))

    def pack(self) -> bytes:
        out = bytearray()
        for index, (code, jt, jf, k) in enumerate(self._ops):
            out += struct.pack("=HBBI", code, self._offset(index, jt), self._offset(index, jf), k & 0xFFFFFFFF)
        return bytes(out)

    def _offset(self, index: int, target: int | str) -> int:
        if isinstance(target, int):
            return target
        offset = self._labels[target] - index - 1
        if not 0 <= offset <= 255:
            raise ValueError(f"BPF jump to {target!r} out of range")
        return offset


def network_filter(machine: str | None = None) -> bytes:
    """The filter as an array of ``struct sock_filter`` in native byte order (what ``bwrap --seccomp`` reads)."""
    arch = _ARCHES.get(machine or os.uname().machine)
    if arch is None:
        raise UnsupportedArchError(f"no seccomp syscall table for {machine or os.uname().machine}")
    deny = _RET_ERRNO | errno.EPERM
    p = _Program()
    p.op(_LD_W_ABS, _OFF_ARCH)
    p.op(_JEQ_K, arch.audit, jt=0, jf="kill")
    p.op(_LD_W_ABS, _OFF_NR)
    if arch.x32:
        p.op(_JGE_K, _X32_SYSCALL_BIT, jt="enosys", jf=0)
    p.op(_JEQ_K, arch.socket, jt="unix_only", jf=0)
    p.op(_JEQ_K, arch.socketpair, jt="unix_only", jf=0)
    p.op(_JEQ_K, arch.connect, jt="deny", jf=0)
    p.op(_JEQ_K, arch.io_uring_setup, jt="deny", jf=0)
    p.op(_RET_K, _RET_ALLOW)
    p.label("unix_only")  # socket(domain, type, protocol) and socketpair(domain, type, protocol, sv)
    p.op(_LD_W_ABS, _off_arg(0))
    p.op(_JEQ_K, _AF_UNIX, jt=0, jf="deny")
    p.op(_LD_W_ABS, _off_arg(1))
    p.op(_AND_K, _SOCK_TYPE_MASK)
    p.op(_JEQ_K, _SOCK_DGRAM, jt="deny", jf=0)
    p.op(_RET_K, _RET_ALLOW)
    p.label("deny")
    p.op(_RET_K, deny)
    p.label("enosys")
    p.op(_RET_K, _RET_ERRNO | errno.ENOSYS)
    p.label("kill")
    p.op(_RET_K, _RET_KILL_PROCESS)
    return p.pack()


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(program: bytes) -> None:
    """Set ``no_new_privs`` and install ``program`` on the calling thread (irreversible). Raises ``OSError``."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    libc.prctl.restype = ctypes.c_int
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {errno.errorcode.get(err, err)}")
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_SECCOMP): {errno.errorcode.get(err, err)}")
