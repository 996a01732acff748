"""Which rules files a run loads, and the gate built from them.

Order: the shipped ``config/default.rules``, ``$ORCHESTRATE_HOME/rules/*.rules``, then a *trusted* project's
``.orchestrate/rules/*.rules`` from the project root down to the working directory (each directory sorted by name).
The root's ``.orchestrate/`` is the user's (``orchestrate trust`` vouched for it, "always allow" writes there). A
nested ``.orchestrate/`` below the root is honoured only when git tracks its files unmodified (the user committed
them): an agent can create files anywhere in the workspace, and must not grant itself rules or config that way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.settings.config import nested_notice, project_chain

if TYPE_CHECKING:
    from orchestrator.core.contracts import CommittedFiles
    from orchestrator.settings.home import Home
    from orchestrator.settings.schema import Settings
    from policies.gate import Gate
    from policies.policy import Policy

__all__ = ["rule_files", "load_rules", "build_gate"]


def _project_rules(project_root: Path, cwd: Path, committed: CommittedFiles) -> tuple[list[Path], list[Path]]:
    """(project rules files to load, nested ones skipped because they are not committed as they are)."""
    chain = project_chain(project_root, cwd)
    own = sorted((chain[0] / ".orchestrate" / "rules").glob("*.rules"))
    nested = [p for d in chain[1:] for p in sorted((d / ".orchestrate" / "rules").glob("*.rules"))]
    if not nested:
        return own, []
    committed_now = committed(project_root, nested)
    return own + [p for p in nested if p in committed_now], [p for p in nested if p not in committed_now]


def rule_files(home: Home, cwd: Path, project_root: Path, *, trusted: bool,
               committed: CommittedFiles) -> tuple[list[Path], list[Path]]:
    """(files to load in order, project rules files not loaded: the project is not trusted, or a nested file is not
    committed). See the module docstring for the order."""
    from orchestrator.settings.home import resource_path

    files = [resource_path("default.rules"), *sorted(home.rules_dir.glob("*.rules"))]
    if not trusted:
        chain = project_chain(project_root, cwd)
        return files, [p for d in chain for p in sorted((d / ".orchestrate" / "rules").glob("*.rules"))]
    project, skipped = _project_rules(project_root, cwd, committed)
    return files + project, skipped


def load_rules(home: Home, cwd: Path, project_root: Path, *, trusted: bool,
               committed: CommittedFiles) -> tuple[Policy, list[Path], list[str]]:
    """Load the rules for a run: (policy, files loaded, notices for the user). Raises ``PolicyLoadError``."""
    from policies.rules import load_policy

    files, skipped = rule_files(home, cwd, project_root, trusted=trusted, committed=committed)
    notices = []
    if skipped and not trusted:
        notices.append(f"{project_root} is not trusted: its .orchestrate/rules were not loaded "
                       f"(run `orchestrate trust {project_root}`)")
    elif skipped:
        notices.append(nested_notice(skipped))
    return load_policy(files), files, notices


def build_gate(settings: Settings, *, home: Home, cwd: Path, project_root: Path, trusted: bool,
               committed: CommittedFiles) -> Gate:
    """The gate for a run in ``cwd``: rules loaded (a load error raises ``PolicyLoadError``), policy from settings."""
    from policies.gate import gate_for

    policy, files, notices = load_rules(home, cwd, project_root, trusted=trusted, committed=committed)
    return gate_for(policy, settings, notices=tuple(notices), rule_files=tuple(files))
