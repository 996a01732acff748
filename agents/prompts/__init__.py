"""The prompts every role sends, as text files next to this module (``NAME.md``), filled with ``${placeholders}``.

Prompts are data, not string literals in code: they can be read, diffed and tuned (for small local models above
all) without touching the loop. :func:`render` fills a template strictly, so a missing value is a bug, not a silent
``${gap}`` sent to a model.

Short related messages (a tool's observations and refusals) share one file, one *section* each: a line
``<!-- NAME -->`` starts section ``NAME``, which runs to the next such line or the end of the file. ``FILE#NAME``
names a section wherever a template name is taken. A section's text is its lines with the trailing blank lines (and
trailing whitespace) removed; leading spaces of its first line are kept, so a section can be a suffix such as
`` (matched after ...)``. Markers are HTML comments so the file still reads as Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from string import Template
from types import MappingProxyType

__all__ = ["load", "render", "sections", "split_sections"]

_MARKER = re.compile(r"^<!-- ([a-z0-9_]+) -->\n", re.MULTILINE)


@cache
def load(name: str) -> str:
    """The text of ``NAME.md`` shipped in this package (trailing whitespace stripped), or of one section of it when
    ``name`` is ``FILE#SECTION``. An unknown section raises ``KeyError``, an unknown file ``OSError``."""
    file, _, section = name.partition("#")
    if not section:
        return _file(file).rstrip()
    try:
        return sections(file)[section]
    except KeyError:
        raise KeyError(f"no section {section!r} in agents/prompts/{file}.md") from None


@cache
def sections(file: str) -> Mapping[str, str]:
    """The sections of ``FILE.md`` by name (see the module docstring); text before the first marker is ignored."""
    return split_sections(_file(file), where=f"agents/prompts/{file}.md")


def split_sections(text: str, *, where: str = "the template") -> Mapping[str, str]:
    """``text``'s sections by name, in order (see the module docstring). A name used twice raises ``ValueError``."""
    parts = _MARKER.split(text)
    found: dict[str, str] = {}
    for index in range(1, len(parts), 2):
        if parts[index] in found:
            raise ValueError(f"{where}: section {parts[index]!r} appears twice")
        found[parts[index]] = parts[index + 1].rstrip()
    return MappingProxyType(found)


def render(name: str, /, **values: object) -> str:
    """``NAME.md`` (or section ``FILE#SECTION``) with each ``${key}`` replaced by ``str(values[key])``; a missing key
    raises ``KeyError``."""
    return Template(load(name)).substitute({k: str(v) for k, v in values.items()})


def _file(file: str) -> str:
    return resources.files(__package__).joinpath(f"{file}.md").read_text(encoding="utf-8")
