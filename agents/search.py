"""Check-driven draft search: how the draft strategy works a step whose own tests judge it (:mod:`agents.strategy`).

A greedy whole-file draft first. While the checks fail: a *repair* of each new best candidate, then, in turn, more
repairs of the best one and fresh samples of the first request, all sampled (temperature
:data:`agents.candidates.SAMPLING_TEMPERATURE`, a seed of its own each). A repair is a request of its own: the goal,
the best candidate's files, the end of its failing output and the failing tests' source (:mod:`agents.failing`), asking
what is wrong in one sentence, then the corrected files; a reply holding only the definitions it fixes is merged into
the best candidate's files. Every candidate is judged by the checks; the first that passes is the step's change. When
``coder.search_drafts`` answers are spent (or ``coder.search_patience`` answers in a row left the best candidate as it
was), the candidate that passed the most tests (:mod:`agents.scores`) is left in the staging and the step fails with
its output. AlphaCode-style filtering by tests, with the test output as feedback (issue 17).

Why this shape, measured on this machine (embedded 1.5B model, llama.cpp, 2 cores):

- Reading the prompt dominates: about 50-85 prompt tokens/s against about 25 generated tokens/s, so a 1,500-token
  prompt (goal, stub, tests) costs about 20 s before the first token.
- llama.cpp keeps the last prompt's cache: another answer to the same messages costs only its own tokens (about 6 s
  for 150). Samples of the first request pay for reading it once. (The older redraft rebuilt the conversation with
  the current files inside it, and every round read everything again.)
- Answers to a failing draft's output *in the conversation* (its reply, then the output) copy it: on one exercise nine
  sampled answers were the same 51 tokens; over five exercises no such answer improved on its draft, and each cost
  5-30 s. The same content as a request of its own, with the failing tests' source and "what is wrong?", gave new
  programs: on the development set it fixed the last failing test of two exercises in 3 of 4 and 1 of 4 tries
  (hand-run before it was built). So feedback is a repair request, and the samples alternate with it. Greedy
  repairs copied too (three of three on one exercise, in one run): repairs are sampled, which did as well by hand.
- A runner's report often stops before the input that matters (``with self.assertRaises(ValueError):`` fails on the
  ``with`` line; the call with the bad argument is on the next one): the failing tests' source shows it.
- Parallel server slots did not pay: 4 slots answering 4 samples took 70 s, against about 40 s for 3 in a row (each
  slot reads the prompt itself; the 2 cores are the bound). Candidates run one after another.
- A candidate identical to one already judged is not checked again.
- Two failing drafts often fail different tests (one gets ``encode`` right, the other ``decode``): after each failing
  candidate, the best one with one definition of the other swapped in is checked too (:mod:`agents.crossover`), a
  test run each instead of a model answer, at most :data:`MAX_RECOMBINED` a step.

Bounds: at most ``coder.search_drafts`` model answers, fewer when ``coder.search_patience`` answers in a row did not
improve the best candidate, within the step's own wall time (``coder.step_timeout_s``, enforced by the pipeline). The
checks run on the unchanged files while the first draft is asked for (the baseline);
every candidate's check run is bounded by ten times the slowest finished run (the baseline's counted by its CPU time
or a quarter of its wall time, as it competes with the model for the cores; at least :data:`MIN_CHECK_BOUND_S`), so
a candidate that loops forever costs seconds, not ``validate.idle_timeout_s``.
"""

from __future__ import annotations

import hashlib
import resource
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from agents import prompts
from agents.crossover import definition_swaps
from agents.draft import DraftFile, current_files, draft_preamble, draft_request, drafts_in, write_files
from agents.failing import failing_tests, sources_of
from agents.scores import Score, score
from agents.validator import ValidationResult, tail_bytes
from orchestrator.core.contracts import Message

if TYPE_CHECKING:
    from agents.tools import ToolBox
    from orchestrator.core.services import Gateway

__all__ = ["Baseline", "Candidate", "MIN_CHECK_BOUND_S", "RunChecks", "SearchBudget", "SearchResult", "search"]

