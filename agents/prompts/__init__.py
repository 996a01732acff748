"""The prompts every role sends, as text files next to this module (``NAME.md``), filled with ``${placeholders}``.

Prompts are data, not string literals in code: they can be read, diffed and tuned (for small local models above
all) without touching the loop. :func:`render` fills a template strictly, so a missing value is a bug, not a silent
``${gap}`` sent to a model.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

__all__ = ["load", "render"]


@cache
def load(name: str) -> str:
    """The text of ``NAME.md`` shipped in this package (trailing whitespace stripped)."""
    return resources.files(__package__).joinpath(f"{name}.md").read_text(encoding="utf-8").rstrip()


def render(name: str, **values: object) -> str:
    """``NAME.md`` with each ``${key}`` replaced by ``str(values[key])``; a missing key raises ``KeyError``."""
    return Template(load(name)).substitute({k: str(v) for k, v in values.items()})
