"""Resource bounds of one confined command: processes, memory, private tmpfs size (``[sandbox]`` ``max_processes``,
``max_memory_mb``, ``tmpfs_size_mb``; ``0`` means unbounded).

Mechanisms, best first, chosen per limit (:func:`plan_limits` says which one is in force, for ``sandbox status``):

- a **cgroup** per command, created below the cgroup orchestrate runs in: v2 when the controller is delegated to it
  (listed in its ``cgroup.subtree_control``: we never change another manager's settings), or a v1 hierarchy in which
  orchestrate sits at the root (nobody else manages it). ``pids.max`` bounds processes across the whole tree and
  ``memory.max``/``memory.limit_in_bytes`` its total memory; joining happens before the sandbox starts (no race), and
  ending the command kills the whole cgroup (``cgroup.kill`` on v2), whatever ``setsid`` or double forks did. A
  hierarchy without such a controller is not used (joining costs milliseconds per command).
- else **rlimits** set right before the sandbox starts: ``RLIMIT_NPROC`` (per user; root is exempt, so for root
  processes stay unbounded without a cgroup) and ``RLIMIT_DATA`` (per process, not a total).
- tmpfs: bubblewrap's ``--size`` for ``/tmp`` and ``/dev/shm``; the Landlock helper mounts a sized tmpfs as its private
  temp dir when it runs as root, and cannot bound it otherwise (the temp dir is then on disk).

Creating or joining a cgroup needs write access to the cgroup filesystem (root, or a delegated subtree).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "Cgroup", "LimitPlan", "plan_limits", "create_cgroup"]

_COUNTER = itertools.count()
_KILL_ROUNDS = 50
_RMDIR_POLLS = 10000  # 1 ms apart, in a background thread
_PREFIX = "orchestrate-sbx-"


@dataclass(frozen=True)
class Limits:
    max_processes: int = 2048
    max_memory_mb: int = 8192
    tmpfs_size_mb: int = 1024


@dataclass(frozen=True)
class _Hierarchy:
    path: Path  # the cgroup orchestrate runs in, in this hierarchy
    v2: bool
    controllers: frozenset[str]  # usable for children: pids, memory


@dataclass(frozen=True)
class LimitPlan:
    """Which mechanism enforces each limit: ``"cgroup"``, ``"rlimit"`` or ``""`` (none)."""

    processes: str
    memory: str
    hierarchies: tuple[_Hierarchy, ...]

    def describe(self, limits: Limits, *, root: bool) -> list[str]:
        """One line per limit, for ``orchestrate sandbox status``."""
        procs = {"cgroup": "pids cgroup (the whole tree)", "rlimit": "RLIMIT_NPROC",
                 "": "NOT bounded (root is exempt from RLIMIT_NPROC and no pids cgroup is usable)" if root
                 else "NOT bounded"}[self.processes]
        memory = {"cgroup": "memory cgroup (the whole tree)", "rlimit": "RLIMIT_DATA (per process)",
                  "": "NOT bounded"}[self.memory]
        return [
            f"max_processes = {limits.max_processes or 'unbounded'}: {procs if limits.max_processes else 'off'}",
            f"max_memory_mb = {limits.max_memory_mb or 'unbounded'}: {memory if limits.max_memory_mb else 'off'}",
            f"tmpfs_size_mb = {limits.tmpfs_size_mb or 'unbounded'}: bubblewrap --size on /tmp and /dev/shm; "
            "Landlock: a sized tmpfs as root, else not bounded",
        ]


def _mounts() -> list[tuple[str, str, set[str]]]:
    found: list[tuple[str, str, set[str]]] = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            fields = line.split()
            sep = fields.index("-")
            fstype, options = fields[sep + 1], set(fields[sep + 3].split(",")) | set(fields[5].split(","))
            if fstype in ("cgroup", "cgroup2"):
                found.append((fields[4], fstype, options))
    return found


def _hierarchies() -> list[_Hierarchy]:
    try:
        own = Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out: list[_Hierarchy] = []
    for mount, fstype, options in _mounts():
        for line in own:
            _id, names, rel = line.split(":", 2)
            if fstype == "cgroup2" and names == "":
                path = Path(mount, rel.lstrip("/"))
                delegated = (path / "cgroup.subtree_control").read_text().split() if path.is_dir() else []
                out.append(_Hierarchy(path, True, frozenset(delegated) & {"pids", "memory"}))
            elif fstype == "cgroup" and rel == "/" and set(names.split(",")) & options & {"pids", "memory"}:
                out.append(_Hierarchy(Path(mount), False, frozenset(set(names.split(",")) & {"pids", "memory"})))
    # Only hierarchies that bound something: joining a cgroup costs an RCU grace period (milliseconds), and the tree
    # already ends with the command without one (pid namespace, subreaper, the runner's kill_tree).
    return [h for h in out if h.controllers and os.access(h.path, os.W_OK)]


def plan_limits(limits: Limits) -> LimitPlan:
    """Which mechanisms will enforce ``limits`` on this machine for this process (cheap: a few small reads)."""
    found = tuple(_hierarchies())
    usable = set().union(*(h.controllers for h in found)) if found else set()
    root = os.geteuid() == 0
    processes = "cgroup" if "pids" in usable else "" if root else "rlimit"
    memory = "cgroup" if "memory" in usable else "rlimit"
    return LimitPlan(processes=processes, memory=memory, hierarchies=found)


@dataclass
class Cgroup:
    """One command's cgroup directories (one per hierarchy). The sandbox joins by writing its pid to ``procs``."""

    dirs: tuple[Path, ...]

    @property
    def procs(self) -> tuple[Path, ...]:
        return tuple(d / "cgroup.procs" for d in self.dirs)

    def kill(self) -> None:
        """SIGKILL every process in the cgroup (repeatedly: a process may fork while the list is read)."""
        for directory in self.dirs:
            kill_file = directory / "cgroup.kill"
            if kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
        for _ in range(_KILL_ROUNDS):
            pids = [int(p) for d in self.dirs for p in _read(d / "cgroup.procs").split()]
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        """Kill what is left, then delete the directories (retrying while the killed processes are reaped)."""
        self.kill()
        for directory in self.dirs:
            for _ in range(_RMDIR_POLLS):  # the killed tasks leave the cgroup a moment after they are reaped
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.001)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except OSError:
        return ""


