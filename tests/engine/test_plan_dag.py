"""Plan validation, the DAG, readiness and skip propagation."""

from __future__ import annotations

import pytest
from rich.console import Console

from orchestrator.core.plan import (
    Plan,
    PlanInvalid,
    Step,
    build_dag,
    descendants,
    parse_plan,
    ready_steps,
    validate_plan,
)


def _plan(*steps: tuple[str, tuple[str, ...]]) -> Plan:
    return Plan(steps=tuple(Step(id=i, role="coder", goal=f"do {i}", depends_on=deps) for i, deps in steps))


DIAMOND = _plan(("a", ()), ("b", ("a",)), ("c", ("a",)), ("d", ("b", "c")))


def test_diamond_is_valid_and_ready_steps_follow_dependencies() -> None:
    validate_plan(DIAMOND)
    dag = build_dag(DIAMOND)
    assert [s.id for s in ready_steps(dag, {})] == ["a"]
    assert [s.id for s in ready_steps(dag, {"a": "running"})] == []
    assert [s.id for s in ready_steps(dag, {"a": "succeeded"})] == ["b", "c"]
    assert [s.id for s in ready_steps(dag, {"a": "succeeded", "b": "succeeded", "c": "running"})] == []
    assert [s.id for s in ready_steps(dag, {"a": "succeeded", "b": "succeeded", "c": "succeeded"})] == ["d"]
    # a failed dependency never makes a step ready
    assert [s.id for s in ready_steps(dag, {"a": "succeeded", "b": "failed", "c": "succeeded"})] == []


def test_descendants_are_what_a_failure_skips() -> None:
    dag = build_dag(DIAMOND)
    assert descendants(dag, "a") == {"b", "c", "d"}
    assert descendants(dag, "b") == {"d"}
    assert descendants(dag, ["b", "c"]) == {"d"}
    assert descendants(dag, "d") == set()


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (Plan(steps=()), "no steps"),
        (_plan(("a", ()), ("a", ())), "duplicate step id 'a'"),
        (_plan(("a", ("zz",))), "unknown step 'zz'"),
        (_plan(("a", ("a",))), "depends on itself"),
        (_plan(("a", ("c",)), ("b", ("a",)), ("c", ("b",))), "cycle: a → b → c → a"),
    ],
)
def test_invalid_plans_are_rejected_with_a_clear_message(plan: Plan, message: str) -> None:
    with pytest.raises(PlanInvalid, match=message):
        validate_plan(plan)


def test_parse_plan_turns_type_errors_into_plan_invalid() -> None:
    with pytest.raises(PlanInvalid, match=r"steps\.0\.role"):
        parse_plan({"steps": [{"id": "a", "role": "painter", "goal": "x"}]})
    with pytest.raises(PlanInvalid, match="cycle"):
        parse_plan('{"steps": [{"id": "a", "role": "coder", "goal": "x", "depends_on": ["b"]},'
                   ' {"id": "b", "role": "coder", "goal": "y", "depends_on": ["a"]}]}')
    plan = parse_plan({"summary": "s", "steps": [{"id": "a", "role": "validator", "goal": "check"}]})
    assert plan.step("a").role == "validator"


def test_plan_renders_itself_as_a_tree() -> None:
    console = Console(width=100, record=True, color_system=None)
    plan = DIAMOND.model_copy(update={"summary": "diamond"})
    console.print(plan)
    text = console.export_text()
    assert "Plan: diamond" in text
    assert "d coder do d  after b, c" in text
