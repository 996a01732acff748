"""The Action's ``mode: review`` step: ``orchestrate review --base $BASE --json`` on the pull request's checkout, and
the findings posted on the pull request as one review.

The review goes to ``POST repos/{GITHUB_REPOSITORY}/pulls/{PR_NUMBER}/reviews`` through ``gh api``: a finding with a
file and a line becomes a line comment (``side: RIGHT``, on ``HEAD_SHA``), the others go into the body with the
verdict. The event is ``REQUEST_CHANGES`` when the reviewer requests changes, else ``COMMENT`` (never ``APPROVE``: a
model's approval is not a maintainer's). GitHub refuses line comments outside the pull request's diff, and requests
for changes on a bot's own pull request (HTTP 422): the review is then posted again as one ``COMMENT`` with every
finding in its body, so the findings are never lost. Outputs ``verdict`` (approve, request_changes or error) and
``exit-code`` (orchestrate review's: 0, 1, or 2 when no review could be made; nothing is posted then).

Needs ``permissions: pull-requests: write`` (and ``contents: read`` to check out).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from github import ActionError, GitHubError, gh_api, main, set_output, summary

MARK = {"error": "**error**", "warning": "**warning**", "info": "info"}


def _review_args() -> list[str]:
    base = os.environ.get("BASE", "").strip()
    if not base:
        raise ActionError("no base to review against: run on a pull_request event or set the `base` input")
    args = [os.environ["ORCHESTRATE"], "review", "--base", base, "--json"]
    for option, name in (("-m", "MODEL"), ("-p", "PROFILE")):
        if os.environ.get(name):
            args += [option, os.environ[name]]
    return args + shlex.split(os.environ.get("EXTRA_ARGS", ""))


def _line(finding: dict[str, Any]) -> str:
    where = f"`{finding['file']}:{finding['line']}`" if finding.get("file") and finding.get("line") else (
        f"`{finding['file']}`" if finding.get("file") else "the change")
    return f"- {MARK.get(finding.get('severity', ''), finding.get('severity', ''))} {where}: {finding['comment']}"


def _body(report: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    verdict = "requests changes" if report["verdict"] == "request_changes" else "has no blocking finding"
    lines = [f"**orchestrate review** ({report.get('model', '')}) {verdict}: {len(report['findings'])} finding(s) "
             f"in {len(report['files'])} file(s)."]
    lines += [_line(f) for f in findings]
    lines += [f"- not reviewed in full: `{item['file']}` ({item['reason']})" for item in report.get("left_out", [])]
    return "\n".join(lines)


def post(report: dict[str, Any]) -> str:
    """Post ``report`` on the pull request; returns the review's URL."""
    path = f"repos/{os.environ['GITHUB_REPOSITORY']}/pulls/{os.environ['PR_NUMBER']}/reviews"
    event = "REQUEST_CHANGES" if report["verdict"] == "request_changes" else "COMMENT"
    placed = [f for f in report["findings"] if f.get("file") and f.get("line")]
    loose = [f for f in report["findings"] if f not in placed]
    payload: dict[str, Any] = {"commit_id": os.environ.get("HEAD_SHA") or None, "event": event,
                               "body": _body(report, loose),
                               "comments": [{"path": f["file"], "line": f["line"], "side": "RIGHT",
                                             "body": _line(f)[2:]} for f in placed]}
    payload = {key: value for key, value in payload.items() if value is not None}
    try:
        reply = gh_api("POST", path, payload)
    except GitHubError as exc:
        if exc.status != 422:
            raise
        print(f"::warning title=orchestrate::{exc}; posting the findings as one comment instead")
        reply = gh_api("POST", path, {**payload, "event": "COMMENT", "comments": [],
                                      "body": _body(report, report["findings"])})
    return str(reply.get("html_url", "")) if isinstance(reply, dict) else ""


def run() -> None:
    proc = subprocess.run(_review_args(), capture_output=True, text=True, check=False)
    sys.stderr.write(proc.stderr)
    set_output("exit-code", str(proc.returncode))
    try:
        report = json.loads(proc.stdout) if proc.returncode in (0, 1) else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        reason = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        set_output("verdict", "error")
        summary(f"## orchestrate review\n\nNo review: {reason}")
        print(f"::error title=orchestrate review::{reason}")
        return
    set_output("verdict", report["verdict"])
    url = post(report)
    summary("## orchestrate review\n\n" + _body(report, report["findings"]) + (f"\n\nPosted: {url}" if url else ""))
    print(f"posted the review: {url or '(no URL returned)'}")


if __name__ == "__main__":
    main(run)