MIN_CHECK_BOUND_S = 5.0  # a test file that ran in 0.3 s: a looping candidate costs 5 s (at 20 s, three cost a minute)
CHECK_BOUND_FACTOR = 10.0
BASELINE_CONTENTION = 4.0  # the baseline's wall time counts for this much less (see _Search.first)
# The failing output a round answers: its end, where pytest and unittest summarise what failed. Every byte is read
# by the model before it answers (about 4 bytes a token, 50-85 tokens/s here); the full tail stays in the events.
FEEDBACK_BYTES = 2500
# The failing tests' own source shown with it (agents.failing): what the runner's report leaves out (the input).
TEST_SOURCE_CHARS = 1500
# Answers after the first are bounded by this many times its length (at least MIN_ANSWER_TOKENS): room for a sentence
# of explanation and a longer program, not for a reply that runs away.
ANSWER_TOKENS_FACTOR = 3
MIN_ANSWER_TOKENS = 512
MAX_RECOMBINED = 12  # recombined candidates checked in one step (agents.crossover): a test run each, no model answer
RunChecks = Callable[[float | None], Awaitable[ValidationResult]]  # a timeout bound (None: the configured one)
OnCandidate = Callable[[int, int], None]  # (candidate number, most candidates): for the live view
Baseline = Callable[[], Awaitable[object]]  # the checks on the files as they are (only their time is used)


@dataclass(frozen=True)
class SearchBudget:
    most: int  # model answers asked for at most, the first draft included
    temperature: float  # the samples' temperature
    greedy: float | None = None  # the role's own temperature (None: the model's default)
    patience: int = 0  # stop after this many answers in a row left the best candidate as it was (0: never)


@dataclass(frozen=True)
class Candidate:
    index: int
    reply: str
    files: Mapping[str, str]  # path → the content it wrote
    result: ValidationResult

    @property
    def score(self) -> Score:
        return score(self.result)


@dataclass(frozen=True)
class SearchResult:
    best: Candidate | None  # the candidate left in the staging (None: no candidate changed anything)
    tried: int  # model answers asked for
    checked: int  # candidates judged by the checks

    @property
    def passed(self) -> bool:
        return self.best is not None and self.best.result.passed


async def search(
    *, gateway: Gateway, tools: ToolBox, goal: str, contents: str, files: Sequence[str], instructions: str | None,
    run_checks: RunChecks, budget: SearchBudget, on_candidate: OnCandidate | None = None,
    baseline: Baseline | None = None,
) -> SearchResult:
    """Search for a change of ``files`` that passes the checks (see the module docstring); the best one is left in
    ``tools.root``. Only ``files`` are written, through ``tools`` (its guards apply). ``baseline`` runs the checks on
    the files as they are, timed while the first draft is asked for: it bounds the candidates' check runs."""
    run = _Search(gateway, tools, goal, files, run_checks=run_checks, budget=budget, on_candidate=on_candidate)
    base = draft_request(goal=goal, contents=contents, files=files, instructions=instructions)
    await run.judge(await run.first(base, baseline))
    repaired: set[int] = set()  # the best candidates that had a repair
    while run.tried < budget.most and not run.passed and not run.stalled:
        best = run.best
        if best is not None and (best.index not in repaired or run.tried % 2 == 0):
            repaired.add(best.index)
            await run.judge(await run.repair(_repair(best, goal, files, instructions, run.tests), budget.temperature),
                            best)
        else:
            await run.judge(await run.ask(base, budget.temperature))
    run.restore_best()
    return SearchResult(run.best, run.tried, run.checked)


