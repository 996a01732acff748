"""The failing tests' names read from real runner output (pytest, unittest, vitest/jest), and their source found in
the task's test files (agents.failing): what the search's feedback shows besides the runner's report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agents.failing import failing_tests, sources_of

TESTS = '''import unittest

from octal import parse


class OctalTest(unittest.TestCase):
    def test_one(self):
        self.assertEqual(parse("1"), 1)

    def test_8_is_invalid(self):
        with self.assertRaises(ValueError):
            parse("8")

    @unittest.skipIf(False, "never")
    def test_9_is_invalid(self):
        with self.assertRaises(ValueError):
            parse("9")
'''
CODE = "def parse(digits):\n    return int(digits)\n"


def _run(tmp_path: Path, *argv: str) -> str:
    (tmp_path / "octal.py").write_text(CODE)
    (tmp_path / "octal_test.py").write_text(TESTS)
    done = subprocess.run([sys.executable, *argv], cwd=tmp_path, capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def test_names_and_sources_from_a_real_pytest_run(tmp_path: Path) -> None:
    output = _run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "octal_test.py")
    # The runner's report stops at the with-line: the argument that must be refused is not in it.
    assert 'parse("8")' not in output
    names = failing_tests(output)
    assert sorted(names) == ["test_8_is_invalid", "test_9_is_invalid"]
    shown = sources_of({"octal_test.py": TESTS}, names, limit=2000)
    assert ('octal_test.py:10\ndef test_8_is_invalid(self):\n    with self.assertRaises(ValueError):\n'
            '        parse("8")') in shown
    assert "octal_test.py:14\n@unittest.skipIf" in shown  # decorators belong to the test
    assert "test_one" not in shown
    # a test the runner's report shows whole already is not repeated
    assert sources_of({"octal_test.py": TESTS}, ["test_one"], limit=500, shown=TESTS) == ""


def test_names_from_a_real_unittest_run(tmp_path: Path) -> None:
    output = _run(tmp_path, "-m", "unittest", "octal_test")
    assert sorted(failing_tests(output)) == ["test_8_is_invalid", "test_9_is_invalid"]


def test_pytest_parameters_and_errors_are_read() -> None:
    output = ("FAILED tests/test_a.py::test_add[1-2] - assert 3 == 4\n"
              "FAILED tests/test_a.py::test_add[2-2] - assert 4 == 5\n"
              "ERROR tests/test_b.py::TestB::test_setup - RuntimeError\n")
    assert failing_tests(output) == ["test_add", "test_setup"]


def test_vitest_and_jest_titles_and_their_source() -> None:
    vitest = (" FAIL  src/stats.test.ts > stats > average of nothing is 0\n"
              "AssertionError: expected NaN to be +0\n")
    jest = "  \u25cf stats \u203a average of nothing is 0\n\n    expect(received).toBe(expected)\n"
    assert failing_tests(vitest) == ["average of nothing is 0"]
    assert failing_tests(jest) == ["average of nothing is 0"]
    spec = ("import { average } from './stats';\n\ndescribe('stats', () => {\n"
            "  it('average of two', () => {\n    expect(average([1, 3])).toBe(2);\n  });\n"
            "  it('average of nothing is 0', () => {\n    expect(average([])).toBe(0);\n  });\n});\n")
    shown = sources_of({"src/stats.test.ts": spec}, ["average of nothing is 0"], limit=500)
    assert shown == ("src/stats.test.ts:7\nit('average of nothing is 0', () => {\n"
                     "  expect(average([])).toBe(0);\n});")


def test_sources_stay_within_the_limit_and_count_what_is_left_out() -> None:
    shown = sources_of({"octal_test.py": TESTS}, ["test_8_is_invalid", "test_9_is_invalid"], limit=120)
    assert shown.count("def test_") == 1 and shown.endswith("(1 more failing tests not shown)")
    assert sources_of({"octal_test.py": TESTS}, ["test_gone"], limit=500) == ""
    assert sources_of({"broken_test.py": "def test_x(:\n"}, ["test_x"], limit=500) == ""
