"""orchestrator.core.text: the one truncation helper gives exactly the texts the six helpers it replaced gave (the
models' prompts must not change). The old bodies are copied here as the reference."""

from __future__ import annotations

import random

import pytest

from orchestrator.core.text import clip, clip_bytes, tail_lines


def old_truncate(text: str, limit: int, what: str = "output") -> str:  # agents/tools.py
    if len(text) <= limit:
        return text
    head = text[: limit // 3]
    tail = text[-(limit - len(head)):]
    return f"{head}\n[... {len(text) - len(head) - len(tail)} characters of {what} cut ...]\n{tail}"


def old_procs_tail(text: str, limit: int) -> str:  # engine/batch/procs.py
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    newline = cut.find("\n")
    return cut[newline + 1:] if 0 <= newline < 200 else cut


def old_commands_tail(output: str, count: int) -> str:  # engine/commands.py
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    return "\n".join(lines[-count:])[-2000:]


def old_tail_bytes(text: str, limit: int) -> str:  # agents/validator.py
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return "[... output cut ...]\n" + data[-limit:].decode("utf-8", errors="ignore")


def texts() -> list[str]:
    rng = random.Random(13)
    alphabet = "ab \n\t{}é中🙂x"
    return ["", "short", "x" * 5000, "line\n" * 900] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 6000))) for _ in range(60)]


@pytest.mark.parametrize("limit", [1, 7, 100, 250, 2000, 4000])
def test_clip_gives_the_old_helpers_texts(limit: int) -> None:
    for text in texts():
        assert clip(text, limit, keep="middle",
                    note="\n[... {cut} characters of a {x} file cut ...]\n") == old_truncate(text, limit, "a {x} file")
        assert clip(text, limit, keep="tail", snap=200) == old_procs_tail(text, limit)
        assert clip(text, limit, keep="head", note=" [line cut]") == (
            text if len(text) <= limit else text[:limit] + " [line cut]")
        assert clip_bytes(text, limit, note="[... output cut ...]\n") == old_tail_bytes(text, limit)
        assert clip("\n".join(tail_lines(text, 5, skip_blank=True)), 2000) == old_commands_tail(text, 5)
        assert tail_lines(text, 5) == text.splitlines()[-5:]
