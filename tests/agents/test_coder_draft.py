"""The coder's first draft (agents.draft): code blocks in a plain reply become write_file turns; then the loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.draft import DraftFile, draftable_files, named_files, parse_draft
from orchestrator.core.plan import Step
from orchestrator.testing import ScriptedModel
from tests.agents.test_agent_loop import ListCheckpoint, act, coder_for, settings

pytestmark = pytest.mark.anyio

FIXED = "def add(a, b):\n    return a + b\n"


@pytest.mark.parametrize("named", ["calc.py", "File: calc.py", "**calc.py**", "### `calc.py`", "calc.py:",
                                   "Here is the new calc.py:"])
def test_a_block_is_named_by_the_line_before_it(named: str) -> None:
    reply = f"{named}\n```python\n{FIXED}```\n"
    assert parse_draft(reply, ["calc.py", "test_calc.py"]) == [DraftFile("calc.py", FIXED)]


def test_blocks_for_several_files_and_paths_in_the_fence() -> None:
    reply = (f"calc.py\n```python\n{FIXED}```\n\n```test_calc.py\nfrom calc import add\n```\n"
             "secrets.py\n```python\nx = 1\n```\n")  # not a file of the step: ignored
    assert parse_draft(reply, ["calc.py", "test_calc.py"]) == [
        DraftFile("calc.py", FIXED), DraftFile("test_calc.py", "from calc import add\n")]


def test_a_path_in_a_block_of_its_own_names_the_next_block() -> None:
    # The embedded model's usual shape, measured on the benchmark's tasks.
    reply = f"```\ncalc.py\n```\n```\n{FIXED}```\n```\ntest_calc.py\n```\nSome words.\n```\nx = 1\n```"
    assert parse_draft(reply, ["calc.py", "test_calc.py"]) == [DraftFile("calc.py", FIXED)]  # words in between


def test_a_path_fenced_alone_and_then_the_code_without_an_opening_fence() -> None:
    # The embedded model's reply, word for word, in three of four drafts of one exercise: the path inside a fence of
    # its own, then the code closed by a fence it never opened. It used to be read as nothing at all.
    reply = "```\nleap.py:\n```\ndef leap_year(year):\n    return year % 4 == 0\n```"
    assert parse_draft(reply, ["leap.py"]) == [DraftFile("leap.py", "def leap_year(year):\n    return year % 4 == 0\n")]
    other = "```\nnotes.txt:\n```\ndef f():\n    pass\n```"  # not a path it may write: not read as its code
    assert DraftFile("leap.py", "def f():\n    pass\n") not in parse_draft(other, ["leap.py"])
    for path in ("leap.py", "leap.py:"):  # a fenced path (with or without its colon), then a fenced block
        fenced = f"```\n{path}\n```\n```python\nX = 1\n```\n"
        assert parse_draft(fenced, ["leap.py", "other.py"]) == [DraftFile("leap.py", "X = 1\n")]


def test_a_lone_unnamed_block_is_the_steps_only_file_and_otherwise_ignored() -> None:
    reply = f"```python\n{FIXED}```"
    assert parse_draft(reply, ["calc.py"]) == [DraftFile("calc.py", FIXED)]
    assert parse_draft(reply, ["calc.py", "test_calc.py"]) == []
    assert parse_draft("I would change add to add.", ["calc.py"]) == []
    assert parse_draft("calc.py\n```python\ndef add(a, b):\n    return a +", ["calc.py"]) == []  # cut off: no end


def test_the_last_block_for_a_path_wins() -> None:
    reply = "calc.py\n```\nold\n```\ncalc.py\n```\nnew\n```"
    assert parse_draft(reply, ["calc.py"]) == [DraftFile("calc.py", "new\n")]


def test_only_short_text_files_inside_the_root_or_new_ones_are_drafted(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "big.py").write_text("#\n" * 100)
    (tmp_path / "blob.bin").write_bytes(b"\xff\xfe\x00\x01")
    (tmp_path / "pkg").mkdir()
    assert draftable_files(tmp_path, ["a.py", "new.py", "a.py"], max_file=50, max_total=100) == ["a.py", "new.py"]
    for unsuitable in (["a.py", "big.py"], ["pkg"], ["../a.py"], ["blob.bin"]):
        assert draftable_files(tmp_path, unsuitable, max_file=50, max_total=100) == []
    (tmp_path / "b.py").write_text("y = 2\n" * 5)
    assert draftable_files(tmp_path, ["a.py", "b.py"], max_file=50, max_total=31) == []  # together too long


def _project(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    return tmp_path


async def test_a_fresh_coder_drafts_the_files_whole_and_that_ends_its_first_round(tmp_path: Path) -> None:
    project = _project(tmp_path)
    test_file = (project / "test_calc.py").read_text()
    model = ScriptedModel([f"calc.py\n```python\n{FIXED}```\n\ntest_calc.py\n```python\n{test_file}```",
                           act("done", summary="checked again")])
    checkpoint = ListCheckpoint()
    coder = coder_for(project, model, settings(coder={"draft": True}), checkpoint=checkpoint)
    started = len(coder.messages)
    assert (await coder.run()).summary == "wrote calc.py whole (first draft)"
    assert (project / "calc.py").read_text() == FIXED and model.remaining == 1
    draft_request = model.requests[0]
    assert draft_request.response_schema is None  # plain text: code blocks, not a JSON action
    asked = draft_request.messages[-1].content
    assert "The overall task: fix the calculator\n\nYour goal (step s1): make add() add" in asked
    assert "def add(a, b):\n    return a - b" in asked and "def test_add" in asked  # the file and its test
    assert "(of: calc.py)" in asked
    (note,) = coder.messages[started:]  # one note with the files as they are now; the unchanged test file is not
    assert note.role == "user" and note.content == f"Your first draft rewrote calc.py whole. Their content now:\n\n" \
        f"calc.py:\n```\n{FIXED}```"
    assert checkpoint.saved == coder.messages  # checkpointed like the loop's own turns

    coder.revise_after_checks("pytest", "1 failed")
    assert (await coder.run()).summary == "checked again"  # feedback goes to the action loop, in this conversation
    assert model.requests[-1].response_schema is not None and model.requests[-1].messages[-2] == note


async def test_a_draft_without_a_block_changes_nothing_and_the_loop_starts_as_usual(tmp_path: Path) -> None:
    project = _project(tmp_path)
    model = ScriptedModel(["I think add should add.",
                           act("edit", path="calc.py", search="return a - b", replace="return a + b"),
                           act("done", summary="fixed")])
    coder = coder_for(project, model, settings(coder={"draft": True}))
    before = len(coder.messages)
    assert (await coder.run()).summary == "fixed"
    assert (project / "calc.py").read_text() == FIXED
    assert len(coder.messages) == before + 3  # the edit, its result, done: the draft left no trace


async def test_no_draft_for_a_resumed_conversation_native_tools_or_when_turned_off(tmp_path: Path) -> None:
    project = _project(tmp_path)
    fresh = coder_for(project, ScriptedModel([]), settings(coder={"draft": True}))
    resumed_model = ScriptedModel([act("done", summary="already fixed")])
    resumed = coder_for(project, resumed_model, settings(coder={"draft": True}),
                        checkpoint=ListCheckpoint(fresh.messages))
    assert (await resumed.run()).summary == "already fixed" and len(resumed_model.requests) == 1
    assert resumed_model.requests[0].response_schema is not None  # straight to actions
    for cfg in (settings(coder={"draft": True}, models={"tool_mode": "native"}), settings(coder={"draft": False})):
        model = ScriptedModel([act("done", summary="nothing to draft")])
        assert (await coder_for(project, model, cfg).run()).summary == "nothing to draft"


MODULE = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"


async def test_a_draft_that_drops_definitions_the_goal_does_not_name_is_asked_for_again(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "calc.py").write_text(MODULE)
    whole = MODULE.replace("return a - b", "return a + b", 1)
    lossy = f"calc.py\n```python\n{FIXED}\nprint(add(1, 2))\n```"  # not only definitions: not merged (pymerge)
    model = ScriptedModel([lossy, f"calc.py\n```python\n{whole}```"])
    coder = coder_for(project, model, settings(coder={"draft": True}))
    assert (await coder.run()).summary == "wrote calc.py whole (first draft)"
    assert (project / "calc.py").read_text() == whole
    assert model.requests[1].messages[-1].content.startswith(
        "Your reply drops parts that the goal does not ask to remove: calc.py lost sub.")

    (project / "calc.py").write_text(MODULE)
    stubborn = ScriptedModel([lossy] * 2 + [act("done", summary="by hand")])
    coder = coder_for(project, stubborn, settings(coder={"draft": True}))
    assert (await coder.run()).summary == "by hand"  # still dropping it: no draft; the action loop starts
    assert (project / "calc.py").read_text() == MODULE


async def test_a_draft_may_drop_what_the_goal_names_and_create_only_files_it_names(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "calc.py").write_text(MODULE)
    renamed = MODULE.replace("def sub", "def subtract")
    reply = (f"calc.py\n```python\n{renamed}```\nREADME.md\n```\n# calc\n```\n"
             "helpers.py\n```python\nX = 1\n```")
    model = ScriptedModel([reply])
    step = Step(id="s1", role="coder", goal="rename sub to subtract in calc.py, with constants in helpers.py",
                files=("calc.py", "README.md", "helpers.py"))
    coder = coder_for(project, model, settings(coder={"draft": True}), step=step)
    assert (await coder.run()).summary == "wrote calc.py, helpers.py whole (first draft)"
    assert (project / "calc.py").read_text() == renamed and len(model.requests) == 1  # `sub` is named: no re-ask
    assert not (project / "README.md").exists()  # a new file the goal does not name


def test_a_draft_writes_the_files_the_goal_names_or_else_all_of_the_steps() -> None:
    goal = "Your task: add peek() to the Stack class in stack.py"
    assert named_files(["stack.py", "test_stack.py", "README.md"], goal) == ["stack.py"]
    assert named_files(["pkg/stack.py", "test_stack.py"], goal) == ["pkg/stack.py"]  # named by its file name
    assert named_files(["stack.py", "test_stack.py"], "Your task: add peek() to the Stack class") == [
        "stack.py", "test_stack.py"]
    assert named_files(["mystack.py"], goal) == ["mystack.py"]  # "stack.py" inside another name is not a mention


async def test_a_draft_with_only_the_new_function_is_merged_into_the_module(tmp_path: Path) -> None:
    # Seen with the embedded model: asked for text.py whole, it wrote only slugify(), twice; shout() would be lost.
    project = _project(tmp_path)
    (project / "calc.py").write_text(MODULE)
    model = ScriptedModel(["calc.py\n```python\ndef mul(a, b):\n    return a * b\n```"])
    step = Step(id="s1", role="coder", goal="add mul(a, b) to calc.py", files=("calc.py",))
    coder = coder_for(project, model, settings(coder={"draft": True}), step=step)
    assert (await coder.run()).summary == "wrote calc.py whole (first draft)"
    assert (project / "calc.py").read_text() == MODULE + "\n\ndef mul(a, b):\n    return a * b\n"
    assert len(model.requests) == 1  # merged: nothing lost, no second ask


async def test_naming_a_definition_without_asking_to_remove_it_does_not_allow_dropping_it(tmp_path: Path) -> None:
    # Seen with the embedded model on "add double(x) (keep square)": the draft held double() alone.
    project = _project(tmp_path)
    (project / "calc.py").write_text(MODULE)
    model = ScriptedModel(["calc.py\n```python\ndef mul(a, b):\n    return a * b\n```"])
    step = Step(id="s1", role="coder", goal="add mul(a, b) to calc.py (keep add and sub)", files=("calc.py",))
    coder = coder_for(project, model, settings(coder={"draft": True}), step=step)
    await coder.run()
    assert (project / "calc.py").read_text() == MODULE + "\n\ndef mul(a, b):\n    return a * b\n"


async def test_a_removal_asked_for_elsewhere_in_the_goal_does_not_allow_dropping_what_it_names(tmp_path: Path) -> None:
    # Seen on an exercise: its text said an item "gets removed" in one place and named the exception class in another;
    # the draft without the class was kept and failed every test on import.
    project = _project(tmp_path)
    (project / "calc.py").write_text(MODULE)
    rewritten = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"  # sub left out
    model = ScriptedModel([f"calc.py\n```python\n{rewritten}```"])
    goal = "Add mul(a, b) to calc.py. The last result gets removed on clear().\n\nsub must raise on None."
    step = Step(id="s1", role="coder", goal=goal, files=("calc.py",))
    coder = coder_for(project, model, settings(coder={"draft": True}), step=step)
    await coder.run()
    text = (project / "calc.py").read_text()
    assert "def sub(a, b)" in text and "return a + b" in text and "def mul(a, b)" in text


async def test_a_draft_without_the_modules_docstring_keeps_it(tmp_path: Path) -> None:
    # Seen on the README's demo: the draft of bank.py validated every method and left out the module docstring.
    project = _project(tmp_path)
    (project / "calc.py").write_text('"""Calculator."""\n\n\n' + MODULE)
    validated = MODULE.replace("def sub(a, b):\n", "def sub(a, b):\n    assert a is not None\n")
    model = ScriptedModel([f"calc.py\n```python\n{validated}```"])
    coder = coder_for(project, model, settings(coder={"draft": True}))
    await coder.run()
    assert (project / "calc.py").read_text() == '"""Calculator."""\n\n\n' + validated
    assert len(model.requests) == 1  # merged by name: nothing to ask again
