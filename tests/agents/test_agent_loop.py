"""The shared agent loop driven by fake models against a real directory: actions, errors as observations, turn
limits, checkpoints and resume, native tool calls, context elision."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agents.coder import Coder
from agents.loop import Stalled, TurnLimit
from agents.tools import ToolBox
from orchestrator.core.contracts import Message, ModelRequest
from orchestrator.core.events import ListSink
from orchestrator.core.plan import Step
from orchestrator.engine.commands import CommandRunner
from orchestrator.settings.schema import Settings
from orchestrator.testing import FunctionModel, ScriptedModel, gateway_for
from policies.amend import append_allow_rule
from policies.sandbox import policy_for
from tests.agents.doubles import HostSandbox, ScriptedApprover, WordGate

pytestmark = pytest.mark.anyio

STEP = Step(id="s1", role="coder", goal="make add() add", files=("calc.py",))


def act(action: str, **fields: Any) -> str:
    return json.dumps({"thought": f"do {action}", "action": action, **fields})


class ListCheckpoint:
    def __init__(self, messages: Sequence[Message] | None = None) -> None:
        self.saved: list[Message] | None = list(messages) if messages is not None else None
        self.saves = 0

    def load(self) -> list[Message] | None:
        return list(self.saved) if self.saved is not None else None

    def save(self, messages: Sequence[Message]) -> None:
        self.saved = list(messages)
        self.saves += 1


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("fix add\n")
    return tmp_path


def settings(**data: Any) -> Settings:
    # These tests script the action loop turn by turn; the first draft (agents.draft) has its own tests.
    return Settings.model_validate({**data, "coder": {"draft": False, **data.get("coder", {})}})


def coder_for(project: Path, model: ScriptedModel | FunctionModel, cfg: Settings | None = None,
              checkpoint: ListCheckpoint | None = None, step: Step = STEP) -> Coder:
    cfg = cfg or settings()
    runner = CommandRunner(gate=WordGate(), approver=ScriptedApprover(), sandbox=HostSandbox(), settings=cfg,
                           events=ListSink(), policy_for=policy_for, persist_rule=append_allow_rule)
    tools = ToolBox(root=project, step_id="s1", commands=runner)
    return Coder(step, task="fix the calculator", gateway=gateway_for(cfg, model), settings=cfg, tools=tools,
                 instructions=None, checkpoint=checkpoint)


async def test_every_action_runs_through_the_loop(project: Path) -> None:
    patch = "--- a/notes/todo.txt\n+++ b/notes/todo.txt\n@@ -1 +1 @@\n-fix add\n+add fixed\n"
    model = ScriptedModel([
        act("list_files"),
        act("search", pattern="return a"),
        act("read_file", path="calc.py"),
        act("edit", path="calc.py", search="return a - b", replace="return a + b"),
        act("apply_patch", diff=patch),
        act("write_file", path="test_calc.py", content="from calc import add\n\nassert add(2, 3) == 5\n"),
        act("run", command="python3 test_calc.py && echo CHECK-OK"),
        act("done", summary="add() adds"),
    ])
    coder = coder_for(project, model)
    done = await coder.run()
    assert done.summary == "add() adds"
    assert (project / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert (project / "notes/todo.txt").read_text() == "add fixed\n"
    observations = [r.messages[-1].content for r in model.requests[1:]]
    assert observations[0].splitlines() == ["calc.py", "notes/todo.txt"]
    assert observations[1] == "calc.py:2: return a - b"
    assert observations[2].startswith("calc.py (lines 1-2 of 2)")
    assert observations[3] == "edited calc.py at line 2"
    assert observations[4] == "patched notes/todo.txt"
    assert observations[5] == "created test_calc.py (3 lines)"
    assert "CHECK-OK" in observations[6] and "[exit code 0]" in observations[6]
    assert coder.tools.changed == ["calc.py", "notes/todo.txt", "test_calc.py"]
    # structured mode: each request asks for the action schema; the assistant turns are recorded as JSON actions
    assert all(r.response_schema is not None and r.tools is None for r in model.requests)
    assert json.loads(coder.messages[-1].content) == {"thought": "do done", "action": "done", "summary": "add() adds"}


async def test_first_request_holds_the_system_prompt_and_the_goal(project: Path) -> None:
    model = ScriptedModel([act("done", summary="nothing")])
    await coder_for(project, model).run()
    first = model.requests[0].messages
    assert first[0].role == "system" and '"action": "edit"' in first[0].content
    assert "make add() add" in first[-1].content and "calc.py" in first[-1].content
    assert "notes/todo.txt" in first[-1].content  # the file tree


async def test_a_reply_that_is_not_an_action_becomes_an_observation(project: Path) -> None:
    cfg = settings(models={"structured_retries": 0})
    model = ScriptedModel(["I would edit calc.py now.", act("done", summary="ok")])
    done = await coder_for(project, model, cfg).run()
    assert done.summary == "ok"
    feedback = model.requests[1].messages[-1].content
    assert feedback.startswith("ERROR: your reply was not one valid action") and '"action": "read_file"' in feedback


async def test_an_invalid_action_names_the_missing_field(project: Path) -> None:
    cfg = settings(models={"structured_retries": 0})
    model = ScriptedModel([json.dumps({"action": "edit", "path": "calc.py"}), act("done", summary="ok")])
    await coder_for(project, model, cfg).run()
    assert "search" in model.requests[1].messages[-1].content


async def test_edit_errors_are_observations_and_the_model_can_recover(project: Path) -> None:
    model = ScriptedModel([
        act("edit", path="calc.py", search="return a-b", replace="return a + b"),
        act("edit", path="calc.py", search="    return a - b", replace="    return a + b"),
        act("done", summary="fixed"),
    ])
    await coder_for(project, model).run()
    error = model.requests[1].messages[-1].content
    assert error.startswith("ERROR: edit of calc.py failed") and "    return a - b" in error
    assert "return a + b" in (project / "calc.py").read_text()


async def test_path_escape_is_refused_inside_the_loop(project: Path) -> None:
    model = ScriptedModel([act("write_file", path="../evil.txt", content="x"), act("done", summary="no")])
    await coder_for(project, model).run()
    assert "outside the project" in model.requests[1].messages[-1].content
    assert not (project.parent / "evil.txt").exists()


async def test_turn_limit_ends_the_loop(project: Path) -> None:
    cfg = settings(coder={"max_turns": 2})
    model = ScriptedModel([act("read_file", path="calc.py")] * 3)
    with pytest.raises(TurnLimit) as info:
        await coder_for(project, model, cfg).run()
    assert info.value.turns == 2 and len(model.requests) == 2


async def test_every_turn_is_checkpointed_and_a_finished_run_resumes_without_the_model(project: Path) -> None:
    checkpoint = ListCheckpoint()
    model = ScriptedModel([act("read_file", path="calc.py"), act("done", summary="looked")])
    coder = coder_for(project, model, checkpoint=checkpoint)
    await coder.run()
    assert checkpoint.saved == coder.messages and checkpoint.saves == 3  # initial + two turns
    resumed = coder_for(project, ScriptedModel([]), checkpoint=ListCheckpoint(checkpoint.saved))
    assert (await resumed.run()).summary == "looked"


async def test_resume_continues_from_the_last_committed_turn(project: Path) -> None:
    checkpoint = ListCheckpoint()
    first = ScriptedModel([act("read_file", path="calc.py")])
    with pytest.raises(TurnLimit):
        await coder_for(project, first, settings(coder={"max_turns": 1}), checkpoint).run()
    second = ScriptedModel([act("done", summary="resumed")])
    assert (await coder_for(project, second, checkpoint=checkpoint).run()).summary == "resumed"
    history = second.requests[0].messages
    assert history[-1].content.startswith("calc.py (lines 1-2 of 2)")  # the saved observation, not a new start
    assert sum(m.role == "system" for m in history) == 1


async def test_feedback_round_continues_the_same_conversation(project: Path) -> None:
    model = ScriptedModel([act("done", summary="first"), act("done", summary="second")])
    coder = coder_for(project, model)
    await coder.run()
    coder.revise_after_review(["calc.py: add() still subtracts"])
    assert (await coder.run()).summary == "second"
    assert "- calc.py: add() still subtracts" in model.requests[1].messages[-1].content


async def test_native_tool_calls_round_trip(project: Path) -> None:
    cfg = settings(models={"tool_mode": "native"})
    model = ScriptedModel([
        {"content": "", "tool_calls": [{"id": "c1", "name": "read_file", "arguments": {"path": "calc.py"}}]},
        {"content": '{"action": "edit", "path": "calc.py", "search": "a - b", "replace": "a + b"}'},
        {"content": "", "tool_calls": [{"id": "c2", "name": "done", "arguments": {"summary": "native"}}]},
    ])
    coder = coder_for(project, model, cfg)
    assert (await coder.run()).summary == "native"
    assert model.requests[0].tools is not None and {t.name for t in model.requests[0].tools} >= {"edit", "run"}
    second = model.requests[1].messages
    assert second[-2].tool_calls[0].name == "read_file"
    assert second[-1].role == "tool" and second[-1].tool_call_id == "c1" and "return a - b" in second[-1].content
    assert model.requests[2].messages[-1].role == "user" and "edited calc.py" in model.requests[2].messages[-1].content
    assert "a + b" in (project / "calc.py").read_text()


async def test_native_bad_tool_arguments_are_answered_with_the_error(project: Path) -> None:
    cfg = settings(models={"tool_mode": "native"})
    model = ScriptedModel([
        {"content": "", "tool_calls": [{"id": "c1", "name": "edit", "arguments": {"path": "calc.py"}}]},
        {"content": "", "tool_calls": [{"id": "c2", "name": "done", "arguments": {"summary": "x"}}]},
    ])
    await coder_for(project, model, cfg).run()
    answer = model.requests[1].messages[-1]
    assert answer.role == "tool" and answer.tool_call_id == "c1" and "invalid edit action" in answer.content


async def test_old_observations_are_elided_when_the_history_outgrows_the_budget(project: Path) -> None:
    (project / "big.txt").write_text("".join(f"filler line {i}\n" for i in range(200)))
    replies = [act("read_file", path="big.txt", start_line=i) for i in range(1, 6)] + [act("done", summary="ok")]

    def reply(request: ModelRequest) -> str:
        return replies[len(model.requests) - 1]  # the fake records the request before asking us

    model = FunctionModel(reply)
    coder = coder_for(project, model)
    coder.loop.context_chars = 6000
    await coder.run()
    last = model.requests[-1].messages
    assert any("elided" in m.content for m in last)
    assert "filler line 199" in last[-1].content  # the latest observation is whole
    assert last[0].role == "system" and "make add() add" in last[1].content
    assert all("elided" not in m.content for m in coder.messages)  # only the window is shrunk, not the record



async def test_the_same_action_with_the_same_result_three_times_stalls_the_loop(project: Path) -> None:
    model = ScriptedModel([act("edit", path="calc.py", search="a - b", replace="a + b")]
                          + [act("read_file", path="calc.py")] * 3)
    coder = coder_for(project, model)
    with pytest.raises(Stalled):
        await coder.run()
    assert len(model.requests) == 4
    assert coder.messages[-1].content.startswith("calc.py (lines 1-2 of 2)")
    assert "done exactly this three times with the same result" in coder.messages[-1].content


async def test_reading_over_and_over_before_any_change_is_told_once_to_make_it(project: Path) -> None:
    # Seen with the embedded model: it re-read the two files it had been shown until the step failed.
    read = act("read_file", path="calc.py")
    model = ScriptedModel([read] * 3 + [act("edit", path="calc.py", search="a - b", replace="a + b"),
                                        act("done", summary="fixed")])
    coder = coder_for(project, model)
    assert (await coder.run()).summary == "fixed"
    assert "nothing is changed yet" in model.requests[3].messages[-1].content
    stuck = ScriptedModel([read] * 6)
    with pytest.raises(Stalled):
        await coder_for(project, stuck).run()  # told once a round; then the round ends
    assert len(stuck.requests) == 6


async def test_interleaved_repeats_without_progress_stall_too(project: Path) -> None:
    noop = {"action": "edit", "path": "calc.py", "search": "return a - b", "replace": "return a - b"}
    read = {"action": "read_file", "path": "calc.py"}
    model = ScriptedModel([json.dumps(x | {"thought": f"t{i}"}) for i, x in enumerate([noop, read] * 5)])
    with pytest.raises(Stalled):
        await coder_for(project, model).run()
    assert len(model.requests) == 10  # the third identical no-op edit: told once to make a change; then it ends
    assert "this edit changes nothing" in model.requests[1].messages[-1].content


async def test_writing_one_file_whole_three_times_in_a_round_ends_the_round(project: Path) -> None:
    # Seen with the embedded model: asked for "a test", it rewrote the test file 20 times, one test more each time.
    writes = [act("write_file", path="test_calc.py", content="def test_%d():\n    pass\n" * n % tuple(range(n)))
              for n in (1, 2, 3, 4)]
    model = ScriptedModel(writes)
    coder = coder_for(project, model)
    with pytest.raises(Stalled) as stalled:
        await coder.run()
    assert len(model.requests) == 3 and stalled.value.doing == "writing test_calc.py 3 times"
    assert "written test_calc.py whole 3 times in this round" in coder.messages[-1].content
    assert (project / "test_calc.py").read_text().count("def test_") == 3


async def test_rewrites_are_counted_per_file_and_per_round(project: Path) -> None:
    model = ScriptedModel([act("write_file", path="a.py", content="a = 1\n"),
                           act("write_file", path="b.py", content="b = 1\n"),
                           act("write_file", path="a.py", content="a = 2\n"),
                           act("write_file", path="b.py", content="b = 2\n"),
                           act("done", summary="two files"),
                           act("write_file", path="a.py", content="a = 3\n"),
                           act("done", summary="again")])
    coder = coder_for(project, model)
    assert (await coder.run()).summary == "two files"
    coder.revise_after_checks("pytest", "1 failed")
    assert (await coder.run()).summary == "again"  # the third write of a.py is the first of this round


async def test_repeating_a_command_that_makes_progress_is_not_a_stall(project: Path) -> None:
    bump = act("run", command="echo x >> log.txt && wc -l < log.txt")
    model = ScriptedModel([bump] * 4 + [act("done", summary="counted")])
    assert (await coder_for(project, model).run()).summary == "counted"
    assert (project / "log.txt").read_text() == "x\n" * 4
