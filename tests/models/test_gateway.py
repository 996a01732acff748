"""ModelGateway over the fakes: routing, retries, fallbacks, structured output, text tool calls, usage, budget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from agents import prompts
from orchestrator.core.contracts import ChatModel, Message, ModelRequest, Role, ToolSpec, Usage
from orchestrator.core.errors import BudgetExceededError, ModelError, ModelOutputError, ModelUnavailableError
from orchestrator.models.gateway import ModelGateway, TransientModelError, describe_default
from orchestrator.settings.schema import RoleConfig, Settings
from orchestrator.testing import FunctionModel, ScriptedModel, gateway_for

USER = [Message(role="user", content="hello there")]
TOOLS = [ToolSpec(name="read_file", description="read a file", parameters={"type": "object"})]


class Verdict(BaseModel):
    verdict: str
    comments: list[str] = []


def settings(**kwargs: Any) -> Settings:
    models = kwargs.pop("models", {})
    return Settings.model_validate({"models": {"retry_backoff_s": 0, **models}, **kwargs})


def flaky(failures: int, reply: str = "ok") -> FunctionModel:
    def fn(request: ModelRequest) -> str:
        if len(model.requests) <= failures:
            raise TransientModelError("rate limited")
        return reply

    model = FunctionModel(fn, name="flaky")
    return model


def resolver(models: Mapping[str, ChatModel]) -> Any:
    return lambda name, config: models[name]


# ---------------------------------------------------------------------------------------------------- routing


def test_each_role_talks_to_its_own_model() -> None:
    planner, coder = ScriptedModel(["plan"], name="p"), ScriptedModel(["code"], name="c")
    gateway = gateway_for(settings(), {"planner": planner, "coder": coder})

    assert anyio.run(gateway.complete, "planner", USER).content == "plan"
    assert anyio.run(gateway.complete, "coder", USER).content == "code"
    assert (gateway.model_for("planner"), gateway.model_for("coder")) == ("p", "c")
    assert len(planner.requests) == len(coder.requests) == 1


def test_role_settings_route_model_strings_and_parameters(tmp_path: Any) -> None:
    replies = tmp_path / "replies.json"
    replies.write_text('["from file", {"content": "second"}]')
    config = settings(
        model=f"scripted:{replies}",
        roles={"reviewer": {"model": "function:tests.models.model_functions:echo", "temperature": 0.3,
                            "max_tokens": 99}},
    )
    gateway = ModelGateway(config, reask=prompts.load("structured_reask"))

    assert anyio.run(gateway.complete, "planner", USER).content == "from file"
    assert anyio.run(gateway.complete, "coder", USER).content == "second"  # same string: one shared scripted model
    reviewed = anyio.run(gateway.complete, "reviewer", USER)
    assert reviewed.content == "HELLO THERE"
    assert gateway.model_for("reviewer") == "function:tests.models.model_functions:echo"


def test_role_temperature_and_max_tokens_reach_the_model() -> None:
    fake = ScriptedModel(["a", "b"])
    gateway = gateway_for(settings(roles={"coder": {"temperature": 0.7, "max_tokens": 50}}), fake)
    anyio.run(gateway.complete, "coder", USER)
    anyio.run(lambda: gateway.complete("coder", USER, temperature=0.0))
    assert [(r.temperature, r.max_tokens) for r in fake.requests] == [(0.7, 50), (0.0, 50)]


def test_a_calls_max_tokens_stays_within_the_roles() -> None:
    fake = ScriptedModel(["a", "b", "c"])
    gateway = gateway_for(settings(roles={"coder": {"max_tokens": 50}}), fake)
    anyio.run(lambda: gateway.complete("coder", USER, max_tokens=20))
    anyio.run(lambda: gateway.complete("coder", USER, max_tokens=80))
    anyio.run(lambda: gateway.complete("reviewer", USER, max_tokens=80))  # no bound of its own
    assert [r.max_tokens for r in fake.requests] == [20, 50, 80]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "local"), ({"OPENAI_API_KEY": "sk"}, "openai/gpt-4.1"),
     ({"ANTHROPIC_API_KEY": "x"}, "anthropic/claude-sonnet-4-5"),
     ({"OPENAI_API_KEY": "sk", "ANTHROPIC_API_KEY": "x"}, "openai/gpt-4.1")],
)
def test_empty_model_defaults_from_the_environment(environ: dict[str, str], expected: str) -> None:
    gateway = ModelGateway(settings(roles={"coder": {"model": "ollama/qwen2.5-coder"}}),
                           reask=prompts.load("structured_reask"), environ=environ)
    assert gateway.model_for("planner") == expected
    assert gateway.model_for("coder") == "ollama/qwen2.5-coder"
    line = describe_default(settings(), environ)
    assert line is not None and expected in line and "all roles" in line


def test_describe_default_is_silent_when_every_role_has_a_model() -> None:
    assert describe_default(settings(model="ollama/x"), {}) is None
    partial = describe_default(settings(roles={"coder": {"model": "ollama/x"}}), {})
    assert partial is not None and "planner, reviewer, validator" in partial and "coder" not in partial


def test_real_network_models_are_refused_while_forbidden() -> None:
    gateway = ModelGateway(settings(model="openai/gpt-4.1"), reask=prompts.load("structured_reask"),
                           environ={"ORCHESTRATE_FORBID_MODEL_REQUESTS": "1"})
    with pytest.raises(ModelUnavailableError, match="ORCHESTRATE_FORBID_MODEL_REQUESTS"):
        anyio.run(gateway.complete, "coder", USER)


# ------------------------------------------------------------------------------------------ retries, fallbacks


def test_transient_errors_are_retried() -> None:
    model = flaky(2)
    gateway = gateway_for(settings(models={"max_retries": 3}), model)
    assert anyio.run(gateway.complete, "coder", USER).content == "ok"
    assert len(model.requests) == 3


def test_persistent_transient_errors_give_up_after_max_retries() -> None:
    model = flaky(10)
    gateway = gateway_for(settings(models={"max_retries": 1}), model)
    with pytest.raises(ModelUnavailableError, match=r"rate limited \(failed 2 times\)"):
        anyio.run(gateway.complete, "coder", USER)
    assert len(model.requests) == 2


def test_non_transient_errors_are_not_retried() -> None:
    def broken(request: ModelRequest) -> str:
        raise ModelError("model exploded")

    model = FunctionModel(broken)
    gateway = gateway_for(settings(), model)
    with pytest.raises(ModelError, match="model exploded"):
        anyio.run(gateway.complete, "coder", USER)
    assert len(model.requests) == 1


def test_fallbacks_take_over_when_the_primary_keeps_failing() -> None:
    primary, backup = flaky(100), ScriptedModel(["from backup"], name="backup")
    config = settings(model="primary", models={"max_retries": 2, "fallbacks": ["backup"]})
    usage: list[tuple[Role, str, Usage]] = []
    gateway = ModelGateway(config, reask=prompts.load("structured_reask"),
                           resolve=resolver({"primary": primary, "backup": backup}),
                           on_usage=lambda *a: usage.append(a))

    response = anyio.run(gateway.complete, "coder", USER)
    assert response.content == "from backup"
    assert len(primary.requests) == 3
    assert [(role, model) for role, model, _ in usage] == [("coder", "backup")]


def test_role_fallbacks_also_cover_unavailable_models() -> None:
    backup = ScriptedModel(["fine"], name="backup")
    config = settings(model="openai/gpt-4.1", roles={"coder": {"fallbacks": ["backup"]}})

    def resolve(name: str, cfg: RoleConfig) -> ChatModel:
        if name == "backup":
            return backup
        raise ModelUnavailableError(f"{name}: no key")

    gateway = ModelGateway(config, reask=prompts.load("structured_reask"), resolve=resolve)
    assert anyio.run(gateway.complete, "coder", USER).content == "fine"
    with pytest.raises(ModelUnavailableError, match="no key"):
        anyio.run(gateway.complete, "planner", USER)


def test_every_model_failing_names_them_all() -> None:
    config = settings(model="a", models={"max_retries": 0, "fallbacks": ["b"]})
    gateway = ModelGateway(config, reask=prompts.load("structured_reask"),
                           resolve=resolver({"a": flaky(9), "b": flaky(9)}))
    with pytest.raises(ModelUnavailableError, match=r"every model failed \(a, b\)"):
        anyio.run(gateway.complete, "coder", USER)


# -------------------------------------------------------------------------------------------------- structured


def test_structured_output_asks_for_the_schema_and_validates() -> None:
    fake = ScriptedModel(['Sure! ```json\n{"verdict": "approve", "comments": ["nice"]}\n```'])
    gateway = gateway_for(settings(), fake)
    verdict = anyio.run(gateway.structured, "reviewer", USER, Verdict)
    assert verdict == Verdict(verdict="approve", comments=["nice"])
    assert fake.requests[0].response_schema == Verdict.model_json_schema()
    assert fake.requests[0].schema_name == "Verdict"


def test_structured_output_reasks_with_the_validation_error() -> None:
    fake = ScriptedModel(["I think it is fine", '{"comments": []}', Verdict(verdict="approve")])
    gateway = gateway_for(settings(models={"structured_retries": 2}), fake)
    assert anyio.run(gateway.structured, "reviewer", USER, Verdict).verdict == "approve"
    second, third = fake.requests[1].messages, fake.requests[2].messages
    assert second[-2] == Message(role="assistant", content="I think it is fine")
    assert "no JSON object found" in second[-1].content and '"verdict"' in second[-1].content
    assert "verdict: Field required" in third[-1].content


def test_structured_output_reasks_in_the_words_of_the_template_it_was_given() -> None:
    fake = ScriptedModel(["nope", Verdict(verdict="approve")], name="m")
    gateway = ModelGateway(settings(model="m"), reask="bad ${name} ($error); schema $schema",
                           resolve=resolver({"m": fake}))
    anyio.run(gateway.structured, "reviewer", USER, Verdict)
    schema = '{"properties":{"verdict"'
    said = fake.requests[1].messages[-1].content
    assert said.startswith(f"bad Verdict (no JSON object found in the reply; reply with one JSON object only); schema "
                           f"{schema}")


def test_the_shipped_reask_is_the_sentence_recorded_sessions_were_keyed_with() -> None:
    rendered = prompts.render("structured_reask", name="Plan", error="E", schema="{}")
    assert rendered == ("Your reply is not a valid Plan: E. Reply again with only one JSON object matching this JSON "
                        "schema (no prose, no code fence): {}")


@pytest.mark.parametrize("template", ["${names} wrong", "a lone $ sign"])
def test_a_reask_template_the_gateway_cannot_fill_is_refused_when_built(template: str) -> None:
    with pytest.raises(ValueError, match="re-ask template"):
        ModelGateway(settings(), reask=template)


def test_structured_output_gives_up_with_model_output_error() -> None:
    fake = ScriptedModel(["nope"] * 3)
    gateway = gateway_for(settings(models={"structured_retries": 2}), fake)
    with pytest.raises(ModelOutputError, match=r"no valid Verdict in 3 attempts: no JSON object found"):
        anyio.run(gateway.structured, "reviewer", USER, Verdict)
    assert fake.remaining == 0


# ------------------------------------------------------------------------------------------------- tool calls


@pytest.mark.parametrize(
    "content",
    ['{"name": "read_file", "arguments": {"path": "a.py"}}',
     'Let me look.\n```json\n{"tool": "read_file", "args": {"path": "a.py"}}\n```',
     '<tool_call>{"name": "read_file", "arguments": "{\\"path\\": \\"a.py\\"}"}</tool_call>'],
)
def test_tool_calls_written_as_text_become_tool_calls(content: str) -> None:
    gateway = gateway_for(settings(), ScriptedModel([content]))
    response = anyio.run(lambda: gateway.complete("coder", USER, tools=TOOLS))
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("read_file", {"path": "a.py"})]


def test_native_tool_calls_pass_through_and_unknown_names_are_not_calls() -> None:
    native = {"content": "", "tool_calls": [{"id": "t1", "name": "read_file", "arguments": {"path": "b"}}]}
    gateway = gateway_for(settings(), ScriptedModel([native, '{"name": "rm_rf", "arguments": {}}', TOOL_JSON]))
    first = anyio.run(lambda: gateway.complete("coder", USER, tools=TOOLS))
    assert first.tool_calls[0].id == "t1"
    assert anyio.run(lambda: gateway.complete("coder", USER, tools=TOOLS)).tool_calls == ()
    assert anyio.run(gateway.complete, "coder", USER).tool_calls == ()  # no tools offered: content stays content


TOOL_JSON = '{"name": "read_file", "arguments": {"path": "a.py"}}'


def test_supports_native_tools_follows_tool_mode_and_the_model() -> None:
    both: dict[Role, ChatModel] = {"planner": ScriptedModel([], native_tools=True), "coder": ScriptedModel([])}
    auto = gateway_for(settings(), both)
    assert (auto.supports_native_tools("planner"), auto.supports_native_tools("coder")) == (True, False)
    forced = gateway_for(settings(models={"tool_mode": "structured"}), both)
    assert not forced.supports_native_tools("planner")
    assert gateway_for(settings(models={"tool_mode": "native"}), both).supports_native_tools("coder")


# ---------------------------------------------------------------------------------------------- usage, budget


def test_usage_is_counted_per_role_and_reported_per_call() -> None:
    seen: list[tuple[Role, str, Usage]] = []
    fake = ScriptedModel(["one two three", "four"], name="fake")
    gateway = gateway_for(settings(), fake, on_usage=lambda *a: seen.append(a))
    anyio.run(gateway.complete, "coder", USER)
    anyio.run(gateway.complete, "coder", USER)
    assert gateway.usage["coder"] == Usage(prompt_tokens=4, completion_tokens=4)
    assert seen == [("coder", "fake", Usage(prompt_tokens=2, completion_tokens=3)),
                    ("coder", "fake", Usage(prompt_tokens=2, completion_tokens=1))]
    assert "planner" not in gateway.usage


def test_budget_stops_calls_once_the_cost_reaches_it() -> None:
    fake = ScriptedModel(["a b c"] * 5, cost_per_token=0.01)  # 5 tokens a call = $0.05
    gateway = gateway_for(settings(budget_usd=0.1), fake)
    anyio.run(gateway.complete, "coder", USER)
    with pytest.raises(BudgetExceededError, match=r"\$0.10 is used up"):
        anyio.run(gateway.complete, "planner", USER)
    with pytest.raises(BudgetExceededError):
        anyio.run(gateway.complete, "coder", USER)
    assert len(fake.requests) == 2  # refused before the third call
    assert gateway.total_usage.cost_usd == pytest.approx(0.1)


def test_aclose_closes_models_that_hold_resources() -> None:
    class Closing(ScriptedModel):
        closed = 0

        async def aclose(self) -> None:
            Closing.closed += 1

    gateway = gateway_for(settings(), Closing(["x"]))
    anyio.run(gateway.complete, "coder", USER)
    anyio.run(gateway.aclose)
    anyio.run(gateway.aclose)
    assert Closing.closed == 1
