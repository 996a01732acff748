"""Text captures of real interactive runs for the README: ``python scripts/screens.py [--out DIR] [--columns N]``.

Each run is a real ``orchestrate`` on a pseudo-terminal with a fresh home, a fresh git repository and scripted models
(nothing leaves the machine), its output rendered by pyte into the screen a person sees (``tests/terminal/pty_screen``).
Writes into ``--out`` (default ``docs/screens``):

* ``approval.txt``: a command approval (always allow, saved in the project's rules) and the diff question, the
  questions and the typed answers as they stay on the screen, then the end summary;
* ``parallel-live.txt``: one step's diff question open (an answer typed), the live table moving under it while the
  other step is still drafting;
* ``parallel.txt``: the same run to its end: the diff question of one step, the other step's work printed below the
  answer, the summary.

Run it from the repository root after a change to the terminal layer, and paste the files into the README.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.testing import command_step_replies, scripted_role_args  # noqa: E402 (the repository root goes on the path first)
from tests.terminal.pty_screen import PtyScreen  # noqa: E402 (the repository root goes on the path first)

APPROVE = {"checklist": [{"requirement": "make made.txt", "done": True}], "comments": [], "verdict": "approve"}
_SESSION = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")
_TMP = re.compile(r"/tmp/[^\s/]+/")
_COMMIT = re.compile(r"main @ [0-9a-f]{7}")


def _repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "README.md").write_text("demo\n")
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=demo", "-c", "user.email=demo@example.com", "commit", "-qm", "init"]):
        subprocess.run(["git", *argv], cwd=path, check=True)
    return path


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATE_HOME": str(home), **extra}


def _scripted(tmp: Path) -> list[str]:
    """The approval run's models: plan one step, run ``touch made.txt`` (asked for), done; the reviewer approves."""
    replies: dict[str, list[str]] = {
        **command_step_replies("touch made.txt", "made.txt"),
        "validator": [json.dumps(APPROVE)],  # not called (no checks): named so the header lists no fallback model
    }
    return scripted_role_args(tmp, replies)


def _clean(text: str) -> str:
    """Stable captures: the session id, commit and temporary directories are replaced by fixed ones (a boxed line
    keeps its right border where it was)."""
    lines = []
    for line in text.splitlines():
        new = _COMMIT.sub("main @ 1a2b3c4", _TMP.sub("~/", _SESSION.sub("20261129-120000-a1b2c3", line)))
        if line.endswith("│") and len(new) < len(line):
            new = new[:-1] + " " * (len(line) - len(new)) + "│"
        lines.append(new)
    return "\n".join(lines) + "\n"


def approval(tmp: Path, columns: int) -> dict[str, str]:
    project = _repo(tmp / "demo")
    screen = PtyScreen([sys.executable, "-m", "orchestrator", "run", "-a", "untrusted", "-c", "validate.commands=[]",
                        *_scripted(tmp), "make made.txt"], cwd=project, env=_env(tmp / "home"), columns=columns)
    for question, answer in (("Run this plan?", b"a\r"), ("Choice [y/s/a/n] (n):", b"a\r"),
                             ("Save the rule in [u/p] (u):", b"p\r"), ("Apply this change", b"y\r")):
        screen.expect(question)
        screen.send(answer)
    status = screen.finish()
    if status != 0:
        raise SystemExit(f"the approval run ended with {status}:\n{screen.text()}")
    return {"approval.txt": screen.text()}


def parallel(tmp: Path, columns: int) -> dict[str, str]:
    project, gate = _repo(tmp / "demo"), tmp / "gate"
    screen = PtyScreen([sys.executable, "-m", "orchestrator", "run", "-m",
                        "function:tests.terminal.screen_models:parallel", "-c", "validate.commands=[]",
                        "-c", "planner.merge_chars=0", "write two files"],
                       cwd=project, env=_env(tmp / "home", SCREEN_GATE=str(gate)), columns=columns)
    screen.expect("Run this plan?")
    screen.send(b"a\r")
    screen.expect("Apply this change")  # quick's question; slow is still drafting (its model waits on the gate)
    # The moment to show: the question open, "y" typed, the table moving under it (slow's timer past 1 s).
    screen.send(b"y")
    screen.expect(lambda _: re.search(r"^slow\s.*\b[1-9]\.\ds\b", screen.display(), re.M) is not None
                  and "(y): y" in screen.display(), "the live table under the open question")
    text = screen.text()
    live = text[text.index("Plan:"):]
    screen.send(b"\r")
    gate.touch()
    screen.expect(lambda text: text.count("Apply this change") == 2, "slow's question")
    screen.send(b"y\r")
    status = screen.finish()
    if status != 0:
        raise SystemExit(f"the parallel run ended with {status}:\n{screen.text()}")
    return {"parallel-live.txt": live, "parallel.txt": screen.text()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    parser.add_argument("--columns", type=int, default=80)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for capture in (approval, parallel):
        with tempfile.TemporaryDirectory() as tmp:
            for name, text in capture(Path(tmp), args.columns).items():
                (args.out / name).write_text(_clean(text))
                print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
