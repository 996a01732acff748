"""The plan: typed steps, their validation, and the dependency graph the scheduler walks.

This is the only module that imports networkx (lazily). A :class:`Plan` is what the planner returns; the engine
validates it (:func:`validate_plan`) and turns it into a DAG (:func:`build_dag`); the scheduler asks which steps are
ready (:func:`ready_steps`) and which steps a failure skips (:func:`descendants`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from orchestrator.core.errors import PlanInvalid

if TYPE_CHECKING:
    import networkx as nx
    from rich.tree import Tree

__all__ = [
    "StepRole",
    "STEP_ROLES",
    "StepStatus",
    "Step",
    "Plan",
    "PlanInvalid",
    "parse_plan",
    "validate_plan",
    "build_dag",
    "ready_steps",
    "descendants",
    "ancestors",
]

StepRole = Literal["coder", "reviewer", "validator"]
STEP_ROLES: tuple[str, ...] = get_args(StepRole)
StepStatus = Literal["pending", "running", "succeeded", "failed", "skipped"]


class Step(BaseModel):
    """One unit of work: a role, a goal, the files it expects to touch, and the steps it waits for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    role: StepRole
    goal: str
    files: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()


class Plan(BaseModel):
    """A validated-on-demand list of steps. Construction checks types only; :func:`validate_plan` checks the graph."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    summary: str = ""
    steps: tuple[Step, ...]

    def step(self, step_id: str) -> Step:
        """The step with ``step_id``; ``KeyError`` if there is none."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def __rich__(self) -> Tree:
        from rich.markup import escape
        from rich.tree import Tree

        tree = Tree(f"[bold]Plan[/]: {escape(self.summary)}" if self.summary else "[bold]Plan[/]")
        for step in self.steps:
            label = f"[bold cyan]{escape(step.id)}[/] [magenta]{step.role}[/] {escape(step.goal)}"
            if step.depends_on:
                label += f"  [dim]after {escape(', '.join(step.depends_on))}[/]"
            node = tree.add(label)
            for path in step.files:
                node.add(f"[dim]{escape(path)}[/]")
        return tree


def parse_plan(data: Any) -> Plan:
    """Validate raw data (a dict or JSON text) into a checked :class:`Plan`; any problem raises :class:`PlanInvalid`."""
    try:
        plan = Plan.model_validate_json(data) if isinstance(data, str | bytes) else Plan.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"])
        raise PlanInvalid(f"{where}: {err['msg']}" if where else err["msg"]) from None
    validate_plan(plan)
    return plan


def validate_plan(plan: Plan) -> None:
    """Raise :class:`PlanInvalid` if the plan is empty, has duplicate ids, unknown roles, unknown or self
    dependencies, or a cycle (the message names the cycle: ``a → b → a``)."""
    if not plan.steps:
        raise PlanInvalid("the plan has no steps")
    seen: set[str] = set()
    for step in plan.steps:
        if not step.id.strip():
            raise PlanInvalid("a step has an empty id")
        if step.id in seen:
            raise PlanInvalid(f"duplicate step id {step.id!r}")
        seen.add(step.id)
        if step.role not in STEP_ROLES:
            raise PlanInvalid(f"step {step.id!r} has unknown role {step.role!r} (roles: {', '.join(STEP_ROLES)})")
    for step in plan.steps:
        for dep in step.depends_on:
            if dep == step.id:
                raise PlanInvalid(f"step {step.id!r} depends on itself")
            if dep not in seen:
                raise PlanInvalid(f"step {step.id!r} depends on unknown step {dep!r}")
    cycle = _find_cycle(build_dag(plan))
    if cycle:
        raise PlanInvalid(f"the plan has a dependency cycle: {' → '.join([*cycle, cycle[0]])}")


def build_dag(plan: Plan) -> nx.DiGraph[str]:
    """The dependency graph: one node per step id (attribute ``step``), an edge ``dep → step`` per dependency.

    Dependencies naming unknown steps are not added (``validate_plan`` reports them).
    """
    import networkx as nx

    graph: nx.DiGraph[str] = nx.DiGraph()
    for step in plan.steps:
        graph.add_node(step.id, step=step)
    known = {step.id for step in plan.steps}
    for step in plan.steps:
        graph.add_edges_from((dep, step.id) for dep in step.depends_on if dep in known)
    return graph


def _find_cycle(graph: nx.DiGraph[str]) -> list[str]:
    import networkx as nx

    try:
        edges = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return []
    return [str(edge[0]) for edge in edges]


def ready_steps(graph: nx.DiGraph[str], states: Mapping[str, StepStatus]) -> list[Step]:
    """Pending steps whose every dependency succeeded, in plan order."""
    ready: list[Step] = []
    for node in graph.nodes:
        if states.get(node, "pending") != "pending":
            continue
        if all(states.get(dep) == "succeeded" for dep in graph.predecessors(node)):
            ready.append(graph.nodes[node]["step"])
    return ready


def descendants(graph: nx.DiGraph[str], step_ids: str | Iterable[str]) -> set[str]:
    """Every step that (transitively) depends on ``step_ids``: what a failure of those steps skips."""
    import networkx as nx

    roots = [step_ids] if isinstance(step_ids, str) else list(step_ids)
    found: set[str] = set()
    for root in roots:
        found |= nx.descendants(graph, root)
    return found - set(roots)


def ancestors(graph: nx.DiGraph[str], step_id: str) -> set[str]:
    """Every step ``step_id`` (transitively) depends on."""
    import networkx as nx

    return set(nx.ancestors(graph, step_id))
