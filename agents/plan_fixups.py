"""The planner's post-processing: the plan a small model drafted, made to fit the project (``[planner]`` keys).

Three fixes, each measured with the embedded model (``benchmarks/solve_rate.py``, ``benchmarks/exercism.py``):

- **No planner call for a small task** (:func:`one_step_plan`, ``planner.skip_small``). A task that names its files,
  all of them existing, short and few (the ``merge_*`` limits), runs as one coder step whose goal is the task, word
  for word; the plan summary says so. The planner model would only have been merged back into that one step (below),
  and its call cost the embedded model 20-35 s of a 10 s exercise.
- **Small plans run as one coder step** (:func:`merge_small_plan`). Every coder step costs a conversation, a review and
  a run of the checks, and a coder sees only its own step's files. When everything a plan touches is a handful of
  short files, one coder that sees all of them at once does better than several that each see a part: the planner
  split one-function fixes into "fix it" + "write a test" steps, and two-file renames into one step per file, and the
  later steps looped or undid the earlier ones. So such a plan becomes one coder step whose goal is the user's task,
  word for word (a small planner's paraphrase loses details: "fix median for even lengths" became "add a median
  function"), over the union of the plan's files. Reviewer and validator steps fold in. A plan is left as it is when
  a coder step does not name its files (its size is unknown), when a file is outside the project or not a regular
  file, or when the files are too many or too long to show a coder up front.
- **Planned paths repaired** (:func:`repair_paths`): ``tests/test_x.py`` for the project's ``test_x.py``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from orchestrator.core.plan import Plan, Step
from orchestrator.settings.schema import PlannerConfig

__all__ = ["fix_plan", "merge_small_plan", "one_step_plan", "repair_paths"]


def merge_small_plan(plan: Plan, task: str, *, root: Path, max_chars: int, max_files: int) -> Plan | None:
    """The one-step plan for ``plan`` when it is small (see the module docstring), else ``None`` (keep it).

    ``root`` is what step files are relative to (the session's cwd). ``max_chars`` 0 disables merging.
    """
    if max_chars <= 0 or not any(step.role == "coder" for step in plan.steps):
        return None
    if any(step.role == "coder" and not step.files for step in plan.steps):
        return None
    files = tuple(dict.fromkeys(path for step in plan.steps for path in step.files))
    if len(files) > max_files or not _fits(files, root, max_chars):
        return None
    first = next(step for step in plan.steps if step.role == "coder")
    summary = plan.summary
    if len(plan.steps) > 1:  # say so where the plan is shown: the user sees one step where the planner made several
        note = (f"{len(plan.steps)} planned steps over {len(files)} short files run as one step; "
                "planner.merge_chars = 0 keeps them apart")
        summary = f"{summary} ({note})" if summary else note
    merged = Plan(summary=summary, steps=(Step(id=first.id, role="coder", goal=task, files=files),))
    return None if merged == plan else merged


def _fits(files: tuple[str, ...], root: Path, max_chars: int) -> bool:
    """Whether the existing files together hold at most ``max_chars`` bytes (files still to create count 0)."""
    top = root.resolve()
    total = 0
    for name in files:
        path = (top / name).resolve()
        if not path.is_relative_to(top):
            return False
        if not path.exists():
            continue
        if not path.is_file():
            return False
        total += path.stat().st_size
        if total > max_chars:
            return False
    return True


def repair_paths(plan: Plan, known: Sequence[str], *, root: Path) -> Plan:
    """``plan`` with each step file that does not exist, but whose file name exactly one known file has, replaced by
    that file's path.

    A small planner names ``tests/test_temperature.py`` for the project's ``test_temperature.py``; a coder then
    creates a second test module of the same name, and pytest refuses to collect both. ``known`` are the project's
    files relative to ``root`` (the listing the planner was shown).
    """
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in known:
        by_name[PurePosixPath(path).name].append(path)

    def repaired(path: str) -> str:
        if path in by_name.get(PurePosixPath(path).name, ()) or (root / path).exists():
            return path
        same_name = by_name.get(PurePosixPath(path).name, [])
        return same_name[0] if len(same_name) == 1 else path

    steps = tuple(step.model_copy(update={"files": tuple(dict.fromkeys(map(repaired, step.files)))})
                  for step in plan.steps)
    return plan if steps == plan.steps else plan.model_copy(update={"steps": steps})


def fix_plan(plan: Plan, task: str, *, known: Sequence[str], root: Path, limits: PlannerConfig) -> Plan:
    """``plan`` with its paths repaired, then merged into one step when it is small (see the module docstring)."""
    plan = repair_paths(plan, known, root=root)
    merged = merge_small_plan(plan, task, root=root, max_chars=limits.merge_chars, max_files=limits.merge_files)
    return plan if merged is None else merged


def one_step_plan(task: str, *, known: Sequence[str], root: Path, limits: PlannerConfig) -> Plan | None:
    """The one-step plan of a small task that names its files (see the module docstring), else ``None``.

    ``known`` are the project's files relative to ``root``. A file is named when its path, or its file name if no
    other known file has it, appears in the task as a word of its own.
    """
    if not limits.skip_small or limits.merge_chars <= 0:
        return None
    names: dict[str, list[str]] = defaultdict(list)
    for path in known:
        names[PurePosixPath(path).name].append(path)
    named = [path for path in known
             if _mentions(task, path) or (len(names[PurePosixPath(path).name]) == 1
                                          and _mentions(task, PurePosixPath(path).name))]
    if not named or len(named) > limits.merge_files or not _fits(tuple(named), root, limits.merge_chars):
        return None
    note = (f"one step: the task names {len(named)} short file{'s' if len(named) > 1 else ''}, so the planner model "
            "was not asked (planner.skip_small = false asks it)")
    return Plan(summary=note, steps=(Step(id="s1", role="coder", goal=task, files=tuple(named)),))


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w./-]){re.escape(word)}(?![\w/-])", text) is not None
