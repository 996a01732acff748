"""A session's delivery: where its edits land and how they are committed (``apply.mode``), and failed steps' branches.

- ``worktree`` (the default): edits land in the user's tree, uncommitted (nothing here runs for applied steps).
- ``commit``: edits land in the user's tree and each applied step is committed on the current branch, holding only that
  step's change (:class:`orchestrator.workspace.delivery.Committer`).
- ``branch``: the session works in its own git worktree (under the session's directory) on a new branch
  ``orchestrate/<session>`` (or the name given), created from HEAD; each applied step is committed there. The user's
  checkout, index and branch are never touched.

The choice is stored in the session's meta (``options["delivery"]``) when the session starts, so a resume delivers the
same way whatever its config says. A commit follows its apply under the same tree lock; a crash between the two is
repaired on resume (:meth:`SessionDelivery.after_apply` finds an existing commit by its trailers, so nothing is
committed twice), and HEAD moved by the session's own commits is not drift (:meth:`SessionDelivery.reconcile`).

In every mode, a coder step that fails with work in its staging leaves that work on a branch
(:meth:`SessionDelivery.keep_failed`), which ``orchestrate sessions rm`` deletes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from orchestrator.core.events import GitInfo
from orchestrator.workspace import delivery as git_delivery

if TYPE_CHECKING:
    from orchestrator.core.plan import Step
    from orchestrator.settings.schema import ApplyConfig
    from orchestrator.store.sessions import SessionMeta, SessionStore
    from orchestrator.workspace.staging import Staging

__all__ = ["with_delivery", "delivery_mode", "delivered_branch", "SessionDelivery", "remove_delivery"]

Mode = Literal["worktree", "commit", "branch"]
_KEY = "delivery"


def with_delivery(options: Mapping[str, Any], config: ApplyConfig, cwd: Path, git: GitInfo) -> dict[str, Any]:
    """A new session's ``options`` with its delivery choice (``config``) recorded; :class:`InputError` (one line,
    before the session exists, the repository untouched) when ``cwd``'s repository cannot deliver that way."""
    if config.mode != "worktree":
        git_delivery.preflight(cwd, config.mode, config.branch)
    return {**options, _KEY: {"mode": config.mode, "branch": config.branch, "base": git.commit or ""}}


def delivery_mode(meta: SessionMeta) -> Mode:
    """How the session delivers its applied steps (``worktree`` for a session from before delivery modes)."""
    mode = (meta.options.get(_KEY) or {}).get("mode")
    return mode if mode in ("commit", "branch") else "worktree"


def delivered_branch(meta: SessionMeta) -> str | None:
    """The branch holding the session's commits (``branch`` mode), else None."""
    record = meta.options.get(_KEY) or {}
    if record.get("mode") != "branch":
        return None
    return str(record.get("branch") or f"orchestrate/{meta.id}")


class SessionDelivery:
    """The delivery ``session`` recorded when it started (``worktree`` for a session from before delivery modes). In
    ``branch`` mode its worktree is created (again, if it was deleted) here; HEAD moved by the session's own commits is
    reconciled (:meth:`reconcile`). ``tree``: where the session's cwd is when that is not the user's (its worktree)."""

    def __init__(self, session: SessionStore) -> None:
        self._session = session
        record: dict[str, Any] = dict(session.meta.options.get(_KEY) or {})
        self.mode: Mode = record.get("mode", "worktree")
        self.branch = delivered_branch(session.meta)
        self._user_git = git_delivery.repository_git(Path(session.meta.cwd))  # None: not a repository
        self.tree: Path | None = None
        self._committer: git_delivery.Committer | None = None
        if self.mode == "worktree" or self._user_git is None:
            return
        git, base = self._user_git, str(record.get("base") or "HEAD")  # HEAD when the session started
        if self.branch is not None:
            top = self._user_git.work_tree or Path(session.meta.cwd)
            worktree = session.stagings_dir.parent / "worktree"
            if not (worktree / ".git").exists():
                git_delivery.create_worktree(top, worktree, self.branch, base)
            self.tree = worktree / _relative(session.meta.cwd, top)
            git = git_delivery.repository_git(worktree) or git
        self._committer = git_delivery.Committer(git, session_id=session.id, base=base)
        self.reconcile()

    def reconcile(self) -> None:
        """HEAD moved by this session's own commits (a crash before the meta caught up) is not drift: record it."""
        recorded = self._session.meta.git.commit
        if self._committer is not None and recorded and self._committer.ours_since(recorded):
            self._record_head()

    def before_apply(self, step_id: str, diff: str, files: tuple[str, ...]) -> None:
        """``GitError`` (the step fails, nothing applied) when the change could not be committed on its own."""
        if self._committer is not None:
            self._committer.check(step_id, diff, files)

    def after_apply(self, step: Step, diff: str, files: tuple[str, ...]) -> None:
        """Commit the applied step (once, even when called again after a crash)."""
        if self._committer is not None and self._committer.commit(step.id, step.goal, diff, files) is not None:
            self._record_head()

    def _record_head(self) -> None:
        assert self._committer is not None
        self._session.update_meta(git=GitInfo(branch=self._committer.branch() or None, commit=self._committer.head()))

    def keep_failed(self, step: Step, staging: Staging) -> str | None:
        """Put a failed coder step's work on a branch in the user's repository; its name, or None (nothing to keep,
        not a repository, or git failed: the failure is then only not kept)."""
        if step.role != "coder" or staging.kind != "worktree" or self._user_git is None:
            return None
        try:
            diff = staging.diff()
            if not diff.strip():
                return None
            name = git_delivery.failed_branch_name(self._user_git, self._session.id, step.id)
            message = (f"failed step {step.id}: {' '.join(step.goal.split())[:60]}\n\n"
                       f"{git_delivery.SESSION_TRAILER}: {self._session.id}\n{git_delivery.STEP_TRAILER}: {step.id}\n")
            return git_delivery.keep_work(self._user_git, name, staging.base, diff, message)
        except Exception:  # keeping the work is a courtesy: the step's own failure is what must be reported
            return None


def remove_delivery(meta: SessionMeta, *, branches: bool) -> tuple[list[str], str]:
    """After ``sessions rm`` removed a session's directory: forget its worktree, delete its failed-step branches (and,
    with ``branches``, its ``branch`` mode branch). (branches deleted, the session branch kept or "")."""
    cwd = Path(meta.cwd)
    git = git_delivery.repository_git(cwd) if cwd.is_dir() else None
    if git is None:
        return [], ""
    git_delivery.prune_worktrees(git)
    own = delivered_branch(meta)
    deleted = git_delivery.remove_session_branches(git, meta.id, also=[own] if own and branches else [])
    return deleted, own if own and not branches else ""


def _relative(cwd: str, top: Path) -> Path:
    try:
        return Path(cwd).resolve().relative_to(top)
    except ValueError:
        return Path()

