"""The reviewer role alone on an existing diff (``orchestrate review``): findings with file, line and severity.

The diff is cut into per-file chunks (:mod:`agents.diff_chunks`) with the new file's line numbers written out, one
structured request per chunk through the gateway (which re-asks on a reply that does not validate). The reply shape
is deliberately flat for small models, and read leniently (``"high"`` → ``error``, ``"12-14"`` → 12); a reply that
cannot be read at all raises :class:`~orchestrator.core.errors.ModelOutputError`: it is never taken for approval.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents import prompts
from agents.diff_chunks import Chunk, Packed
from orchestrator.core.contracts import Message, Usage

if TYPE_CHECKING:
    from orchestrator.core.services import Gateway

__all__ = ["Finding", "FindingReply", "LeftOut", "DiffReviewReply", "ReviewReport", "review_chunks", "Severity"]

Severity = Literal["error", "warning", "info"]
Verdict = Literal["approve", "request_changes"]
_SEVERITY_WORDS: dict[str, Severity] = {
    "critical": "error", "high": "error", "bug": "error", "major": "error", "blocker": "error", "fatal": "error",
    "medium": "warning", "minor": "warning", "warn": "warning", "moderate": "warning",
    "low": "info", "note": "info", "suggestion": "info", "style": "info", "nit": "info", "information": "info",
}
NO_DETAILS = "the reviewer requested changes without naming a problem"
MAX_FINDINGS = 10  # per request: bounds a small model's reply (the schema's maxItems; more are dropped, not refused)
REPLY_TOKENS = 1024  # a review reply's max_tokens unless [roles.reviewer] max_tokens says otherwise


class _Lenient(BaseModel):
    """How small models write a severity (``"High"``) or a line (``"17-19"``), read as meant."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @field_validator("severity", mode="before", check_fields=False)
    @classmethod
    def _severity(cls, value: Any) -> Any:
        word = str(value).strip().lower() if value is not None else "warning"
        return word if word in ("error", "warning", "info") else _SEVERITY_WORDS.get(word, "warning")

    @field_validator("line", mode="before", check_fields=False)
    @classmethod
    def _line(cls, value: Any) -> Any:
        if isinstance(value, str):
            found = re.search(r"\d+", value)
            value = int(found.group()) if found else None
        return value if isinstance(value, int) and value > 0 else None


class Finding(_Lenient):
    """One problem the reviewer found: ``file`` relative to the repository root ("" when not about one file),
    ``line`` in the new version of the file (None when not about one line)."""

    file: str = ""
    line: int | None = None
    severity: Severity = "warning"
    comment: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or "(change)")
        return f"{where}: {self.severity}: {' '.join(self.comment.split())}"


class FindingReply(_Lenient):
    """A finding as the model writes it, in the order it should think: which file, what is wrong, the line that is
    wrong (its text copied, then located in the diff; then its number), how bad."""

    file: str = ""
    comment: str
    code: str = ""
    line: int | None = None
    severity: Severity = "warning"

    def to_finding(self) -> Finding:
        return Finding(file=self.file, line=self.line, severity=self.severity, comment=self.comment)


class DiffReviewReply(BaseModel):
    """What the reviewer model fills in for one chunk: findings first (what it saw), then the verdict."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    findings: list[FindingReply] = Field(json_schema_extra={"maxItems": MAX_FINDINGS})
    verdict: Verdict

    @field_validator("findings", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        return value[:MAX_FINDINGS] if isinstance(value, list) else value


class LeftOut(BaseModel):
    """A file the review did not see in full, and why."""

    model_config = ConfigDict(frozen=True)

    file: str
    reason: str


class ReviewReport(BaseModel):
    """The ``orchestrate review --json`` document (docs/review.md). ``verdict`` is ``request_changes`` when any chunk
    asked for changes or any finding is an ``error``; exit code 1 then, else 0."""

    model_config = ConfigDict(frozen=True)

    target: str
    verdict: Verdict
    findings: list[Finding]
    files: list[str]
    left_out: list[LeftOut] = Field(default_factory=list)
    model: str
    requests: int
    usage: Usage = Field(default_factory=Usage)

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict == "request_changes" else 0

    def text_lines(self) -> list[str]:
        """``path:line: severity: comment`` per finding, what was left out, then the verdict line."""
        lines = [str(finding) for finding in self.findings]
        lines += [f"not reviewed in full: {item.file} ({item.reason})" for item in self.left_out]
        what = f"{_count(len(self.findings), 'finding')} in {_count(len(self.files), 'file')}"
        verdict = "request changes" if self.verdict == "request_changes" else "approve"
        return [*lines, f"verdict: {verdict} ({what}; {self.target})"]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _place(reply: FindingReply, chunk: Chunk) -> Finding:
    """The finding with its file named as in the diff (models shorten, prefix or forget it: then the one file whose
    shown lines hold the code it quotes) and its line found from that code when it is shown; else as written."""
    finding = reply.to_finding()
    name = finding.file.strip().removeprefix("b/").removeprefix("a/").removeprefix("./")
    files = chunk.files
    if name not in files and name:
        match = [f for f in files if f.endswith("/" + name) or name.endswith("/" + f) or f.rsplit("/", 1)[-1] == name]
        name = match[0] if len(match) == 1 else name
    if name not in files:  # no file, or one not in the diff: the file whose shown lines hold the quoted code
        holding = [f for f in files if chunk.locate(f, reply.code, finding.line) is not None]
        name = holding[0] if len(holding) == 1 else name  # no quote: about the change as a whole, no guess
    line = chunk.locate(name, reply.code, finding.line) or finding.line
    return finding.model_copy(update={"file": name, "line": line})


async def _review_one(gateway: Gateway, chunk: Chunk, *, what: str, part: str,
                      instructions: str | None) -> tuple[list[Finding], Verdict]:
    messages = [Message(role="system", content=prompts.load("diff_reviewer_system"))]
    if instructions:
        messages.append(Message(role="user", content=instructions))
    messages.append(Message(role="user", content=prompts.render("diff_reviewer_task", what=what, part=part,
                                                                diff=chunk.text)))
    reply = await gateway.structured("reviewer", messages, DiffReviewReply)
    findings = [_place(f, chunk) for f in reply.findings if f.comment.strip()]
    verdict: Verdict = "request_changes" if any(f.severity == "error" for f in findings) else reply.verdict
    if verdict == "request_changes" and not findings:
        findings = [Finding(file=chunk.files[0] if len(chunk.files) == 1 else "", severity="warning",
                            comment=NO_DETAILS)]
    return findings, verdict


async def review_chunks(gateway: Gateway, packed: Packed, *, target: str,
                        instructions: str | None) -> ReviewReport:
    """Review every chunk of ``packed`` (one request each); the report's usage is left for the caller to fill.

    Raises :class:`~orchestrator.core.errors.ModelOutputError` when a chunk gets no valid reply after the re-asks.
    """
    findings: list[Finding] = []
    verdict: Verdict = "approve"
    total = len(packed.chunks)
    for number, chunk in enumerate(packed.chunks, 1):
        part = f" (part {number} of {total})" if total > 1 else ""
        found, said = await _review_one(gateway, chunk, what=target, part=part, instructions=instructions)
        findings += found
        verdict = "request_changes" if said == "request_changes" else verdict
    files = list(dict.fromkeys(f for chunk in packed.chunks for f in chunk.files))
    return ReviewReport(target=target, verdict=verdict, findings=findings, files=files,
                        left_out=[LeftOut(file=f, reason=r) for f, r in packed.left_out],
                        model=gateway.model_for("reviewer"), requests=total)
