"""The file-system :class:`~orchestrator.core.contracts.Memory`: Codex-compatible AGENTS.md memory plus per-step scoped
docs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from memory.compose import Doc, join_docs, read_budgeted, read_global_doc
from memory.discovery import candidate_names, find_project_root, project_doc_paths, scoped_doc_paths
from orchestrator.core.contracts import MemoryContext
from orchestrator.settings.home import Home
from orchestrator.settings.schema import MemoryConfig, Settings

__all__ = ["AgentsMdMemory", "build_memory"]


class AgentsMdMemory:
    """AGENTS.md memory read from disk on every call (docs may change between steps; discovery is a few stats).

    ``load(cwd)``: the global doc from the home, then the project docs from the project root down to ``cwd``
    (DESIGN.md's ``memory show --json`` text). ``scoped(cwd, files)``: the docs of the directories strictly below
    ``cwd`` on the way to ``files``, each introduced by a line naming the doc and the directory it applies to; it has
    its own budget of ``memory.max_bytes``. ``memory.max_bytes = 0`` disables both project and scoped docs.
    """

    def __init__(self, config: MemoryConfig, home: Home) -> None:
        self._config = config
        self._home = home
        self._names = candidate_names(config.fallback_filenames)

    def project_root(self, cwd: Path) -> Path | None:
        """The project root for ``cwd`` (nearest ancestor with a root marker), or None: only ``cwd`` is read."""
        return find_project_root(_absolute(cwd), self._config.root_markers)

    def load(self, cwd: Path) -> MemoryContext:
        cwd = _absolute(cwd)
        global_doc = read_global_doc((self._home.agents_override_md, self._home.agents_md))
        project: list[Doc] = []
        if self._config.max_bytes > 0:
            paths = project_doc_paths(cwd, markers=self._config.root_markers, names=self._names)
            project = read_budgeted(paths, self._config.max_bytes)
        docs = ([global_doc] if global_doc else []) + project
        return MemoryContext(sources=tuple(d.source for d in docs), text=join_docs(global_doc, project))

    def scoped(self, cwd: Path, files: Sequence[str]) -> MemoryContext:
        cwd = _absolute(cwd)
        if self._config.max_bytes <= 0 or not files:
            return MemoryContext()
        docs = read_budgeted(scoped_doc_paths(cwd, files, names=self._names), self._config.max_bytes)
        sections = [f"{_scope_line(doc.source.path, cwd)}\n\n{doc.text}" for doc in docs if doc.text]
        return MemoryContext(sources=tuple(d.source for d in docs), text="\n\n".join(sections))


def _absolute(cwd: Path) -> Path:
    return cwd.expanduser().resolve()


def _scope_line(doc: Path, cwd: Path) -> str:
    rel = doc.relative_to(cwd)
    return f"--- {rel.as_posix()} (applies to files under {rel.parent.as_posix()}/) ---"


def build_memory(settings: Settings, home: Home) -> AgentsMdMemory:
    """The session's :class:`~orchestrator.core.contracts.Memory`, configured by ``settings.memory``."""
    return AgentsMdMemory(settings.memory, home)