class _Search:
    def __init__(self, gateway: Gateway, tools: ToolBox, goal: str, files: Sequence[str], *, run_checks: RunChecks,
                 budget: SearchBudget, on_candidate: OnCandidate | None) -> None:
        self.gateway, self.tools, self.goal, self.files = gateway, tools, goal, list(files)
        self.run_checks, self.budget, self.on_candidate = run_checks, budget, on_candidate
        self.base = current_files(tools.root, files)
        # the task's own tests, which judge the candidates (their source is shown in repairs)
        self.tests = {name: text for name, text in current_files(tools.root, sorted(tools.protected)).items() if text}
        self.best: Candidate | None = None
        self.seen: set[str] = set()
        self.tried = self.checked = self.recombined = 0
        self.slowest = 0.0  # the slowest check run that finished (or the baseline's), seconds
        self.answer_tokens: int | None = None  # a bound on later answers, from the first one's length
        self.unimproved = 0  # judged answers in a row that (with their recombinations) left the best as it was

    @property
    def passed(self) -> bool:
        return self.best is not None and self.best.result.passed

    @property
    def stalled(self) -> bool:
        """The last ``budget.patience`` judged answers (and their recombinations) left the best candidate as it was. A
        repeat or an answer with nothing usable is not counted: it was not judged."""
        return bool(self.budget.patience) and self.unimproved >= self.budget.patience

    async def first(self, messages: list[Message], baseline: Baseline | None) -> str:
        """The first (greedy) draft, with the baseline checks timed meanwhile (stopped when the draft is ready:
        the time they took so far is a floor)."""
        if baseline is None:
            return await self.ask(messages, self.budget.greedy)
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            async def measure() -> None:
                cpu = _children_cpu()
                await baseline()
                # It ran while the model read the prompt on the same cores (and with cold caches): its wall time is
                # inflated (1.9 s for a test file that then ran in 0.3 s). The CPU time its processes used is not,
                # but says nothing of a check that waits; a share of the wall time covers that.
                self.slowest = max(_children_cpu() - cpu, (time.monotonic() - started) / BASELINE_CONTENTION)

            group.start_soon(measure)
            reply = await self.ask(messages, self.budget.greedy)
            if not self.slowest:
                self.slowest = time.monotonic() - started
            group.cancel_scope.cancel()
        return reply

    async def ask(self, messages: list[Message], temperature: float | None) -> str:
        self.tried += 1
        if self.on_candidate is not None:
            self.on_candidate(self.tried, self.budget.most)
        return await self._answer(messages, temperature)

    async def _answer(self, messages: list[Message], temperature: float | None) -> str:
        # Each sample its own seed: samples of the same messages differ (and a resumed step asks the same again).
        seed = self.tried if temperature else None
        response = await self.gateway.complete("coder", messages, temperature=temperature, seed=seed,
                                               max_tokens=self.answer_tokens)
        if self.answer_tokens is None and response.usage.completion_tokens:
            # Later answers write the same files: bounded by the first one's length (one ran away to 2,048 tokens,
            # two minutes of a 4-minute step, where the first draft had 289).
            self.answer_tokens = max(MIN_ANSWER_TOKENS, ANSWER_TOKENS_FACTOR * response.usage.completion_tokens)
        return response.content

    async def repair(self, messages: list[Message], temperature: float | None) -> str:
        """A repair's answer: the reply, or, when it explains without any code block (the model often stops after its
        sentence), that and the answer to one more request for the code (part of the same try). A reply cut off in its
        code block (at the answers' bound) is not continued: it had its tokens."""
        reply = await self.ask(messages, temperature)
        if "```" in reply:  # code, whole or cut off
            return reply
        more = [*messages, Message(role="assistant", content=reply),
                Message(role="user", content=prompts.render("coder_search_repair_code", files=", ".join(self.files)))]
        return f"{reply}\n\n{await self._answer(more, temperature)}"

    async def judge(self, reply: str, repairing: Candidate | None = None) -> None:
        """Write the reply's drafts over the base (over the ``repairing`` candidate's files when it answers a repair
        request: a reply with only the definitions it fixes is merged into them) and run the checks, unless nothing is
        usable or it was judged; a failing candidate is then recombined with the best one (agents.crossover)."""
        before = dict(self.base) if repairing is None else {**self.base, **repairing.files}
        drafts = drafts_in(reply, self.files, before, self.goal)
        files = {**(repairing.files if repairing is not None else {}), **{d.path: d.content for d in drafts}}
        if not drafts or not self._new(files):  # nothing usable, or a candidate judged already: not checked again
            return
        found = await self._check(files, reply)
        if found is None:
            return
        previous = self._promote(found)
        if not self.passed and previous is not None and self.best is not None:
            await self._recombine(self.best, found if self.best is not found else previous)
        self.unimproved = self.unimproved + 1 if self.best is previous else 0

    async def _recombine(self, best: Candidate, donor: Candidate) -> None:
        """The best candidate with one definition of the donor's at a time (:mod:`agents.crossover`), each checked
        (at most :data:`MAX_RECOMBINED` a step), while none passes."""
        if donor.result.timed_out:  # its definitions may loop forever: each swap would cost a check's bound
            return
        for files in definition_swaps(best.files, donor.files):
            if self.passed or self.recombined >= MAX_RECOMBINED:
                return
            if not self._new(files):
                continue
            self.recombined += 1
            reply = "\n\n".join(f"{path}\n```\n{text}```" for path, text in files.items())
            found = await self._check(files, reply)
            if found is not None:
                self._promote(found)

    def _new(self, files: Mapping[str, str]) -> bool:
        key = _digest(files)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    async def _check(self, files: Mapping[str, str], reply: str) -> Candidate | None:
        """``files`` written over the base and checked: a candidate (``None``: the toolbox refused every file)."""
        self._reset()
        written = await write_files([DraftFile(path, text) for path, text in files.items()], self.tools)
        if not written.paths:
            return None
        started = time.monotonic()
        bound = max(MIN_CHECK_BOUND_S, CHECK_BOUND_FACTOR * self.slowest) if self.slowest else None
        result = await self.run_checks(bound)
        if not result.timed_out:
            self.slowest = max(self.slowest, time.monotonic() - started)
        self.checked += 1
        return Candidate(self.tried, reply, {path: files[path] for path in written.paths}, result)

    def _promote(self, found: Candidate) -> Candidate | None:
        """Make ``found`` the best when it is strictly better (a candidate failing as the best one did is not
        answered again: its feedback did not help); the best before."""
        previous = self.best
        if previous is None or found.score > previous.score:
            self.best = found
        return previous

    def _reset(self) -> None:
        """The files as they were before the search (a candidate starts from the base, not from the previous one)."""
        for name, text in self.base.items():
            path = self.tools.root / name
            if text is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(text, encoding="utf-8")

    def restore_best(self) -> None:
        self._reset()
        if self.best is not None:
            for name, text in self.best.files.items():
                (self.tools.root / name).write_text(text, encoding="utf-8")


def _repair(best: Candidate, goal: str, files: Sequence[str], instructions: str | None,
            tests: Mapping[str, str]) -> list[Message]:
    """A request of its own to fix the best candidate: the goal, its files, what its checks said and the failing
    tests' source (agents.failing), not a conversation with its reply in it (see the module docstring)."""
    output = tail_bytes(best.result.output_tail, FEEDBACK_BYTES)
    sources = sources_of(tests, failing_tests(best.result.output_tail), limit=TEST_SOURCE_CHARS, shown=output)
    shown = "\n\n" + prompts.render("coder_failing_tests", sources=sources) if sources else ""
    current = "\n\n".join(f"{path}\n```\n{text}```" for path, text in best.files.items())
    return [*draft_preamble(instructions), Message(role="user", content=prompts.render(
        "coder_search_repair", goal=goal, current=current, output=output, tests=shown, files=", ".join(files)))]


def _children_cpu() -> float:
    """User and system CPU seconds of this process's finished child processes (a check's, once it is waited for)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _digest(files: Mapping[str, str]) -> str:
    text = "\0".join(f"{path}\0{content}" for path, content in sorted(files.items()))
    return hashlib.sha256(text.encode()).hexdigest()
