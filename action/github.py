"""What the Action's ``pr`` and ``review`` steps share: step outputs, the job summary, git, and GitHub through ``gh``.

These scripts run on the runner, in the workflow's checkout, with the workflow's token: they are the Action's glue,
not part of the ``orchestrate`` package (which runs git only through ``orchestrator.workspace.gitrun`` and never
talks to a remote). GitHub is reached only with ``gh api`` (the REST API), so a test can point ``gh`` at a local
server (``GH_HOST`` + ``GH_ENTERPRISE_TOKEN``, TLS trusted through ``SSL_CERT_FILE``) and check what was sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ActionError", "GitHubError", "gh_api", "git", "set_output", "summary", "gh_environment"]


class ActionError(Exception):
    """A step cannot do its job: printed as one ``::error`` line, exit 1."""


class GitHubError(ActionError):
    """``gh api`` failed; ``status`` is the HTTP status when gh said it (``(HTTP 422)``), else 0."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def set_output(name: str, value: str) -> None:
    """One step output (``GITHUB_OUTPUT``); values are single lines."""
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"{name}={' '.join(value.split())}\n")


def summary(text: str) -> None:
    """Append markdown to the job summary (``GITHUB_STEP_SUMMARY``), when there is one."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(text.rstrip("\n") + "\n")


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git in the workflow's checkout (its credentials, as actions/checkout left them); ActionError on failure."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise ActionError(f"git {args[0]} failed: {last}")
    return proc.stdout.strip()


def gh_environment() -> dict[str, str]:
    """The environment for ``gh``: the token as both ``GH_TOKEN`` and ``GH_ENTERPRISE_TOKEN``, and ``GH_HOST`` from
    ``GITHUB_SERVER_URL`` on GitHub Enterprise Server (github.com needs none)."""
    env = dict(os.environ)
    token = env.get("GITHUB_TOKEN", "")
    if token:
        env.setdefault("GH_TOKEN", token)
        env.setdefault("GH_ENTERPRISE_TOKEN", token)
    host = urlsplit(env.get("GITHUB_SERVER_URL", "")).netloc
    if host and host != "github.com" and "GH_HOST" not in env:
        env["GH_HOST"] = host
    env["GH_PROMPT_DISABLED"] = "1"
    env["NO_COLOR"] = "1"
    return env


def gh_api(method: str, path: str, payload: dict[str, Any]) -> Any:
    """``gh api --method METHOD PATH`` with ``payload`` as the JSON body; the decoded JSON reply."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as body:
        json.dump(payload, body)
    try:
        proc = subprocess.run(["gh", "api", "--method", method, path, "--input", body.name], capture_output=True,
                              text=True, check=False, env=gh_environment())
    except FileNotFoundError as exc:
        raise ActionError("gh is not installed on this runner (GitHub-hosted runners have it)") from exc
    finally:
        os.unlink(body.name)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        status = int(last.rsplit("(HTTP ", 1)[1].split(")")[0]) if "(HTTP " in last else 0
        raise GitHubError(f"gh api {method} {path} failed: {last}", status)
    return json.loads(proc.stdout or "null")


def main(run: Any) -> None:
    """Run a step's ``run()``; an :class:`ActionError` becomes one ``::error`` line and exit 1."""
    try:
        run()
    except ActionError as exc:
        print(f"::error title=orchestrate::{exc}", file=sys.stderr)
        sys.exit(1)
