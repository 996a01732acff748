"""``orchestrate review [--base REF | --uncommitted | --commit SHA] [--json]``: the reviewer role alone on a diff.

The diff comes from git (:mod:`orchestrator.workspace.review_diff`; default: the uncommitted changes), is cut into
chunks that fit the reviewer model's context (``review.diff_chunk_chars``, ``review.max_requests``) and reviewed
with the project's AGENTS.md instructions (:mod:`agents.diff_review`). Output: ``path:line: severity: comment`` per
finding then a verdict line, or ``--json`` (:class:`agents.diff_review.ReviewReport`, docs/review.md).

Exit codes: 0 approve, 1 request changes, 2 bad input (not a repository, unknown ref, nothing to review) or no
usable review (the model unreachable, or replies that never parse: never taken for approval).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from orchestrator.cli.context import CliContext, add_model_options, described

if TYPE_CHECKING:
    from agents.diff_review import ReviewReport
    from orchestrator.settings.config import LoadedConfig
    from orchestrator.settings.schema import Settings
    from orchestrator.workspace.review_diff import ReviewDiff

__all__ = ["register", "handle_review", "chunk_budget"]

_RESERVED_TOKENS = 2 * 1024 + 1200  # a reply and a re-ask's reply (REPLY_TOKENS), the system prompt and the re-ask
_CHARS_PER_TOKEN = 2.5  # numbered diff lines tokenize densely
_REMOTE_BUDGET = 40000
_MIN_BUDGET = 2000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("review", help="review an existing diff (the reviewer role alone)", **described(
        "Review an existing diff with the reviewer role alone: the changes since the merge base of --base REF "
        "(working tree and untracked files included), the uncommitted changes (the default), or one commit. Prints "
        "one finding a line (path:line: severity: comment) and the verdict; exits 1 when the reviewer requests "
        "changes, 0 when it approves, 2 on bad input or when the model gives no readable review.",
        "orchestrate review", "orchestrate review --base main", "orchestrate review --commit HEAD --json",
        "orchestrate review --base origin/main -m openai/gpt-4.1"))
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--base", metavar="REF", help="review the changes since the merge base of REF and HEAD")
    target.add_argument("--uncommitted", action="store_true",
                        help="review staged, unstaged and untracked changes (the default)")
    target.add_argument("--commit", metavar="SHA", help="review one commit against its first parent")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    add_model_options(parser)
    parser.set_defaults(handler=handle_review)


def chunk_budget(loaded: LoadedConfig, model: str, instructions: str | None) -> int:
    """Characters of diff per request: ``review.diff_chunk_chars``, else what the reviewer model's context holds
    beside the prompt, the instructions and the replies (the embedded model: ``local.n_ctx``)."""
    settings = loaded.settings
    if settings.review.diff_chunk_chars:
        return settings.review.diff_chunk_chars
    if model != "local":
        return _REMOTE_BUDGET
    room = int((settings.local.n_ctx - _RESERVED_TOKENS) * _CHARS_PER_TOKEN) - len(instructions or "")
    return max(_MIN_BUDGET, room)


def handle_review(args: argparse.Namespace, ctx: CliContext) -> int:
    import anyio

    from orchestrator.workspace.review_diff import DiffTarget, collect_diff

    loaded = ctx.load_config(args)  # bad config is reported before git or a model is touched
    diff = collect_diff(ctx.cwd(args), DiffTarget(base=args.base, commit=args.commit))
    report = anyio.run(_review, loaded, diff, dict(ctx.environ))
    if args.json:
        # Plain, unhighlighted: scripts parse it even when FORCE_COLOR makes rich style a non-terminal.
        ctx.out.print(report.model_dump_json(), markup=False, highlight=False, soft_wrap=True)
    else:
        from rich.markup import escape

        for line in report.text_lines():
            ctx.out.print(escape(line), highlight=False, soft_wrap=True)
    return report.exit_code


def _bounded_replies(settings: Settings) -> Settings:
    """``settings`` with the reviewer's replies capped at ``REPLY_TOKENS`` unless its ``max_tokens`` is configured: a
    list of findings is short, and a small model that loops must not write until the context is full."""
    from agents.diff_review import REPLY_TOKENS
    from orchestrator.settings.schema import RoleConfig

    reviewer = settings.roles.get("reviewer", RoleConfig())
    if reviewer.max_tokens is not None:
        return settings
    roles = {**settings.roles, "reviewer": reviewer.model_copy(update={"max_tokens": REPLY_TOKENS})}
    return settings.model_copy(update={"roles": roles})


async def _review(loaded: LoadedConfig, diff: ReviewDiff, environ: dict[str, str]) -> ReviewReport:
    from agents import prompts
    from agents.diff_chunks import pack, split_files
    from agents.diff_review import review_chunks
    from memory import build_memory, render_instructions
    from orchestrator.core.errors import InputError, ModelOutputError, ModelUnavailableError
    from orchestrator.models.gateway import ModelGateway
    from orchestrator.settings.home import Home

    settings = _bounded_replies(loaded.settings)
    instructions = render_instructions(build_memory(settings, Home.from_env(environ)).load(diff.root), diff.root)
    gateway = ModelGateway(settings, reask=prompts.load("structured_reask"), environ=environ)
    try:
        budget = chunk_budget(loaded, gateway.model_for("reviewer"), instructions)
        packed = pack(split_files(diff.text), budget, settings.review.max_requests)
        if not packed.chunks:
            raise InputError(f"nothing to review in {diff.description}: only binary files or mode changes")
        try:
            report = await review_chunks(gateway, packed, target=diff.description, instructions=instructions)
        except ModelOutputError as exc:  # exit 2, never 0: an unreadable review is not an approval
            raise ModelUnavailableError(f"no review: {exc.message}",
                                        hint="try a larger reviewer model (-m or [roles.reviewer] model)") from exc
        return report.model_copy(update={"usage": gateway.total_usage})
    finally:
        await gateway.aclose()
