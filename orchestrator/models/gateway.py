"""The model gateway: every role talks to its model through one :class:`ModelGateway`.

It routes each role to its configured model (``Settings.role``), retries transient failures with exponential backoff,
falls back to the configured fallback models when a model keeps failing, counts tokens and cost per role, enforces
``budget_usd``, turns tool calls written as JSON text into tool calls, and produces validated structured output
(JSON-schema ``response_format`` where the backend takes it; pydantic validation always; re-asks with the validation
error, in the words of the ``reask`` template its builder passes: ``agents/prompts/structured_reask.md``, since no
model-facing sentence lives in this package). Model strings are resolved by :mod:`orchestrator.models.routing`
(litellm strings, ``local``, and the fakes' ``scripted:``/``function:``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from string import Template
from types import MappingProxyType
from typing import TypeVar

import anyio
from pydantic import BaseModel, ValidationError

from orchestrator.core.contracts import ChatModel, Message, ModelRequest, ModelResponse, Role, ToolSpec, Usage
from orchestrator.core.errors import (
    ModelError,
    ModelOutputError,
    ModelUnavailableError,
    TransientModelError,
    check_budget,
)
from orchestrator.models.calls import CallCallback, CallScope, ModelCall, StepGateway
from orchestrator.models.output import describe_validation_error, extract_json, tool_calls_from_text
from orchestrator.settings.schema import RoleConfig, Settings

__all__ = [
    "ModelGateway",
    "TransientModelError",
    "ModelResolver",
    "UsageCallback",
    "CallScope",
    "ModelCall",
    "CallCallback",
    "StepGateway",
    "describe_default",
    "parse_structured",
]

T = TypeVar("T", bound=BaseModel)
ModelResolver = Callable[[str, RoleConfig], ChatModel]
UsageCallback = Callable[[Role, str, Usage], None]
REASK_PLACEHOLDERS = frozenset({"name", "error", "schema"})


def describe_default(settings: Settings, environ: Mapping[str, str]) -> str | None:
    """One line saying which model was picked for roles that configure none; ``None`` when every role has one."""
    from orchestrator.models.routing import describe_default as _describe

    return _describe(settings, environ)


def parse_structured(schema: type[T], content: str) -> T:
    """The reply as a ``schema`` instance: the JSON it consists of, or the first JSON object in it (fences, prose).

    Raises ``ValueError`` (no JSON) or ``pydantic.ValidationError``.
    """
    try:
        return schema.model_validate_json(content)
    except ValidationError:
        pass
    return schema.model_validate(extract_json(content))


class ModelGateway:
    """Per-role model access with retries, fallbacks, accounting and a budget (see the module docstring).

    ``resolve`` turns a model string into a :class:`ChatModel` (default:
    :func:`orchestrator.models.routing.resolve_model`, which refuses real network models while
    ``ORCHESTRATE_FORBID_MODEL_REQUESTS=1``); each distinct model string and api_base is resolved once per gateway.
    ``reask`` is the message sent after structured output that does not validate, a :class:`string.Template` that may
    use ``${name}`` (the schema's name), ``${error}`` (what is wrong) and ``${schema}`` (the JSON schema, compact); a
    template with any other placeholder raises ``ValueError`` here, not at the first re-ask.
    ``on_usage(role, model, usage)`` is called after every successful call, and ``on_call(ModelCall)`` too (the same,
    plus the step the call was made for and the replay note). :meth:`for_step` is the view a plan step uses: its calls
    carry the step (there is no ambient "current step").
    """

    def __init__(
        self,
        settings: Settings,
        *,
        reask: str,
        environ: Mapping[str, str] | None = None,
        resolve: ModelResolver | None = None,
        on_usage: UsageCallback | None = None,
        on_call: CallCallback | None = None,
    ) -> None:
        import os

        from orchestrator.models.routing import default_model

        self._settings = settings
        self._reask = _reask_template(reask)
        self._environ = dict(os.environ if environ is None else environ)
        self._resolve = resolve or self._default_resolve
        self._on_usage = on_usage
        self._on_call = on_call
        self._default_model = default_model(self._environ)
        self._models: dict[tuple[str, str], ChatModel] = {}
        self._usage: dict[Role, Usage] = {}

    # ------------------------------------------------------------------------------------------------- routing

    def role_config(self, role: Role) -> RoleConfig:
        """The role's settings with the model resolved (the default model when none is configured)."""
        config = self._settings.role(role)
        return config if config.model else config.model_copy(update={"model": self._default_model})

    def model_for(self, role: Role) -> str:
        return self.role_config(role).model

    def supports_native_tools(self, role: Role) -> bool:
        """Whether agents of ``role`` should use native tool calls (else structured JSON actions).

        ``models.tool_mode`` decides when set to ``native``/``structured``; under ``auto`` the capability cache written
        by ``orchestrate models check`` decides, else what the backend says of itself (unknown: structured).
        """
        mode = self._settings.models.tool_mode
        if mode != "auto":
            return mode == "native"
        config = self.role_config(role)
        from orchestrator.models.capabilities import CapabilityCache

        known = CapabilityCache.for_environ(self._environ).native_tools(config.model)
        if known is not None:
            return known
        claim = getattr(self._model(config.model, config), "native_tools", False)
        return claim if isinstance(claim, bool) else False

    def _default_resolve(self, model: str, config: RoleConfig) -> ChatModel:
        from orchestrator.models.routing import resolve_model

        return resolve_model(model, config, settings=self._settings, environ=self._environ)

    def _model(self, model: str, config: RoleConfig) -> ChatModel:
        key = (model, config.api_base)
        if key not in self._models:
            self._models[key] = self._resolve(model, config)
        return self._models[key]

    def for_step(self, step_id: str, reply_scope: str | None = None) -> StepGateway:
        """This gateway as plan step ``step_id`` uses it: the same models, budget and accounting, every call made for
        the step (``reply_scope``: whose kept replies may answer, default the step)."""
        return StepGateway(self, CallScope(step_id=step_id, reply_scope=reply_scope or step_id))

    # -------------------------------------------------------------------------------------------------- calls

    async def complete(
        self,
        role: Role,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        temperature: float | None = None,
        seed: int | None = None,
        scope: CallScope | None = None,
        max_tokens: int | None = None,
    ) -> ModelResponse:
        """One chat completion for ``role`` (made for ``scope``'s step, if any). With ``tools``, calls written as JSON
        text come back as ``tool_calls``. ``seed``: a sampled call's (same messages, another candidate).
        ``max_tokens``: this call's bound, within the role's own ``max_tokens`` when that is set."""
        config = self.role_config(role)
        bounds = [n for n in (config.max_tokens, max_tokens) if n is not None]
        request = ModelRequest(
            messages=tuple(messages),
            tools=tuple(tools) if tools else None,
            temperature=temperature if temperature is not None else config.temperature,
            max_tokens=min(bounds) if bounds else None,
            reply_scope=scope.reply_scope if scope is not None else None,
            seed=seed,
        )
        response = await self._call(role, config, request, scope)
        if tools and not response.tool_calls:
            calls = tool_calls_from_text(response.content, [t.name for t in tools])
            if calls:
                response = response.model_copy(update={"tool_calls": calls})
        return response

    async def structured(
        self, role: Role, messages: Sequence[Message], schema: type[T], *, temperature: float | None = None,
        seed: int | None = None, scope: CallScope | None = None,
    ) -> T:
        """A validated ``schema`` instance from ``role``'s model.

        Asks for JSON-schema output; on output that does not validate, re-asks with the error (and the schema) up to
        ``models.structured_retries`` times, then raises :class:`ModelOutputError` naming the schema and the last error.
        """
        config = self.role_config(role)
        json_schema = schema.model_json_schema()
        history = list(messages)
        attempts = 1 + self._settings.models.structured_retries
        last_error = ""
        for _ in range(attempts):
            request = ModelRequest(
                messages=tuple(history),
                response_schema=json_schema,
                schema_name=schema.__name__,
                temperature=temperature if temperature is not None else config.temperature,
                max_tokens=config.max_tokens,
                reply_scope=scope.reply_scope if scope is not None else None,
                seed=seed,
            )
            response = await self._call(role, config, request, scope)
            try:
                return parse_structured(schema, response.content)
            except (ValidationError, ValueError) as exc:
                last_error = describe_validation_error(exc)
            history += [
                Message(role="assistant", content=response.content),
                Message(role="user", content=self._reask.substitute(
                    name=schema.__name__, error=last_error, schema=json.dumps(json_schema, separators=(",", ":")))),
            ]
        raise ModelOutputError(
            f"the {role} model ({config.model}) gave no valid {schema.__name__} in {attempts} attempts: {last_error}"
        )

    async def _call(self, role: Role, config: RoleConfig, request: ModelRequest,
                    scope: CallScope | None) -> ModelResponse:
        self._check_budget()
        chain = [config, *(RoleConfig(model=m) for m in config.fallbacks if m != config.model)]
        failures: list[ModelError] = []
        for candidate in chain:
            try:
                model = self._model(candidate.model, candidate)
                response = await self._with_retries(model, request)
            except (ModelUnavailableError, TransientModelError) as exc:
                failures.append(exc)
                continue
            self._account(ModelCall(role=role, model=candidate.model, usage=response.usage,
                                    step_id=scope.step_id if scope is not None else None, kept=response.kept))
            return response if response.model else response.model_copy(update={"model": candidate.model})
        raise _exhausted(chain, failures)

    async def _with_retries(self, model: ChatModel, request: ModelRequest) -> ModelResponse:
        retries = self._settings.models.max_retries
        delay = self._settings.models.retry_backoff_s
        for attempt in range(retries + 1):
            try:
                return await model.complete(request)
            except TransientModelError as exc:
                if attempt == retries:
                    raise TransientModelError(
                        f"{exc.message} (failed {retries + 1} time{'s' if retries else ''})", hint=exc.hint
                    ) from exc
            await anyio.sleep(delay * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    # --------------------------------------------------------------------------------------------- accounting

    @property
    def usage(self) -> Mapping[Role, Usage]:
        """Cumulative usage per role (a read-only view)."""
        return MappingProxyType(self._usage)

    @property
    def total_usage(self) -> Usage:
        return sum(self._usage.values(), Usage())

    def _account(self, call: ModelCall) -> None:
        self._usage[call.role] = self._usage.get(call.role, Usage()) + call.usage
        if self._on_usage is not None:
            self._on_usage(call.role, call.model, call.usage)
        if self._on_call is not None:
            self._on_call(call)
        self._check_budget()

    def _check_budget(self) -> None:
        check_budget(self._settings.budget_usd, self.total_usage.cost_usd)  # the one rule (core.errors)

    async def aclose(self) -> None:
        """Release the models' resources (stops the embedded server if it was started). Idempotent."""
        models, self._models = list(self._models.values()), {}
        for model in models:
            close = getattr(model, "aclose", None)
            if close is not None:
                await close()


def _reask_template(text: str) -> Template:
    """``text`` as the re-ask template; ``ValueError`` (the caller's bug) when it is malformed or uses a placeholder
    the gateway does not fill."""
    template = Template(text)
    if not template.is_valid() or set(template.get_identifiers()) - REASK_PLACEHOLDERS:
        raise ValueError(f"the gateway's re-ask template is malformed or uses a placeholder other than {{name, error, "
                         f"schema}}: {text[:80]!r}")
    return template


def _exhausted(chain: Sequence[RoleConfig], failures: Sequence[ModelError]) -> ModelError:
    if len(failures) == 1:
        only = failures[0]
        if isinstance(only, ModelUnavailableError):
            return only
        return ModelUnavailableError(f"the model keeps failing: {only.message}", hint=only.hint)
    tried = "; ".join(f.message for f in failures)
    return ModelUnavailableError(
        f"every model failed ({', '.join(c.model for c in chain)}): {tried}",
        hint="check `orchestrate models check MODEL` for each",
    )
