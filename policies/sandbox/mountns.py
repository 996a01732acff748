"""The Landlock helper's mount confinement, used when it runs with ``CAP_SYS_ADMIN`` (as root), before it drops
every capability: a private mount namespace in which every mount is read-only except the writable roots.

Landlock has no right for metadata (``chmod``, ``chown``, ``utimes``, ``setxattr``); a read-only mount refuses them
all with ``EROFS``. The same namespace keeps ``.git``/``.orchestrate/`` (at any depth) read-only inside a writable
workspace, hides ``sandbox.hide_paths`` (an empty read-only tmpfs over a directory, ``/dev/null`` over a file), gives
the command a size-bounded tmpfs as its private temp dir and ``/dev/shm``, and, with a new pid namespace, a read-only
``/proc`` that shows only the command's own processes (no writable kernel knobs: ``/proc/sys``,
``/proc/sysrq-trigger``; ``/sys`` is read-only like everything else).

Stdlib only, no work at import time (imported by the helper, which runs with ``python -S``).
"""

from __future__ import annotations

import ctypes
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["confine_mounts", "mount_proc", "can_confine_mounts"]

_CLONE_NEWNS = 0x00020000
_CLONE_NEWPID = 0x20000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_SYS_MOUNT_SETATTR = 442  # the same on every architecture (added in 5.12, after the syscall tables were unified)
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.syscall.restype = ctypes.c_long
    return libc


def _ok(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(libc: ctypes.CDLL, source: str | None, target: str, fstype: str | None, flags: int, *,
           data: str | None = None) -> None:
    _ok(libc.mount(source.encode() if source else None, target.encode(), fstype.encode() if fstype else None, flags,
                   data.encode() if data else None), f"mount {target}")


def _set_readonly(libc: ctypes.CDLL, path: str, *, readonly: bool, recursive: bool) -> None:
    attr = _MountAttr(attr_set=_MOUNT_ATTR_RDONLY if readonly else 0, attr_clr=0 if readonly else _MOUNT_ATTR_RDONLY)
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        flags = _AT_RECURSIVE if recursive else 0
        _ok(libc.syscall(ctypes.c_long(_SYS_MOUNT_SETATTR), ctypes.c_int(fd), b"", ctypes.c_uint(0x1000 | flags),
                         ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))), f"mount_setattr {path}")
    finally:
        os.close(fd)


def can_confine_mounts() -> bool:
    """Whether this process holds ``CAP_SYS_ADMIN`` (needed to build the namespace)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> 21 & 1)
    return False


def confine_mounts(*, writable: Sequence[str], protected: Sequence[str], hidden: Sequence[str], temp_dir: str,
                   tmpfs_mb: int) -> None:
    """Enter new mount and pid namespaces (the *next* child forked is pid 1) and lay the mounts out. Raises
    ``OSError``. ``writable`` must exist; ``protected`` and ``hidden`` paths that do not exist are skipped."""
    libc = _libc()
    _ok(libc.unshare(_CLONE_NEWNS | _CLONE_NEWPID), "unshare")
    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing below propagates back to the host
    for path in writable:
        _mount(libc, path, path, None, _MS_BIND | _MS_REC)
    size = f"size={tmpfs_mb}m," if tmpfs_mb else ""
    scratch = [temp_dir] + (["/dev/shm"] if os.path.isdir("/dev/shm") else [])
    for path in scratch:
        _mount(libc, "tmpfs", path, "tmpfs", _MS_NOSUID | _MS_NODEV, data=f"{size}mode=1777")
    for path in protected:
        if os.path.lexists(path) and not os.path.islink(path):
            _mount(libc, path, path, None, _MS_BIND | _MS_REC)
    for path in hidden:
        if os.path.isdir(path) and not os.path.islink(path):
            flags = _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
            _mount(libc, "tmpfs", path, "tmpfs", flags, data="size=4k,mode=0")
        elif os.path.lexists(path) and not os.path.islink(path):
            _mount(libc, "/dev/null", path, None, _MS_BIND)
    _set_readonly(libc, "/", readonly=True, recursive=True)
    for path in (*writable, *scratch):
        _set_readonly(libc, path, readonly=False, recursive=False)  # protected binds below them stay read-only
    os.chdir(os.getcwd())  # the old cwd is a dentry of the mount below the new binds: enter them


def mount_proc() -> None:
    """In the new pid namespace's first process: a read-only ``/proc`` of that namespace."""
    _mount(_libc(), "proc", "/proc", "proc", _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
