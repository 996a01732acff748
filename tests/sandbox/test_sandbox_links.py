"""A workspace's links into a project under /tmp (``staging.include``) resolve inside the sandbox, read-only.

bubblewrap gives each command a private ``/tmp``; a project checked out under ``/tmp`` (``mktemp -d``, CI) then
vanished from view, and the staging's ``node_modules`` links dangled: ``npm test`` could not find its runner. The
test builds that layout on the real filesystem under ``/tmp`` and runs the real backends.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.core.contracts import SandboxPolicy
from policies.sandbox import SandboxRunner
from policies.sandbox.links import cut_off_link_dirs
from tests.sandbox.sandbox_support import require_backend

pytestmark = pytest.mark.sandbox


@pytest.fixture
def layout() -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory(dir="/tmp") as top:
        project, staging = Path(top, "project").resolve(), Path(top, "staging").resolve()
        (project / "node_modules" / "runner").mkdir(parents=True)
        (project / "node_modules" / "runner" / "cli.txt").write_text("runner here\n")
        (staging / "node_modules").mkdir(parents=True)
        (staging / "node_modules" / "runner").symlink_to(project / "node_modules" / "runner")
        yield project, staging


@pytest.mark.parametrize("backend", ["bwrap", "landlock"])
def test_links_into_a_project_under_tmp_resolve_read_only(layout: tuple[Path, Path], backend: str) -> None:
    require_backend(backend)
    project, staging = layout
    policy = SandboxPolicy(mode="workspace-write", workspace=staging)
    script = "cat node_modules/runner/cli.txt && echo x > node_modules/runner/new.txt; echo mine > own.txt"
    result = asyncio.run(SandboxRunner(backends=[backend]).run(["bash", "-c", script], policy=policy, cwd=staging,
                                                               env={"PATH": "/usr/bin:/bin"}, timeout_s=60))
    assert "runner here" in result.output, result.output
    assert not (project / "node_modules" / "runner" / "new.txt").exists(), "the linked project was writable"
    assert (staging / "own.txt").read_text() == "mine\n"


def test_only_the_folder_holding_the_targets_is_bound_and_never_a_hidden_one(layout: tuple[Path, Path]) -> None:
    project, staging = layout
    (project / "secrets").mkdir()
    (staging / "key").symlink_to(project / "secrets")
    dirs = cut_off_link_dirs(staging, covered=(Path("/tmp"),), hidden=(project / "secrets",))
    assert dirs == [project / "node_modules"]
    assert cut_off_link_dirs(staging, covered=(), hidden=()) == []  # nothing is cut off: nothing to bind


@pytest.mark.parametrize("backend", ["bwrap", "landlock"])
def test_a_program_under_tmp_that_the_command_names_runs(layout: tuple[Path, Path], backend: str) -> None:
    # A CI checkout under /tmp: its venv's python, named on PATH or in a variable, vanished under the private /tmp
    # (`bwrap: execvp /tmp/ci/.venv/bin/python: No such file or directory`).
    require_backend(backend)
    project, staging = layout
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "tool").write_text("#!/bin/sh\necho tool ran\n")
    (bin_dir / "tool").chmod(0o755)
    policy = SandboxPolicy(mode="workspace-write", workspace=staging, env_allow=("TOOL",))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "TOOL": str(bin_dir / "tool")}
    for script in ("tool", '"$TOOL"', f"{bin_dir / 'tool'} && touch {bin_dir / 'written'}"):
        result = asyncio.run(SandboxRunner(backends=[backend]).run(["bash", "-c", script], policy=policy, cwd=staging,
                                                                   env=env, timeout_s=60))
        assert "tool ran" in result.output, (script, result.output)
    assert not (bin_dir / "written").exists(), "a named path under /tmp was writable"


def test_referenced_entries_are_the_top_level_tmp_entries_named_and_never_inside_a_hidden_one(tmp_path: Path) -> None:
    from policies.sandbox.links import referenced_entries

    top = Path("/tmp") / tmp_path.relative_to("/tmp").parts[0]
    words = [f"PATH={tmp_path}/bin:/usr/bin", f"cd {tmp_path} && ls", "/usr/bin/env", "/tmp/does-not-exist-x/y"]
    assert referenced_entries(words, covered=(Path("/tmp"),), hidden=()) == [top]
    assert referenced_entries(words, covered=(Path("/tmp"),), hidden=(top,)) == []
