"""AGENTS.md memory: Codex-compatible discovery and composition, plus per-step scoped docs.

``build_memory(settings, home)`` gives the session's :class:`orchestrator.core.contracts.Memory`;
``render_instructions``
turns a :class:`~orchestrator.core.contracts.MemoryContext` into the user-role message every agent receives;
``describe_truncation`` names what the byte budget cut, so truncation is never silent.
"""

from __future__ import annotations

from memory.agents_md import AgentsMdMemory, build_memory
from memory.compose import PROJECT_DOC_SEPARATOR
from memory.discovery import candidate_names, find_project_root, scoped_dirs
from memory.render import INSTRUCTIONS_PREFIX, describe_truncation, instructions_message, render_instructions

__all__ = [
    "AgentsMdMemory",
    "build_memory",
    "render_instructions",
    "instructions_message",
    "describe_truncation",
    "candidate_names",
    "find_project_root",
    "scoped_dirs",
    "PROJECT_DOC_SEPARATOR",
    "INSTRUCTIONS_PREFIX",
]
