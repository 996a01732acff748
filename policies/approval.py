"""Approvers (``seams.Approver``): who answers when the gate says a command needs approval.

:class:`orchestrator.terminal.approver.ConsoleApprover` asks the person at the terminal (rich prompts, one question at a
time even when steps run in parallel): allow once, allow for this session, always allow (appends the proposed
``prefix_rule`` to the rules file they choose, user-global or this project's: the answer names the file, and the command
runner appends the rule with :func:`policies.amend.append_allow_rule`), or deny with a message for the agent. "Always
allow" means "run without asking, in the sandbox": only ``[sandbox] unconfined_prefixes`` lets a command out, and the
prompt says so when it would.
:class:`NonInteractiveApprover` (``orchestrate exec``) denies, telling the agent why.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from orchestrator.core.contracts import ApprovalRequest, ApprovalResponse

if TYPE_CHECKING:

    pass

__all__ = ["NonInteractiveApprover", "command_text"]


def command_text(request: ApprovalRequest) -> str:
    """The command as the user reads it: a ``bash -c`` script as its script, anything else shell-quoted."""
    argv = list(request.argv)
    if len(argv) == 3 and argv[0].rsplit("/", 1)[-1] in ("bash", "sh", "zsh") and argv[1] in ("-c", "-lc"):
        return argv[2]
    return shlex.join(argv)


class NonInteractiveApprover:
    """Denies every request with a message that tells the agent what happened and what to do instead."""

    async def ask(self, request: ApprovalRequest) -> ApprovalResponse:
        if request.retry_unsandboxed:
            message = ("The sandbox blocked this command and this non-interactive session cannot ask to run it "
                       "unsandboxed. Work within the sandbox (the workspace is writable; network may be off).")
        else:
            message = (f"Not run: this command needs approval ({request.verdict.reason}) and this non-interactive "
                       "session cannot ask for it. Use a different approach that does not need approval.")
        return ApprovalResponse(choice="deny", message=message)
