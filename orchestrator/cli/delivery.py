"""``--commit`` and ``--branch [NAME]``: the command-line form of ``apply.mode`` (see config/default.toml), for ``run``
and ``exec``. They become ``-c apply.mode=...`` overrides, the highest config layer; a resumed session keeps the
delivery it started with, so ``exec resume`` refuses them."""

from __future__ import annotations

import argparse
import json

from orchestrator.core.errors import InputError

__all__ = ["add_delivery_options", "apply_delivery_flags"]


def add_delivery_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("delivery (apply.mode)").add_mutually_exclusive_group()
    g.add_argument("--commit", action="store_true",
                   help="commit each applied step on the current branch (only the step's change; yours stay "
                        "uncommitted)")
    g.add_argument("--branch", nargs="?", const="", default=None, metavar="NAME",
                   help="work on a new branch (default orchestrate/SESSION) in a worktree of its own, leaving your "
                        "checkout untouched; write --branch=NAME before the task")


def apply_delivery_flags(args: argparse.Namespace, *, resuming: bool = False) -> None:
    """Turn the flags into ``apply.*`` overrides on ``args`` (before the config is loaded)."""
    branch = getattr(args, "branch", None)
    if not getattr(args, "commit", False) and branch is None:
        return
    if resuming:
        raise InputError("--commit and --branch choose how a new session delivers; a resumed session keeps its own",
                         hint="drop the flag (the session resumes in the mode it started with)")
    if branch and len(branch.split()) > 1:  # `--branch "the task"`: argparse took the task as the branch's name
        raise InputError(f"--branch {branch!r} is not a branch name (it reads like the task)",
                         hint="write --branch=NAME, or put --branch after the task")
    extra = ['apply.mode="commit"'] if args.commit else ['apply.mode="branch"', f"apply.branch={json.dumps(branch)}"]
    args.overrides = [*(getattr(args, "overrides", None) or []), *extra]
