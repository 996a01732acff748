"""Reading AGENTS.md docs and composing them into one text, the way Codex does, but never truncating silently.

- The global doc is the first of ``AGENTS.override.md`` and ``AGENTS.md`` in the home whose text is not blank,
  trimmed. It is outside the project budget.
- Project docs are read root first against one shared byte budget. A doc whose text is blank contributes nothing and
  consumes nothing (so an empty ``AGENTS.override.md`` hides its directory's ``AGENTS.md`` and adds no text). The
  doc that crosses the budget is cut at the budget, backed off to a UTF-8 character boundary; every later doc is
  dropped. Both are reported (``truncated``, ``dropped_bytes``). Non-blank docs are kept verbatim (not trimmed).
- Texts are decoded as UTF-8 with invalid bytes replaced (Codex's ``from_utf8_lossy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.core.contracts import MemorySource
from orchestrator.core.errors import InputError, Location

__all__ = ["PROJECT_DOC_SEPARATOR", "Doc", "cut_utf8", "read_global_doc", "read_budgeted", "join_docs"]

PROJECT_DOC_SEPARATOR = "\n\n--- project-doc ---\n\n"
_DOC_SEPARATOR = "\n\n"
_MAX_UTF8_BACKOFF = 3  # a UTF-8 character is at most 4 bytes: at most 3 continuation bytes precede a start


@dataclass(frozen=True)
class Doc:
    """One doc that made it into (or was cut from, or dropped from) the composed text."""

    source: MemorySource
    text: str  # "" for a dropped doc


def cut_utf8(data: bytes, limit: int) -> int:
    """The largest cut ``<= limit`` that does not split a UTF-8 character of ``data`` (``len(data)`` if it fits)."""
    if len(data) <= limit:
        return len(data)
    cut = limit
    steps = 0
    while cut > 0 and steps < _MAX_UTF8_BACKOFF and (data[cut] & 0xC0) == 0x80:
        cut -= 1
        steps += 1
    if (data[cut] & 0xC0) == 0x80:
        return limit  # not UTF-8 here anyway: cut at the byte budget
    return cut


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""  # removed since discovery: as if it was never there
    except OSError as exc:
        raise InputError(
            f"cannot read AGENTS.md doc: {exc.strerror or exc}",
            location=Location(path),
            hint="fix its permissions or remove it",
        ) from exc


def read_global_doc(candidates: Sequence[Path]) -> Doc | None:
    """The first of ``candidates`` (override, then AGENTS.md) that is a readable file with non-blank text, trimmed."""
    for path in candidates:
        if not path.is_file():
            continue
        text = _decode(_read(path)).strip()
        if text:
            size = len(text.encode("utf-8"))
            return Doc(MemorySource(path=path, scope="global", bytes=size), text)
    return None


def read_budgeted(paths: Sequence[Path], max_bytes: int) -> list[Doc]:
    """Read project (or scoped) docs in order against one budget of ``max_bytes``; blank docs are left out.

    ``max_bytes == 0`` disables them: nothing is read and nothing is reported.
    """
    if max_bytes <= 0:
        return []
    docs: list[Doc] = []
    remaining = max_bytes
    for path in paths:
        data = _read(path)
        if not _decode(data).strip():
            continue  # blank: no text, no budget (an empty override still hid its directory's AGENTS.md)
        if remaining == 0:
            docs.append(_dropped(path, data))
            continue
        cut = cut_utf8(data, remaining)
        truncated = cut < len(data)
        # The crossing doc ends the budget, even when the UTF-8 back-off left a few bytes of it unused.
        remaining = 0 if truncated else remaining - cut
        text = _decode(data[:cut])
        if not text.strip():
            docs.append(_dropped(path, data))  # what fit of it is blank: nothing of it is sent
            continue
        source = MemorySource(
            path=path, scope="project", bytes=cut, truncated=truncated, dropped_bytes=len(data) - cut
        )
        docs.append(Doc(source, text))
    return docs


def _dropped(path: Path, data: bytes) -> Doc:
    return Doc(MemorySource(path=path, scope="project", bytes=0, truncated=True, dropped_bytes=len(data)), "")


def join_docs(global_doc: Doc | None, project: Sequence[Doc]) -> str:
    """Codex's composition: project texts joined by a blank line, after the global doc and the project-doc marker."""
    project_text = _DOC_SEPARATOR.join(doc.text for doc in project if doc.text)
    if global_doc is None:
        return project_text
    if not project_text:
        return global_doc.text
    return global_doc.text + PROJECT_DOC_SEPARATOR + project_text
