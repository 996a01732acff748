"""Telling "the sandbox refused" from "the command failed".

A failed confined command counts as denied when its output shows an error the confinement produces: under
bubblewrap, writes outside the writable binds fail with ``EROFS`` and cross-mount hard links with ``EXDEV``; under
Landlock, writes fail with ``EACCES`` (``EROFS`` from the helper's read-only mounts as root); the seccomp filter
answers network syscalls with ``EPERM``; with the network namespace, connections fail with
``ENETUNREACH``/``ECONNREFUSED`` and names do not resolve. A process killed by ``SIGSYS`` tripped the filter. The
result is a best guess from the output, which is what the engine needs to offer a retry outside the sandbox
(approval policy ``on-failure``) or to tell the model why its command failed.
"""

from __future__ import annotations

import re
import signal

__all__ = ["detect_denial"]

_FILESYSTEM: dict[str, tuple[str, ...]] = {
    "bwrap": ("Read-only file system", "Invalid cross-device link", "Operation not permitted"),
    "landlock": ("Permission denied", "Read-only file system", "Invalid cross-device link", "Operation not permitted"),
}
_NETWORK = (
    "Network is unreachable",
    "Connection refused",
    "Temporary failure in name resolution",
    "Name or service not known",
    "No address associated with hostname",
    "Could not resolve host",
    "Could not resolve",
    "getaddrinfo failed",
    "nodename nor servname",
    "Address family not supported",
)


def _first_line_with(output: str, needles: tuple[str, ...]) -> str | None:
    pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)
    for line in output.splitlines():
        if pattern.search(line):
            return line.strip()[:300]
    return None


def detect_denial(backend: str, exit_code: int, output: str, *, network: bool) -> str | None:
    """The denial reason for a failed confined command, or ``None`` when nothing points at the sandbox."""
    if exit_code == 0 or backend not in _FILESYSTEM:
        return None
    if exit_code == 128 + signal.SIGSYS:
        return f"{backend}: killed by the seccomp filter (a forbidden system call)"
    needles = _FILESYSTEM[backend] + (() if network else _NETWORK)
    line = _first_line_with(output, needles)
    if line is None:
        return None
    kind = "network is off" if not network and _first_line_with(line, _NETWORK) else "not allowed in the sandbox"
    return f"{backend} ({kind}): {line}"
