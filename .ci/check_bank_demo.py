"""Run in the demo folder after the README's first command: did the demo really succeed?

"Add input validation" leaves the model a choice (types, signs, overdrafts), so the check asks for what any
validation must show: ``bank.py`` now rejects bad input that the shipped module accepted (a negative deposit or
withdrawal, an overdraft, a negative transfer, an owner that is not a name), and the demo's own unittest suite still
passes. Exit 0 when both hold; otherwise print what failed and exit 1.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def _rejects(call: Callable[[], object]) -> bool:
    try:
        call()
    except Exception:  # any exception is a refusal; which one is the model's choice
        return True
    return False


def main() -> int:
    sys.path.insert(0, str(Path.cwd()))
    import bank  # the demo's module, as edited by orchestrate

    # Each of these ran without complaint before the demo (examples/bank/bank.py as shipped).
    accepted_before = {
        "a negative deposit": lambda: bank.Account("a", 10).deposit(-5),
        "a negative withdrawal": lambda: bank.Account("a", 10).withdraw(-5),
        "an overdraft": lambda: bank.Account("a", 10).withdraw(1000),
        "a negative transfer": lambda: bank.transfer(bank.Account("a", 10), bank.Account("b"), -5),
        "an owner that is not a name": lambda: bank.Account(None, 10),
    }
    rejected = [label for label, call in accepted_before.items() if _rejects(call)]
    problems = [] if rejected else ["bank.py still accepts every bad input the shipped module accepted"]
    tests = subprocess.run([sys.executable, "-m", "unittest", "discover", "-q"], capture_output=True, text=True,
                           check=False)
    if tests.returncode != 0:
        problems.append("the demo's tests fail:\n" + tests.stderr[-2000:])
    for problem in problems:
        print(f"demo check: {problem}", file=sys.stderr)
    if not problems:
        print(f"demo check: bank.py now rejects {', '.join(rejected)}; the demo's tests pass")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
