"""Run in the demo folder after the README's first command: did the demo really succeed?

Checks that ``bank.py`` now rejects bad input (a negative deposit, withdrawal or transfer raises) and that the demo's
own unittest suite still passes. Exit 0 when both hold; otherwise print what failed and exit 1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _rejects(label: str, call: object) -> str | None:
    try:
        call()  # type: ignore[operator]
    except Exception:  # any exception is a refusal; which one is the model's choice
        return None
    return f"bank.py accepts {label}"


def main() -> int:
    sys.path.insert(0, str(Path.cwd()))
    import bank  # the demo's module, as edited by orchestrate

    problems = [
        _rejects("a negative deposit", lambda: bank.Account("a", 10).deposit(-5)),
        _rejects("a negative withdrawal", lambda: bank.Account("a", 10).withdraw(-5)),
        _rejects("a negative transfer", lambda: bank.transfer(bank.Account("a", 10), bank.Account("b"), -5)),
    ]
    tests = subprocess.run([sys.executable, "-m", "unittest", "discover", "-q"], capture_output=True, text=True,
                           check=False)
    if tests.returncode != 0:
        problems.append("the demo's tests fail:\n" + tests.stderr[-2000:])
    problems_found = [p for p in problems if p]
    for problem in problems_found:
        print(f"demo check: {problem}", file=sys.stderr)
    if not problems_found:
        print("demo check: bank.py rejects bad input and the demo's tests pass")
    return 1 if problems_found else 0


if __name__ == "__main__":
    sys.exit(main())
