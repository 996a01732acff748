"""Which model a role gets, and how a model string becomes a :class:`~orchestrator.core.contracts.ChatModel`.

The default (no ``model`` configured anywhere) is chosen from the environment, in this order:
``OPENAI_API_KEY`` → ``openai/gpt-4.1`` (OpenAI's strong non-reasoning coding model, priced in litellm's bundled map),
``ANTHROPIC_API_KEY`` → ``anthropic/claude-sonnet-4-5``, otherwise ``local`` (the embedded Qwen2.5-Coder-1.5B, no key,
no network). OpenAI wins when both keys are present because its JSON-schema output is enforced server-side.

Model strings: ``local``; ``scripted:/path/replies.json`` and ``function:package.module:attr`` (the fakes of
:mod:`orchestrator.testing`); anything else is a litellm model string. While ``ORCHESTRATE_FORBID_MODEL_REQUESTS`` is
set (the test suite sets it) litellm models are refused; ``local`` and the fakes are allowed.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.core.contracts import ROLES, ChatModel
from orchestrator.core.errors import ModelUnavailableError
from orchestrator.settings.schema import RoleConfig, Settings

__all__ = [
    "LOCAL",
    "OPENAI_DEFAULT",
    "ANTHROPIC_DEFAULT",
    "FORBID_ENV",
    "default_model",
    "describe_default",
    "resolve_model",
    "requests_forbidden",
]

LOCAL = "local"
OPENAI_DEFAULT = "openai/gpt-4.1"
ANTHROPIC_DEFAULT = "anthropic/claude-sonnet-4-5"
FORBID_ENV = "ORCHESTRATE_FORBID_MODEL_REQUESTS"
_KEYED_DEFAULTS = (("OPENAI_API_KEY", OPENAI_DEFAULT), ("ANTHROPIC_API_KEY", ANTHROPIC_DEFAULT))
_FAKE_PREFIXES = ("scripted:", "function:")


def default_model(environ: Mapping[str, str]) -> str:
    """The model for roles that configure none (see the module docstring)."""
    for key, model in _KEYED_DEFAULTS:
        if environ.get(key, "").strip():
            return model
    return LOCAL


def describe_default(settings: Settings, environ: Mapping[str, str]) -> str | None:
    """One line for the CLI to print at start-up when a default model is in use; ``None`` otherwise."""
    defaulted = [role for role in ROLES if not settings.role(role).model]
    if not defaulted:
        return None
    model = default_model(environ)
    which = "all roles" if len(defaulted) == len(ROLES) else ", ".join(defaulted)
    if model == LOCAL:
        why = "the embedded Qwen2.5-Coder-1.5B, no provider API key found"
    else:
        key = next(k for k, m in _KEYED_DEFAULTS if m == model)
        why = f"{key} is set"
    return f"model for {which}: {model} ({why}; choose another with -m MODEL or `model` in config.toml)"


def requests_forbidden(environ: Mapping[str, str]) -> bool:
    return environ.get(FORBID_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def resolve_model(model: str, config: RoleConfig, *, settings: Settings, environ: Mapping[str, str]) -> ChatModel:
    """The :class:`ChatModel` for one model string (``config`` supplies ``api_base``)."""
    if model == LOCAL:
        return _local_model(settings, environ)
    if model.startswith(_FAKE_PREFIXES):
        from orchestrator.models.fakes import model_from_string

        return model_from_string(model)
    if requests_forbidden(environ):
        raise ModelUnavailableError(
            f"real model requests are forbidden here ({FORBID_ENV}=1), refusing {model!r}",
            hint="use a fake from orchestrator.testing (scripted:/function:) or mark the test local_model",
        )
    from orchestrator.models.litellm_backend import LiteLLMModel

    return LiteLLMModel(model, api_base=config.api_base or None, timeout_s=settings.models.timeout_s)


def _local_model(settings: Settings, environ: Mapping[str, str]) -> ChatModel:
    try:
        from orchestrator.models.local_model import LocalModel
    except ModuleNotFoundError as exc:
        if exc.name != "orchestrator.models.local_model":
            raise
        raise ModelUnavailableError(
            "the embedded model is not available in this build", hint="choose a model with -m MODEL"
        ) from None
    model: ChatModel = LocalModel(settings.local, timeout_s=settings.models.timeout_s, environ=environ)
    return model
