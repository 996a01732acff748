"""Landlock (Linux >= 5.13) through ``ctypes``: confine the calling process's writes to a few directory trees.

Reads and execution stay unrestricted everywhere; every write-like right (write, truncate, create, remove, rename
across directories, make device/fifo/socket/symlink) is handled and granted only beneath the writable roots, plus
writing to the harmless character devices a shell needs (``/dev/null``, terminals). Rights are additive down a tree,
so Landlock **cannot keep ``.git`` read-only inside a writable workspace**: bubblewrap can (read-only bind mount).

Also, depending on the kernel's ABI: TCP bind/connect are denied when the network is off (ABI 4; UDP and other
families are the seccomp filter's job), and signals and abstract unix sockets cannot reach processes outside the
domain (ABI 6). Landlock always forbids ``ptrace`` of processes outside the domain and changing mounts.

Stdlib only (the exec helper runs with ``python -S``); no work at import time.
"""

from __future__ import annotations

import ctypes
import errno
import os

TYPE_CHECKING = False  # the exec helper imports this: keep typing/collections out of its start-up
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["LandlockError", "abi_version", "restrict_self", "DEVICE_FILES"]

_SYS_CREATE_RULESET = 444  # the same number on every architecture (generic syscall table)
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

_EXECUTE = 1 << 0
_WRITE_FILE = 1 << 1
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3
_REMOVE_DIR = 1 << 4
_REMOVE_FILE = 1 << 5
_MAKE_CHAR = 1 << 6
_MAKE_DIR = 1 << 7
_MAKE_REG = 1 << 8
_MAKE_SOCK = 1 << 9
_MAKE_FIFO = 1 << 10
_MAKE_BLOCK = 1 << 11
_MAKE_SYM = 1 << 12
_REFER = 1 << 13  # ABI 2
_TRUNCATE = 1 << 14  # ABI 3

_NET_BIND_TCP = 1 << 0  # ABI 4
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX = 1 << 0  # ABI 6
_SCOPE_SIGNAL = 1 << 1

# Character devices a command may write to; device nodes themselves can never be created (MAKE_CHAR/BLOCK stay denied).
DEVICE_FILES: tuple[str, ...] = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts")


class LandlockError(OSError):
    """Landlock is missing or a rule could not be added."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unsupported or disabled."""
    libc = _libc()
    result = int(libc.syscall(ctypes.c_long(_SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                              ctypes.c_uint32(_CREATE_RULESET_VERSION)))
    return max(result, 0)


def _write_rights(abi: int) -> int:
    rights = (_WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_CHAR | _MAKE_DIR | _MAKE_REG | _MAKE_SOCK | _MAKE_FIFO
              | _MAKE_BLOCK | _MAKE_SYM)
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise LandlockError(err, f"{what}: {os.strerror(err)}")
    return result


def restrict_self(writable: Sequence[str], *, network: bool) -> int:
    """Confine the calling thread (and what it ``exec``s) so it writes only beneath ``writable``; returns the ABI used.

    Missing writable paths are skipped. ``no_new_privs`` must already be set (the seccomp installer sets it; this sets
    it too). Raises :class:`LandlockError` when Landlock is unavailable or the kernel refuses a rule.
    """
    abi = abi_version()
    if abi < 1:
        raise LandlockError(errno.EOPNOTSUPP, "Landlock is not supported or not enabled by this kernel")
    handled = _write_rights(abi)
    attr = _RulesetAttr(fs=handled, net=0, scoped=0)
    if abi >= 4 and not network:
        attr.net = _NET_BIND_TCP | _NET_CONNECT_TCP
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else 16 if abi >= 4 else 8
    libc = _libc()
    ruleset = _check(libc.syscall(ctypes.c_long(_SYS_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size),
                                  ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        for path in writable:
            _add_path(libc, ruleset, path, handled)
        for device in DEVICE_FILES:
            _add_path(libc, ruleset, device, (_WRITE_FILE | _TRUNCATE) & handled)
        libc.prctl(38, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))  # no_new_privs
        _check(libc.syscall(ctypes.c_long(_SYS_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def _add_path(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # nothing there to grant
    try:
        if not os.path.isdir(path):
            rights &= _WRITE_FILE | _TRUNCATE | _EXECUTE | _READ_FILE  # only file rights are valid on a file
        rule = _PathBeneath(allowed_access=rights, parent_fd=fd)
        _check(libc.syscall(ctypes.c_long(_SYS_ADD_RULE), ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                            ctypes.byref(rule), ctypes.c_uint32(0)), f"landlock_add_rule({path})")
    finally:
        os.close(fd)
