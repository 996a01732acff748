"""Confining the commands agents run (Linux): ``read-only``, ``workspace-write``, ``danger-full-access``.

- ``read-only``: reads anything, writes nothing but a private ``/tmp``.
- ``workspace-write``: also writes the workspace and ``sandbox.writable_roots``; the workspace's ``.git`` (and a
  worktree's git dir and common dir) and ``.orchestrate/`` stay read-only unless ``sandbox.protect_git = false``.
- ``danger-full-access``: no confinement.

In the first two modes the network is off unless ``sandbox.network``: no TCP, UDP or DNS, no ``connect`` to unix
sockets. The environment is an allow-list in every mode (:mod:`policies.sandbox.env`). Processes, memory and
tmpfs are bounded (:mod:`policies.sandbox.limits`) and the whole process tree ends with the command.

Mechanisms: bubblewrap (:mod:`~policies.sandbox.bwrap`, preferred: mount namespace, so ``.git`` can stay read-only)
and Landlock + seccomp (:mod:`~policies.sandbox.landlock`, :mod:`~policies.sandbox.seccomp`, applied by
:mod:`~policies.sandbox.exec_helper`, plus a read-only mount namespace as root (:mod:`~policies.sandbox.mountns`);
unprivileged, Landlock cannot keep ``.git`` read-only inside a writable workspace, and the private ``/tmp`` is a
per-command ``TMPDIR``). ``sandbox.backend`` picks one or ``"auto"`` (bubblewrap, then
Landlock, announced). With none working, confining modes refuse (``SandboxUnavailableError``) unless
``sandbox.allow_unconfined`` is set, and then every command warns.

This module stays import-light (the exec helper imports its siblings with ``python -S``): the public names load on
first use.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing would cost the exec helper ~15 ms per command
if TYPE_CHECKING:
    from policies.sandbox.factory import build_sandbox, policy_for
    from policies.sandbox.runner import SandboxRunner

__all__ = ["build_sandbox", "policy_for", "SandboxRunner"]


def __getattr__(name: str) -> object:
    if name in ("build_sandbox", "policy_for"):
        from policies.sandbox import factory

        return getattr(factory, name)
    if name == "SandboxRunner":
        from policies.sandbox.runner import SandboxRunner

        return SandboxRunner
    raise AttributeError(f"module 'policies.sandbox' has no attribute {name!r}")
