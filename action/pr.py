"""The Action's ``mode: pr`` step, after the run: push the session's branch to ``origin`` and open a pull request.

Reads ``$RUNNER_TEMP/orchestrate-result.json`` (the result step's: status, session_id, files, branch). The branch is
the one the run delivered to (``orchestrate exec --branch``: ``session.completed`` names it); a run that applied its
changes to the checkout instead gets them committed here on a new branch ``orchestrate/<session>``, only the files
its ``edit.applied`` events name. Then ``git push origin BRANCH`` (the checkout's credentials) and ``POST
repos/{GITHUB_REPOSITORY}/pulls`` through ``gh api``: title from the task, body the job summary
(``orchestrate-summary.md``), base ``$BASE`` (default: the branch that was checked out, else the repository's default
branch). Outputs ``pr-url`` and ``branch`` (both empty when the run changed nothing: no pull request then).

Needs ``permissions: contents: write`` (push) and ``pull-requests: write`` (open the pull request).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from github import ActionError, gh_api, git, main, set_output, summary

BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


def _title(task: str) -> str:
    line = " ".join(task.split()) or "changes"
    return f"orchestrate: {line[:60]}{'…' if len(line) > 60 else ''}"


def _commit_applied(branch: str, files: list[str], task: str, session: str) -> bool:
    """Commit the run's applied ``files`` on a new ``branch`` from HEAD; False when they hold no change."""
    if not files or not git("status", "--porcelain", "--", *files):
        return False
    git("switch", "--quiet", "--create", branch)
    git("add", "--all", "--", *files)
    message = f"{_title(task)}\n\n{task.strip()}\n\nOrchestrate-Session: {session}\n"
    _commit(message)
    return True


def _commit(message: str) -> None:
    """Commit the index as the Actions bot (the runner has no git identity), the message through stdin."""
    proc = subprocess.run(["git", "-c", f"user.name={BOT[0]}", "-c", f"user.email={BOT[1]}", "commit", "--quiet",
                           "--no-verify", "--file", "-"], input=message, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ActionError(f"git commit failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")


def _base() -> str:
    base = os.environ.get("BASE", "").strip()
    if base:
        return base
    current = git("rev-parse", "--abbrev-ref", "HEAD")
    if current and current != "HEAD":
        return current
    default = os.environ.get("DEFAULT_BRANCH", "").strip()
    if not default:
        raise ActionError("no base branch for the pull request: set the `base` input")
    return default


def run() -> None:
    temp = Path(os.environ["RUNNER_TEMP"])
    result: dict[str, Any] = json.loads((temp / "orchestrate-result.json").read_text(encoding="utf-8"))
    session, task = result.get("session_id", ""), os.environ.get("TASK", "")
    if result.get("status") != "succeeded" or not session:
        raise ActionError(f"the run did not succeed (status {result.get('status')}): no pull request")
    base = _base()
    branch = result.get("branch") or ""
    if not branch:
        branch = f"orchestrate/{session}"
        if not _commit_applied(branch, list(result.get("files", [])), task, session):
            print("orchestrate changed nothing: no pull request")
            set_output("pr-url", "")
            set_output("branch", "")
            return
    git("push", "--quiet", "origin", f"refs/heads/{branch}:refs/heads/{branch}")
    repository = os.environ["GITHUB_REPOSITORY"]
    body = (temp / "orchestrate-summary.md").read_text(encoding="utf-8")
    pull = gh_api("POST", f"repos/{repository}/pulls",
                  {"title": _title(task), "head": branch, "base": base, "body": body or task})
    url = str(pull.get("html_url", "")) if isinstance(pull, dict) else ""
    set_output("pr-url", url)
    set_output("branch", branch)
    summary(f"**Pull request:** {url} (`{branch}` → `{base}`)")
    print(f"opened {url}")


if __name__ == "__main__":
    main(run)
