"""Which rules files a run loads, and the gate built from them.

Order: the shipped ``config/default.rules``, ``$ORCHESTRATE_HOME/rules/*.rules``, then a *trusted* project's
``.orchestrate/rules/*.rules`` from the project root down to the working directory (each directory sorted by name).
The root's ``.orchestrate/`` is the user's (``orchestrate trust`` vouched for it, "always allow" writes there). A
nested ``.orchestrate/`` below the root is honoured only when git tracks its files unmodified (the user committed
them): an agent can create files anywhere in the workspace, and must not grant itself rules or config that way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.settings.home import Home
    from orchestrator.settings.schema import Settings
    from policies.gate import Gate
    from policies.policy import Policy

__all__ = ["rule_files", "load_rules", "build_gate", "project_chain", "committed_files", "nested_notice"]


def project_chain(project_root: Path, cwd: Path) -> list[Path]:
    """The directories from ``project_root`` down to ``cwd`` (just ``[cwd]`` when cwd is outside the root)."""
    if cwd != project_root and project_root not in cwd.parents:
        return [cwd]
    rel = cwd.relative_to(project_root).parts
    return [project_root.joinpath(*rel[:i]) for i in range(len(rel) + 1)]


def committed_files(root: Path, files: Sequence[Path]) -> set[Path]:
    """Those of ``files`` (inside the git work tree holding ``root``) that git tracks with no change from ``HEAD``,
    staged or not. Runs git through :mod:`orchestrator.workspace.gitrun` (nothing the repository configures runs). Fails
    closed: without git, outside a repository or on any git error, none are."""
    from orchestrator.workspace.gitrun import Git, GitError, discover

    if not files:
        return set()
    try:
        repo = discover(root)
        if repo is None:
            return set()
        git = Git(repo.git_dir, repo.top)
        resolved = [f.resolve() for f in files]
        rels = [str(f.relative_to(repo.top)) for f in resolved]
        tracked = git.run(["ls-files", "-z", "--", *rels], cwd=repo.top).stdout
        changed = git.run(["diff", "--name-only", "-z", "HEAD", "--", *rels], cwd=repo.top).stdout
    except (GitError, ValueError, OSError):
        return set()
    clean = set(os.fsdecode(tracked).split("\0")) - set(os.fsdecode(changed).split("\0"))
    return {f for f, rel in zip(files, rels, strict=True) if rel in clean}


def nested_notice(skipped: Sequence[Path]) -> str:
    """The one-line notice for nested ``.orchestrate`` files that were not loaded."""
    shown = ", ".join(str(p) for p in skipped[:3]) + (f" and {len(skipped) - 3} more" if len(skipped) > 3 else "")
    return (f"skipped {shown}: a .orchestrate/ below the project root is loaded only when git tracks it unmodified "
            "(commit it to use it)")


def _project_rules(project_root: Path, cwd: Path) -> tuple[list[Path], list[Path]]:
    """(project rules files to load, nested ones skipped because they are not committed as they are)."""
    chain = project_chain(project_root, cwd)
    own = sorted((chain[0] / ".orchestrate" / "rules").glob("*.rules"))
    nested = [p for d in chain[1:] for p in sorted((d / ".orchestrate" / "rules").glob("*.rules"))]
    if not nested:
        return own, []
    committed = committed_files(project_root, nested)
    return own + [p for p in nested if p in committed], [p for p in nested if p not in committed]


def rule_files(home: Home, cwd: Path, project_root: Path, *, trusted: bool) -> tuple[list[Path], list[Path]]:
    """(files to load in order, project rules files not loaded: the project is not trusted, or a nested file is not
    committed). See the module docstring for the order."""
    from orchestrator.settings.home import resource_path

    files = [resource_path("default.rules"), *sorted(home.rules_dir.glob("*.rules"))]
    if not trusted:
        chain = project_chain(project_root, cwd)
        return files, [p for d in chain for p in sorted((d / ".orchestrate" / "rules").glob("*.rules"))]
    project, skipped = _project_rules(project_root, cwd)
    return files + project, skipped


def load_rules(home: Home, cwd: Path, project_root: Path, *, trusted: bool) -> tuple[Policy, list[Path], list[str]]:
    """Load the rules for a run: (policy, files loaded, notices for the user). Raises ``PolicyLoadError``."""
    from policies.rules import load_policy

    files, skipped = rule_files(home, cwd, project_root, trusted=trusted)
    notices = []
    if skipped and not trusted:
        notices.append(f"{project_root} is not trusted: its .orchestrate/rules were not loaded "
                       f"(run `orchestrate trust {project_root}`)")
    elif skipped:
        notices.append(nested_notice(skipped))
    return load_policy(files), files, notices


def build_gate(settings: Settings, *, home: Home, cwd: Path, project_root: Path, trusted: bool) -> Gate:
    """The gate for a run in ``cwd``: rules loaded (a load error raises ``PolicyLoadError``), policy from settings."""
    from policies.gate import gate_for

    policy, files, notices = load_rules(home, cwd, project_root, trusted=trusted)
    return gate_for(policy, settings, notices=tuple(notices), rule_files=tuple(files))
