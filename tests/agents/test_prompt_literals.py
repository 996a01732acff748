"""Model-facing sentences live in agents/prompts/*.md, not in code (issue 13; STYLE.md 14).

A scan of the modules whose strings reach a model (the coder's tools and their errors, the reviewer, planner and
validator, the gateway): no string literal of five words or more other than a docstring, a regular expression, or
the message of an exception rendered to the user (the one tree in orchestrator.core.errors) or to a developer
(TypeError, AssertionError). What remains is listed below with the reason it stays. A new sentence for the model goes
in a template (``prompts.render("FILE#SECTION", ...)``); a new user-facing sentence goes in ``STAYS`` with its reason.

Not scanned (yet): the coder's loop and strategy modules the lead is reworking (loop, coder, draft, candidates,
pipeline, strategy), the planner's post-processing (plan_fixups: notes in the plan the user sees), the checks
(checks, check_env, pyenv: what the user is told about the project's test command).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [
    *(f"agents/{name}.py" for name in (
        "actions", "tools", "edits", "patches", "paths", "guards", "docs", "repo", "reviewer", "validator", "planner",
        "diff_review", "diff_chunks", "activity", "pymerge", "loop", "draft", "search", "scores")),
    "orchestrator/models/gateway.py",
]
# (module, the literal's start): why it stays in code.
STAYS = {
    ("agents/actions.py", "One short sentence: why this action."):
        "the thought field's JSON-schema description, fixed when the class is defined (like the actions' docstrings,"
        " which are their tool descriptions); the schema is the class's contract",
    ("agents/validator.py", "no checks configured or discovered"): "the validation.completed output tail (user)",
    ("agents/diff_review.py", "the reviewer requested changes without naming a problem"):
        "a finding in orchestrate review's report (user)",
    ("agents/diff_chunks.py", "a hunk too large for one request was cut"): "a left_out reason in the report (user)",
    ("agents/loop.py", "MCP tools (from the MCP servers"):
        "not said: the first words of coder_mcp_tools.md, matched to list the tools once per history",
    ("agents/loop.py", "no done action after {} turns"): "TurnLimit's message: a failed step's reason (user)",
    ("orchestrator/models/gateway.py", "the gateway's re-ask template is malformed"):
        "a ValueError for the developer who builds a gateway",
}
MIN_WORDS = 5
_ERRORS = {"OrchestrateError", "UsageError", "ConfigError", "InputError", "ModelError", "ModelUnavailableError",
           "ModelOutputError", "BudgetExceededError", "TaskFailedError", "GitError", "TransientModelError",
           "TypeError", "AssertionError"}
_REGEX_CALLS = {"compile", "search", "match", "fullmatch", "sub", "findall", "finditer"}


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _skipped(tree: ast.AST) -> set[int]:
    """ids of the nodes that are not candidate sentences: docstrings, regexes, error messages, f-string parts."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        if isinstance(node, ast.Call) and (_callee(node) in _ERRORS or _callee(node) in _REGEX_CALLS):
            skipped.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(v) for v in node.values)
    return skipped


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def sentences(source: str, where: str) -> list[tuple[int, str]]:
    """(line, text) of each string literal in ``source`` that reads as a sentence (see the module docstring)."""
    tree = ast.parse(source, where)
    skipped = _skipped(tree)
    found = []
    for node in ast.walk(tree):
        text = _text(node)
        if text is None or id(node) in skipped:
            continue
        if sum(1 for word in text.split() if re.search("[A-Za-z]", word)) >= MIN_WORDS:
            found.append((getattr(node, "lineno", 0), text))
    return sorted(found)


def test_model_facing_modules_hold_no_sentence_literals() -> None:
    found = {}
    for rel in SCANNED:
        for line, text in sentences((ROOT / rel).read_text(), rel):
            if not any(rel == module and text.startswith(start) for module, start in STAYS):
                found[f"{rel}:{line}"] = text
    assert found == {}, f"sentences in code: move them to agents/prompts/ (or list them in STAYS, with why): {found}"


def test_every_exception_to_the_rule_is_still_there() -> None:
    present = {(rel, start) for rel in SCANNED for _, text in sentences((ROOT / rel).read_text(), rel)
               for module, start in STAYS if module == rel and text.startswith(start)}
    assert set(STAYS) - present == set()


def test_the_scan_sees_a_sentence_returned_to_the_model_and_skips_what_is_not_one() -> None:
    source = '''
def read(path):
    """A docstring of many words is documentation."""
    if not path:
        raise TypeError("a programming error with a long message")
    pattern = re.compile(r"a regular expression with many words")
    return f"ERROR: {path} is a directory; use list_files to see it"
'''
    assert [text for _, text in sentences(source, "x.py")] == ["ERROR: {} is a directory; use list_files to see it"]
