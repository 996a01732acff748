"""The step a model call is made for travels explicitly (``gateway.for_step``), not in an ambient context variable:
its ``usage`` event carries the step id, its reply is kept under the step's reply scope, and the replay key of a
request is byte-identical to the one sessions recorded before the scope travelled on the request."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from agents import prompts
from orchestrator.compose import usage_reporter
from orchestrator.core.contracts import Message, ModelRequest
from orchestrator.core.events import Event, UsageReported
from orchestrator.engine.emitter import SessionEvents
from orchestrator.engine.replay import ReplayingModel, reply_key
from orchestrator.models.gateway import ModelGateway
from orchestrator.settings.schema import RoleConfig, Settings
from orchestrator.testing import FunctionModel

USER = [Message(role="user", content="add 2 and 3")]
ROOT = Path(__file__).resolve().parents[2]


class Kept:
    """A ReplySource holding replies by key (what a session's store does), recording what it keeps."""

    def __init__(self) -> None:
        self.replies: dict[str, str] = {}

    def take_reply(self, key: str) -> str | None:
        return self.replies.pop(key, None)


class Recorder(SessionEvents):
    """The real emitter, without a store: what it was asked to persist, with the reply kept with each usage event."""

    def __init__(self) -> None:
        super().__init__(None)
        self.seen: list[tuple[Event, tuple[str, str] | None]] = []

    def emit(self, event: Event) -> None:
        self.seen.append((event, None))

    def emit_usage(self, event: UsageReported, reply: tuple[str, str] | None) -> None:
        self.seen.append((event, reply))


def _gateway(model: Any, kept: Kept, events: SessionEvents) -> ModelGateway:
    settings = Settings.model_validate({"model": "fake", "models": {"retry_backoff_s": 0}})

    def resolve(name: str, config: RoleConfig) -> ReplayingModel:
        return ReplayingModel(model, kept)

    return ModelGateway(settings, reask=prompts.load("structured_reask"),
                        resolve=resolve, on_call=usage_reporter(events))


def test_a_replay_key_is_the_one_recorded_before_the_scope_travelled_on_the_request() -> None:
    request = ModelRequest(messages=(Message(role="system", content="be brief"), *USER), temperature=0.2,
                           max_tokens=64, reply_scope="s1#1")
    # Computed with the ModelRequest of the previous commit (no reply_scope field): existing sessions still replay.
    assert reply_key("s1#1", "scripted", request) == (
        "b0fa90b0a153a12ddff4aa022f51d01ee064fe2c342d2cd35d4539afedb796a7")
    assert "reply_scope" not in request.model_dump_json()


def test_a_steps_call_is_reported_with_its_id_and_its_reply_kept_under_its_scope() -> None:
    kept, events = Kept(), Recorder()
    asked: list[ModelRequest] = []
    gateway = _gateway(FunctionModel(lambda request: asked.append(request) or "five", name="fake"), kept, events)
    response = anyio.run(gateway.for_step("s1", "s1#2").complete, "coder", USER)
    assert response.content == "five"
    [(event, reply)] = events.seen
    assert isinstance(event, UsageReported) and event.step_id == "s1"
    assert asked[0].reply_scope == "s1#2"
    assert reply is not None and reply[0] == reply_key("s1#2", "fake", asked[0]) and '"five"' in reply[1]


def test_a_kept_reply_is_given_again_without_a_usage_event() -> None:
    kept, events = Kept(), Recorder()
    calls: list[ModelRequest] = []
    gateway = _gateway(FunctionModel(lambda request: calls.append(request) or "paid"), kept, events)
    anyio.run(gateway.for_step("s1").complete, "coder", USER)
    (_, reply), = events.seen
    assert reply is not None
    kept.replies[reply[0]] = reply[1]
    again = anyio.run(gateway.for_step("s1").complete, "coder", USER)
    assert again.content == "paid" and again.usage.prompt_tokens == 0
    assert len(calls) == 1 and len(events.seen) == 1
    # Another step asking the same is another call: replies are kept per step.
    kept.replies[reply[0]] = reply[1]
    anyio.run(gateway.for_step("s2").complete, "coder", USER)
    assert len(calls) == 2 and events.seen[-1][0].step_id == "s2"  # type: ignore[union-attr]


def test_parallel_steps_each_get_their_own_usage_events() -> None:
    events = Recorder()
    gateway = _gateway(FunctionModel(lambda request: "ok"), Kept(), events)

    async def both() -> None:
        async with anyio.create_task_group() as group:
            for step_id in ("a", "b", "c"):
                group.start_soon(gateway.for_step(step_id).complete, "coder", USER)

    anyio.run(both)
    assert sorted(e.step_id or "" for e, _ in events.seen if isinstance(e, UsageReported)) == ["a", "b", "c"]


def test_no_context_variable_carries_state_sideways_in_the_packages() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}" for package in ("orchestrator", "agents", "policies", "memory")
             for path in sorted((ROOT / package).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\bContextVar\b", line)]
    assert found == []


@pytest.mark.anyio
async def test_a_stagings_notice_names_its_step(bank_repo: Path, orchestrate_home: Path) -> None:
    """A path left out of a step's change is reported as a warning of that step (the executor hands each staging a
    notify that names it; before, a context variable set in the step's task did)."""
    from orchestrator.core.events import ListSink, WarningEvent
    from tests.engine.test_orchestrator_flow import EditingSteps, _orchestrator, _plan, replace

    def plant(root: Path) -> None:
        replace("return x\n", "return abs(x)\n")(root)
        (root / ".orchestrate").mkdir(exist_ok=True)
        (root / ".orchestrate" / "config.toml").write_text("model = 'evil'\n")

    sink = ListSink()
    orch = _orchestrator(bank_repo, orchestrate_home, _plan(("s1", ())), EditingSteps({"s1": [plant]}), sink)
    try:
        result = await orch.run("validate amounts")
    finally:
        await orch.aclose()
    assert result.status == "succeeded"
    left_out = [e for e in sink.events if isinstance(e, WarningEvent) and "left out" in e.message]
    assert left_out and all(e.step_id == "s1" for e in left_out)


def test_a_seeded_sample_is_its_own_call_and_an_unseeded_key_is_unchanged() -> None:
    """Sampled candidates ask the same messages: without their seed in the key, the second took the first one's kept
    reply (the same candidate again, no model call), and a search of ten drafts checked three (exercism octal)."""
    request = ModelRequest(messages=(Message(role="user", content="hi"),), temperature=0.7)
    first, second = request.model_copy(update={"seed": 1}), request.model_copy(update={"seed": 2})
    assert len({reply_key("s1", "m", r) for r in (request, first, second)}) == 3
    assert reply_key("s1", "m", request) == reply_key("s1", "m", request.model_copy(update={"seed": None}))
    assert "seed" not in request.model_dump()
