"""The coder's strategy: the model-specific aids, bundled per model capability (``coder.strategy``, issue 13).

A coder works either through **actions** (read, edit, write, run, done: one a turn) or through **drafts** (every file
it changes rewritten whole in one plain-text reply). Which pays depends on the model, so the aids that fit one kind of
model are named here, each with the reason it exists, instead of applying to every model from wherever they were
added. ``auto`` chooses by the capability probe ``orchestrate models check`` caches (:mod:`orchestrator.models.
capabilities`): a model with native tool calls gets :class:`ActionsStrategy`, one without (the embedded 1.5B model
answers in structured JSON) gets :class:`DraftStrategy`.

The aids (each a field of the strategy; the guards of :mod:`agents.guards` apply to every strategy):

- ``first_draft``: the first round asks for the step's short files whole, as code blocks (:mod:`agents.draft`).
  Measured with the embedded model: whole files solved 11/12 small tasks that JSON actions fumbled.
- ``redraft_feedback``: a failing check (or a review) is answered by a fresh whole-file draft given the failing output
  and the tests, not by the action loop. Measured on Exercism (benchmarks/exercism.py): the embedded model's action
  loop sent the same ``edit`` six times and hit the cap; a redraft is one call, as in the naive retry loop.
- ``sample_on_repeat``: the same failing output twice in a row means the greedy redraft did not move: the next one is
  sampled at :data:`agents.candidates.SAMPLING_TEMPERATURE` (a different candidate instead of the same answer).
- ``show_tests``: the coder's first message (and every draft) shows the test files of the step's modules (both
  ``test_x.py`` and ``x_test.py``) and the check's protected tests: they hold the exact names and messages that
  instructions leave out.
- ``check_search``: when the task's own tests judge the step, the step is a search (:mod:`agents.search`): the first
  draft, then candidates answering the best one's failing output (greedy, then sampled from the same cached
  conversation), each judged by the checks, the first that passes taken. Measured on Exercism (docs/solve-rate.md).
- ``review_when_checked``: whether a change that the task's own tests judge (the protected test files of
  :mod:`agents.guards`) goes to the reviewer model first. False for the draft strategy: with the tests as the judge, a
  small reviewer only adds a call per round (in the Exercism baseline it approved a draft that then failed the tests).
- ``read_enough_nudge``, ``rewrite_limit``, ``change_note``: the action loop's nudges for a small model that re-reads
  what it was shown, rewrites one file turn after turn, or repeats an edit it made (:mod:`agents.loop`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["ActionsStrategy", "CoderStrategy", "DraftStrategy", "StrategyName", "choose_strategy"]

StrategyName = Literal["auto", "actions", "draft"]


class CoderStrategy(Protocol):
    """What a coder does beyond the shared loop; see the module docstring for each aid and why it exists."""

    @property
    def name(self) -> str: ...

    @property
    def first_draft(self) -> bool: ...

    @property
    def redraft_feedback(self) -> bool: ...

    @property
    def sample_on_repeat(self) -> bool: ...

    @property
    def show_tests(self) -> bool: ...

    @property
    def check_search(self) -> bool: ...

    @property
    def review_when_checked(self) -> bool: ...

    @property
    def read_enough_nudge(self) -> bool: ...

    @property
    def rewrite_limit(self) -> int: ...

    @property
    def change_note(self) -> bool: ...


@dataclass(frozen=True)
class DraftStrategy:
    """For models without native tool calls (small local ones): whole-file drafts, fed with the checks' output."""

    name: str = "draft"
    first_draft: bool = True
    redraft_feedback: bool = True
    sample_on_repeat: bool = True
    show_tests: bool = True
    check_search: bool = True
    review_when_checked: bool = False
    read_enough_nudge: bool = True
    rewrite_limit: int = 3
    change_note: bool = True


@dataclass(frozen=True)
class ActionsStrategy:
    """For models with native tool calls: the action loop, reviewed before the checks. The loop's nudges stay on (as
    they were before strategies existed): nobody has measured yet whether a strong model is better off without them.
    """

    name: str = "actions"
    first_draft: bool = False
    redraft_feedback: bool = False
    sample_on_repeat: bool = False
    show_tests: bool = True
    check_search: bool = False
    review_when_checked: bool = True
    read_enough_nudge: bool = True
    rewrite_limit: int = 3  # 0: no limit
    change_note: bool = True


def choose_strategy(name: StrategyName, *, native_tools: bool, draft: bool = True) -> CoderStrategy:
    """The strategy ``coder.strategy`` names; ``auto``: by ``native_tools`` (the gateway's answer from the capability
    probe). ``draft`` is the older ``coder.draft`` key: false chooses the actions strategy (no drafts at all)."""
    if name == "actions" or (name == "auto" and (native_tools or not draft)):
        return ActionsStrategy()
    return DraftStrategy()
