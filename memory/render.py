"""How composed AGENTS.md memory reaches a model and the user: Codex's instructions message, truncation warnings."""

from __future__ import annotations

from pathlib import Path

from orchestrator.core.contracts import MemoryContext, Message

__all__ = ["INSTRUCTIONS_PREFIX", "render_instructions", "instructions_message", "describe_truncation"]

INSTRUCTIONS_PREFIX = "# AGENTS.md instructions for "
_RAISE_HINT = "raise [memory] max_bytes in config.toml (or pass -c memory.max_bytes=65536)"


def render_instructions(context: MemoryContext, cwd: Path) -> str | None:
    """The user-role message text Codex sends for ``context`` in ``cwd``; None when there is no text to send."""
    if not context.text:
        return None
    return f"{INSTRUCTIONS_PREFIX}{cwd}\n\n<INSTRUCTIONS>\n{context.text}\n</INSTRUCTIONS>"


def instructions_message(context: MemoryContext, cwd: Path) -> Message | None:
    """:func:`render_instructions` as a user-role :class:`~orchestrator.core.contracts.Message`."""
    text = render_instructions(context, cwd)
    return None if text is None else Message(role="user", content=text)


def describe_truncation(context: MemoryContext) -> list[str]:
    """One warning line per source the byte budget cut or dropped, naming the file and the bytes left out."""
    lines: list[str] = []
    for source in context.sources:
        if not source.truncated:
            continue
        if source.bytes == 0:
            what = f"AGENTS.md doc {source.path} left out ({source.dropped_bytes} bytes): the memory budget was used up"
        else:
            total = source.bytes + source.dropped_bytes
            what = (
                f"AGENTS.md doc {source.path} truncated: {source.dropped_bytes} of {total} bytes dropped "
                "by the memory budget"
            )
        lines.append(f"{what}; {_RAISE_HINT}")
    return lines
