"""The one exception tree of orchestrate.

Every error a user can see derives from :class:`OrchestrateError` and is rendered once, as one line, by the CLI
(``orchestrator.cli.main``). Each class carries the process exit code it maps to (see DESIGN.md: 1 task failed,
2 usage/config/input error, 130 interrupted). Third-party exceptions are mapped to these in exactly one adapter
(litellm in the gateway, starlark in the rules engine, ...), never leaked.

Signals to a loop (retry this, the model asked to stop) are *not* errors and live next to the loop that handles them.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "OrchestrateError",
    "UsageError",
    "ConfigError",
    "InputError",
    "PolicyLoadError",
    "SandboxUnavailableError",
    "ModelError",
    "ModelUnavailableError",
    "ModelOutputError",
    "BudgetExceededError",
    "check_budget",
    "TaskFailedError",
    "InterruptedRunError",
    "SessionNotFoundError",
    "TransientModelError",
    "GitError",
    "OrchestrateSignal",
    "PlanInvalid",
    "ApplyConflict",
    "Location",
]


class Location:
    """A place in a file an error points at: ``path:line`` (line optional, 1-based)."""

    __slots__ = ("line", "path")

    def __init__(self, path: str | Path, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def __repr__(self) -> str:
        return f"Location({self.path!r}, {self.line!r})"


class OrchestrateError(Exception):
    """Base of every error orchestrate raises on purpose.

    ``message`` is one line that says what is wrong; ``location`` (optional) says where; ``hint`` (optional) says how
    to fix it. ``str(err)`` is the complete line the CLI prints.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None) -> None:
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text


class UsageError(OrchestrateError):
    """Bad command line, bad input or bad configuration: exit 2, nothing was changed."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration file or override is invalid (unknown key, bad value, malformed TOML, unknown profile)."""


class InputError(UsageError):
    """Bad input other than config: a missing directory, an unknown session id, an empty task."""


class SessionNotFoundError(InputError):
    """No stored session matches the id or prefix given."""


class PolicyLoadError(UsageError):
    """A rules file failed to load (syntax error, bad argument, an example that fails). Never an empty policy."""


class SandboxUnavailableError(UsageError):
    """No sandbox mechanism works for the requested mode, and running unconfined was not explicitly allowed."""


class ModelError(OrchestrateError):
    """A model call failed in a way the run cannot recover from."""


class ModelUnavailableError(ModelError):
    """The model could not be reached or is misconfigured (auth, unknown model, missing extra): exit 2."""

    exit_code = 2


class ModelOutputError(ModelError):
    """The model kept returning output that does not validate, after the bounded number of re-asks."""


class BudgetExceededError(OrchestrateError):
    """The session's ``budget_usd`` ran out."""


def check_budget(budget_usd: float, spent_usd: float, *, session_id: str | None = None) -> None:
    """The one budget rule: raise :class:`BudgetExceededError` once ``spent_usd`` reaches ``budget_usd`` (0: no
    budget). The model gateway applies it to this process's calls (also before each call), the session's event
    stream to the session's total over every process that ran it (``session_id`` is then named)."""
    if budget_usd > 0 and spent_usd >= budget_usd:
        whose = f" by session {session_id}" if session_id is not None else ""
        so_far = " so far" if session_id is not None else ""
        raise BudgetExceededError(f"the model budget of ${budget_usd:.2f} is used up{whose} (spent ${spent_usd:.4f}"
                                  f"{so_far})", hint="raise budget_usd or --budget-usd")


class TaskFailedError(OrchestrateError):
    """The task ran but did not succeed (a step or a check failed): raised by
    :meth:`orchestrator.engine.session.SessionResult.raise_for_status`, for Python callers that want an exception."""


class InterruptedRunError(OrchestrateError):
    """The run was interrupted (Ctrl-C / SIGTERM); its state is saved and it can be resumed."""

    exit_code = 130


class TransientModelError(ModelError):
    """A failure worth retrying (rate limit, timeout, dropped connection, 5xx). The gateway retries it."""


class GitError(OrchestrateError):
    """A git command orchestrate ran failed (or git is missing or too old)."""


class OrchestrateSignal(Exception):
    """A signal handled inside orchestrate (re-ask the model, re-run the step), never shown to the user as such; not
    an :class:`OrchestrateError`, so no boundary that renders errors catches one by accident."""


class PlanInvalid(OrchestrateSignal):
    """The plan is structurally wrong. A signal for the planner to re-ask the model, not a user-facing error."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class ApplyConflict(OrchestrateSignal):
    """The diff no longer applies to the user's tree: another step (or the user) changed the same lines."""

    def __init__(self, step_id: str, detail: str) -> None:
        self.step_id = step_id
        self.detail = detail
        super().__init__(f"step {step_id}: its change conflicts with the working tree: {detail}")
