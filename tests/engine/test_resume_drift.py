"""Resume checks for drift: HEAD and the files the session's applied edits touched, compared with what it recorded.

An interrupted session (step ``a`` applied its edit to bank.py, step ``b`` was in flight) is changed outside the
session in different ways, then resumed: it refuses (exit-2 InputError naming exactly what changed) unless forced or
confirmed, and asks nothing when the repository is as the session left it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio
import pytest

from orchestrator.api import Orchestrator
from orchestrator.core.errors import InputError
from orchestrator.core.events import ListSink
from orchestrator.core.plan import Step
from orchestrator.engine.resume import Drift
from orchestrator.settings.home import Home
from orchestrator.store.sessions import Store
from orchestrator.workspace.staging import Staging
from tests.engine.test_orchestrator_flow import EditingSteps, _orchestrator, _plan, replace

pytestmark = pytest.mark.anyio

PLAN = _plan(("a", ()), ("b", ("a",)))


async def _interrupted(repo: Path, home: Path) -> str:
    """A session whose step ``a`` applied ``return abs(x)`` to bank.py and whose step ``b`` was interrupted."""
    in_b = anyio.Event()

    async def hang_in_b(step: Step, staging: Staging) -> None:
        if step.id == "b":
            in_b.set()
            await anyio.sleep_forever()

    orch = _orchestrator(repo, home, PLAN, EditingSteps({"a": [replace("return x\n", "return abs(x)\n")]},
                                                        on_start=hang_in_b), ListSink())
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(orch.run, "t")
            await in_b.wait()
            scope.cancel()
    await orch.aclose()
    assert orch.session_id is not None and "abs(x)" in (repo / "bank.py").read_text()
    return orch.session_id


def _resumer(repo: Path, home: Path) -> tuple[Orchestrator, EditingSteps]:
    steps = EditingSteps({})
    return _orchestrator(repo, home, PLAN, steps, ListSink()), steps


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


async def test_an_unchanged_repository_resumes_without_asking(bank_repo: Path, orchestrate_home: Path) -> None:
    session_id = await _interrupted(bank_repo, orchestrate_home)
    asked: list[Drift] = []

    def ask(drift: Drift) -> bool:
        asked.append(drift)
        return True

    orch, steps = _resumer(bank_repo, orchestrate_home)
    result = await orch.resume(session_id, confirm_drift=ask)
    await orch.aclose()
    assert result.status == "succeeded" and steps.calls == ["b"] and asked == []


async def test_a_file_edited_outside_the_session_is_named_and_refused(bank_repo: Path, orchestrate_home: Path) -> None:
    session_id = await _interrupted(bank_repo, orchestrate_home)
    (bank_repo / "bank.py").write_text((bank_repo / "bank.py").read_text() + "# mine\n")
    orch, steps = _resumer(bank_repo, orchestrate_home)
    with pytest.raises(InputError) as refused:
        await orch.resume(session_id)
    await orch.aclose()
    assert refused.value.exit_code == 2 and "file bank.py modified" in refused.value.message
    assert "HEAD" not in refused.value.message and steps.calls == []
    store = Store(Home(orchestrate_home))
    assert store.list_sessions()[0].effective_status == "interrupted"  # still resumable
    store.close()
    # declined at the prompt: still refused; confirmed: continues, and the next resume asks nothing
    orch, steps = _resumer(bank_repo, orchestrate_home)
    with pytest.raises(InputError):
        await orch.resume(session_id, confirm_drift=lambda d: False)
    await orch.aclose()
    seen: list[str] = []

    def ask(drift: Drift) -> bool:
        seen.append(drift.describe())
        return True

    orch, steps = _resumer(bank_repo, orchestrate_home)
    result = await orch.resume(session_id, confirm_drift=ask)
    await orch.aclose()
    assert seen == ["file bank.py modified"] and result.status == "succeeded" and steps.calls == ["b"]
    assert (bank_repo / "bank.py").read_text().endswith("# mine\n")


async def test_a_moved_head_is_named_and_force_continues(bank_repo: Path, orchestrate_home: Path) -> None:
    session_id = await _interrupted(bank_repo, orchestrate_home)
    before = _git(bank_repo, "rev-parse", "HEAD")
    (bank_repo / "notes.txt").write_text("n\n")
    _git(bank_repo, "add", "notes.txt")
    _git(bank_repo, "commit", "-qm", "notes")
    after = _git(bank_repo, "rev-parse", "HEAD")
    orch, steps = _resumer(bank_repo, orchestrate_home)
    with pytest.raises(InputError) as refused:
        await orch.resume(session_id)
    await orch.aclose()
    assert f"HEAD {before[:12]} → {after[:12]}" in refused.value.message
    assert "bank.py" not in refused.value.message  # the session's own edit is not drift
    orch, steps = _resumer(bank_repo, orchestrate_home)
    result = await orch.resume(session_id, force=True)
    await orch.aclose()
    assert result.status == "succeeded" and steps.calls == ["b"]


async def test_drift_lists_head_and_every_modified_file(bank_repo: Path, orchestrate_home: Path) -> None:
    drift = Drift(head=("a" * 40, "b" * 40), modified=("x.py", "y.py"))
    assert drift.describe() == f"HEAD {'a' * 12} → {'b' * 12}; files x.py, y.py modified"