def create_cgroup(limits: Limits, plan: LimitPlan) -> Cgroup | None:
    """A fresh cgroup bounding ``limits`` in every usable hierarchy, or ``None`` when none is usable or it fails."""
    name = f"{_PREFIX}{os.getpid()}-{next(_COUNTER)}"
    made: list[Path] = []
    for hierarchy in plan.hierarchies:
        _remove_stale(hierarchy.path)
    try:
        for hierarchy in plan.hierarchies:
            directory = hierarchy.path / name
            directory.mkdir()
            made.append(directory)
            _configure(directory, hierarchy, limits)
    except OSError:
        Cgroup(tuple(made)).remove()
        return None
    return Cgroup(tuple(made)) if made else None


def _remove_stale(parent: Path) -> None:
    """Empty cgroups left by orchestrate processes that are gone (killed before their clean-up ran)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            owner = entry.name[len(_PREFIX):].split("-")[0] if entry.name.startswith(_PREFIX) else ""
            if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                with contextlib.suppress(OSError):
                    os.rmdir(entry.path)


def _configure(directory: Path, hierarchy: _Hierarchy, limits: Limits) -> None:
    if "pids" in hierarchy.controllers and limits.max_processes:
        (directory / "pids.max").write_text(str(limits.max_processes))
    if "memory" in hierarchy.controllers and limits.max_memory_mb:
        memory = str(limits.max_memory_mb << 20)
        if hierarchy.v2:
            (directory / "memory.max").write_text(memory)
            with contextlib.suppress(OSError):
                (directory / "memory.swap.max").write_text("0")
        else:
            (directory / "memory.limit_in_bytes").write_text(memory)
