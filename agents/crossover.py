"""Recombined candidates: the best candidate with one top-level definition taken from another (agents.search).

Two failing drafts of a module with several functions often fail different tests: one gets ``encode`` right, the
other ``decode``. No model call can see that, but the tests can: the best candidate with another candidate's version
of one definition (its imports brought along) is one more candidate, judged by the checks like the others, at the
cost of a test run instead of a model answer. The same idea as AlphaCode's test filtering, applied to parts of
candidates. Python modules only; a swap that does not parse is not tried.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from agents.pymerge import definition_sources, merge_definitions

__all__ = ["definition_swaps"]


def definition_swaps(base: Mapping[str, str], donor: Mapping[str, str]) -> list[dict[str, str]]:
    """``base``'s files, each variant with one top-level definition of a Python file replaced by ``donor``'s version
    of it (where both define it and the two differ), in the donor's order."""
    variants: list[dict[str, str]] = []
    for path, text in base.items():
        other = donor.get(path)
        if not path.endswith(".py") or other is None or other == text:
            continue
        for swapped in _swaps(text, other):
            variants.append({**base, path: swapped})
    return variants


def _swaps(base: str, donor: str) -> list[str]:
    try:
        ours, theirs = definition_sources(base), definition_sources(donor)
        imports = "".join((ast.get_source_segment(donor, node) or "") + "\n"
                          for node in ast.parse(donor).body if isinstance(node, (ast.Import, ast.ImportFrom)))
    except SyntaxError:
        return []
    found = []
    for name, source in theirs.items():
        if name in ours and ours[name] != source:
            merged = merge_definitions(base, imports + source)
            if merged is not None and merged != base:
                found.append(merged)
    return found
