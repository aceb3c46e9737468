"""The OpenAI Agents SDK integration, with real agents against the local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from .conftest import framework

agents = framework("agents")

import openai  # noqa: E402
from agents import (  # noqa: E402  (after the skip above)
    Agent,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    ModelSettings,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    function_tool,
    input_guardrail,
)
from agents.tracing import processors as sdk_processors  # noqa: E402
from agents.tracing import setup as sdk_setup  # noqa: E402

import traceroot  # noqa: E402
from traceroot import semconv  # noqa: E402
from traceroot.integrations.openai_agents import registration  # noqa: E402
from traceroot.trace_state import open_traces  # noqa: E402

from ..conftest import Spans, parent_of, span_id  # noqa: E402
from ..integrations.conftest import API_KEY  # noqa: E402
from ..integrations.openai_server import OpenAIServer  # noqa: E402
from . import checks  # noqa: E402

WEATHER = "Weather agent"


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@function_tool
def get_time(city: str) -> str:
    """The time in a city."""
    return "noon"


@function_tool(name_override="get_time")
def get_time_broken(city: str) -> str:
    """The time in a city (broken)."""
    raise RuntimeError("clock is broken")


def _raise(city: str) -> str:
    """The time in a city (broken)."""
    raise RuntimeError("clock is broken")


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["openai_agents", "openai"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture
def client(openai_server: OpenAIServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=API_KEY, base_url=openai_server.url, max_retries=0)


def weather_agent(client: openai.AsyncOpenAI, *, chat: bool = False, **options: Any) -> Any:
    model: Any = (
        OpenAIChatCompletionsModel("two-tools", client)
        if chat
        else OpenAIResponsesModel("two-tools", client)
    )
    tools = options.pop("tools", [get_weather, get_time])
    return Agent(name=WEATHER, instructions="Answer.", tools=tools, model=model, **options)


def assert_agent_run(spans: list[Any], model_requests: int) -> Any:
    """One trace: the workflow root, the agent span named after the agent, two tool spans and
    one llm span per model request under it, usage once per request."""
    root = checks.one_trace(spans)
    assert root.name == "Agent workflow", checks.names(spans)
    (agent,) = [span for span in spans if span.name == WEATHER]
    assert checks.kind(agent) == semconv.TYPE_AGENT
    assert agent.attributes[semconv.GEN_AI_OPERATION_NAME] == semconv.OPERATION_INVOKE_AGENT
    assert agent.attributes[semconv.GEN_AI_AGENT_NAME] == WEATHER
    assert parent_of(agent) == span_id(root)
    tools = checks.of_kind(spans, semconv.TYPE_TOOL)
    assert [tool.name for tool in tools] == ["get_weather", "get_time"]
    for tool in tools:
        assert agent in checks.ancestors(tool, spans)
        assert tool.attributes[semconv.GEN_AI_TOOL_NAME] == tool.name
        assert json.loads(tool.attributes[semconv.GEN_AI_TOOL_CALL_ARGUMENTS]) == {
            "city": "San Francisco"
        }
    assert json.loads(tools[0].attributes[semconv.GEN_AI_TOOL_CALL_RESULT]) == (
        "sunny in San Francisco"
    )
    llm = checks.usage_once(spans, model_requests)
    for span in llm:
        assert agent in checks.ancestors(span, spans)
        assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "two-tools"
        assert semconv.GEN_AI_INPUT_MESSAGES in span.attributes
    return agent


def model_spans_of_the_sdk(spans: list[Any]) -> list[Any]:
    """The SDK's response/generation spans: each encloses the OpenAI integration's llm span of
    its request, and is a plain span keeping its messages, without usage."""
    found = [
        span
        for span in spans
        if checks.kind(span) == semconv.TYPE_SPAN
        and span.attributes.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OPERATION_CHAT
    ]
    by_parent = {parent_of(span) for span in checks.of_kind(spans, semconv.TYPE_LLM)}
    for span in found:
        assert span_id(span) in by_parent, span.name
        assert semconv.GEN_AI_OUTPUT_MESSAGES in span.attributes
    return found


# -- Runs ------------------------------------------------------------------------------------------
def test_sync_run_over_the_responses_api(
    traced: Spans, client: openai.AsyncOpenAI, openai_server: OpenAIServer
) -> None:
    with traceroot.using_attributes(session_id="s-1", user_id="u-1"):
        result = Runner.run_sync(weather_agent(client), "Weather in SF?")
    assert result.final_output == "Sunny, and it is noon."
    spans = traced.all()
    assert len(openai_server.requests) == 3
    assert_agent_run(spans, 3)
    assert len(model_spans_of_the_sdk(spans)) == 3
    checks.session_everywhere(spans, "s-1", "u-1")
    assert not trace.get_current_span().get_span_context().is_valid


def test_async_run_over_chat_completions(
    traced: Spans, client: openai.AsyncOpenAI, openai_server: OpenAIServer
) -> None:
    async def run() -> Any:
        with traceroot.using_attributes(session_id="s-2", user_id="u-2"):
            return await Runner.run(weather_agent(client, chat=True), "Weather in SF?")

    result = asyncio.run(run())
    assert result.final_output == "Sunny, and it is noon."
    assert not trace.get_current_span().get_span_context().is_valid
    spans = traced.all()
    assert all(r.path.endswith("/chat/completions") for r in openai_server.requests)
    assert_agent_run(spans, len(openai_server.requests))
    sdk_spans = model_spans_of_the_sdk(spans)
    assert [span.name for span in sdk_spans] == ["chat two-tools"] * 3
    checks.session_everywhere(spans, "s-2", "u-2")


@pytest.mark.parametrize("chat", [False, True], ids=["responses", "chat"])
def test_streamed_run(
    traced: Spans, client: openai.AsyncOpenAI, openai_server: OpenAIServer, chat: bool
) -> None:
    settings = ModelSettings(include_usage=True)

    async def run() -> Any:
        with traceroot.using_attributes(session_id="s-3", user_id="u-3"):
            result = Runner.run_streamed(
                weather_agent(client, chat=chat, model_settings=settings), "Weather in SF?"
            )
            async for _ in result.stream_events():
                pass
            # Every span the run made current is detached again, in the caller's task too.
            assert not trace.get_current_span().get_span_context().is_valid
            return result

    result = asyncio.run(run())
    assert "noon" in result.final_output
    spans = traced.all()
    assert len(openai_server.requests) == 3
    assert all(r.body.get("stream") for r in openai_server.requests)
    assert_agent_run(spans, 3)
    assert len(model_spans_of_the_sdk(spans)) == 3
    checks.session_everywhere(spans, "s-3", "u-3")


@pytest.mark.parametrize("how", ["cancel", "drop"])
def test_a_streamed_run_left_unread_leaves_no_span_open(
    traced: Spans, client: openai.AsyncOpenAI, how: str
) -> None:
    async def run() -> None:
        result = Runner.run_streamed(weather_agent(client), "Weather in SF?")
        async for event in result.stream_events():
            if event.type == "raw_response_event":
                break  # inside the first model call
        if how == "cancel":
            result.cancel()
        del result
        gc.collect()
        await asyncio.sleep(0.2)

    asyncio.run(run())
    gc.collect()
    finished = traced.all()
    root = checks.one_trace(finished)
    assert root.name == "Agent workflow"
    assert root.context.trace_id not in open_traces._traces
    assert not registration.processor()._open


def test_spans_of_runs_abandoned_past_the_limit_are_ended_marked(
    traced: Spans, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.tracing import custom_span, task_span
    from agents.tracing import trace as sdk_trace

    from traceroot.integrations.openai_agents import processor

    monkeypatch.setattr(processor, "_MAX_OPEN", 2)
    monkeypatch.setattr(processor, "_MAX_FOLDED", 2)

    def abandon() -> None:  # in a context of its own, as a run's task would be
        run = sdk_trace("abandoned run")
        run.start()
        custom_span("step", parent=run).start()
        for _ in range(3):
            task_span("task", parent=run).start()

    contextvars.copy_context().run(abandon)
    assert traced.all() == []
    with sdk_trace("next run"), custom_span("work"):
        pass
    ended = {span.name: span for span in traced.all()}
    assert set(ended) == {"abandoned run", "step", "next run", "work"}
    for name in ("abandoned run", "step"):
        assert ended[name].attributes[semconv.ABANDONED] is True
        assert ended[name].status.status_code is StatusCode.UNSET
    assert semconv.ABANDONED not in ended["work"].attributes
    assert ended["abandoned run"].context.trace_id not in open_traces._traces
    assert len(registration.processor()._folded) <= 2
    assert not registration.processor()._open
    registration.processor().forget()


def test_without_the_openai_integration_the_sdk_span_is_the_llm_span(
    spans: Spans, client: openai.AsyncOpenAI, openai_server: OpenAIServer
) -> None:
    traceroot.instrument(integrations=["openai_agents"])
    try:
        Runner.run_sync(weather_agent(client), "Weather in SF?")
    finally:
        traceroot.uninstrument()
    found = spans.all()
    llm = checks.usage_once(found, len(openai_server.requests))
    last = llm[-1]
    assert last.name == "chat two-tools-2026"
    assert last.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert last.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    output = json.loads(last.attributes[semconv.GEN_AI_OUTPUT_MESSAGES])
    assert output[0]["parts"] == [{"type": "text", "content": "Sunny, and it is noon."}]
    inputs = json.loads(last.attributes[semconv.GEN_AI_INPUT_MESSAGES])
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool", "assistant", "tool"]


# -- Handoffs, guardrails, errors ------------------------------------------------------------------
def test_handoff_between_two_agents(traced: Spans, client: openai.AsyncOpenAI) -> None:
    # The triage agent's model (tool-model) asks for "get_weather": here the handoff tool's name.
    specialist = Agent(
        name="Specialist", instructions="Answer.", model=OpenAIResponsesModel("echo", client)
    )
    triage = Agent(
        name="Triage",
        instructions="Route.",
        handoffs=[agents.handoff(specialist, tool_name_override="get_weather")],
        model=OpenAIResponsesModel("tool-model", client),
    )
    result = Runner.run_sync(triage, "Weather in SF?")
    assert result.last_agent is specialist
    found = traced.all()
    root = checks.one_trace(found)
    triage_span, specialist_span = traced.one("Triage"), traced.one("Specialist")
    assert checks.kind(triage_span) == checks.kind(specialist_span) == semconv.TYPE_AGENT
    handoff = traced.one("handoff Triage -> Specialist")
    assert triage_span in checks.ancestors(handoff, found)
    assert parent_of(specialist_span) == span_id(root)
    checks.usage_once(found, 2)


def test_guardrail_is_a_span_saying_whether_it_tripped(
    traced: Spans, client: openai.AsyncOpenAI
) -> None:
    # Blocking: a guardrail run beside the model lets the SDK's tool round go on after the run
    # raised, and its spans end after the test.
    @input_guardrail(run_in_parallel=False)
    def no_weather(context: Any, agent: Any, text: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info="weather", tripwire_triggered=True)

    agent = weather_agent(client, input_guardrails=[no_weather])
    with pytest.raises(InputGuardrailTripwireTriggered):
        Runner.run_sync(agent, "Weather in SF?")
    found = traced.all()
    checks.one_trace(found)
    guardrail = traced.one("no_weather")
    assert guardrail.attributes[semconv.GUARDRAIL_TRIGGERED] is True
    assert traced.one(WEATHER) in checks.ancestors(guardrail, found)


def test_a_tool_that_raises_is_recorded_once(
    traced: Spans, client: openai.AsyncOpenAI, openai_server: OpenAIServer
) -> None:
    agent = weather_agent(client, tools=[get_weather, get_time_broken])
    result = Runner.run_sync(agent, "Weather in SF?")
    assert result.final_output == "Sunny, and it is noon."  # the model got the error as a result
    found = traced.all()
    broken = [span for span in checks.of_kind(found, semconv.TYPE_TOOL) if span.name == "get_time"]
    assert len(broken) == 1
    checks.error_once(found, broken[0])
    assert broken[0].status.description.startswith("Error running tool")
    assert traced.one("get_weather").status.status_code is StatusCode.UNSET
    checks.usage_once(found, len(openai_server.requests))


def test_a_tool_error_that_ends_the_run_propagates_unchanged(
    traced: Spans, client: openai.AsyncOpenAI
) -> None:
    raising = function_tool(_raise, failure_error_function=None, name_override="get_time")
    agent = weather_agent(client, tools=[get_weather, raising])
    # The SDK wraps the tool's exception in its own; what the user sees is the SDK's, unchanged.
    with pytest.raises(agents.UserError, match="clock is broken") as raised:
        Runner.run_sync(agent, "Weather in SF?")
    assert isinstance(raised.value.__cause__, RuntimeError)
    found = traced.all()
    checks.one_trace(found)
    (tool,) = [span for span in found if span.name == "get_time"]
    checks.error_once(found, tool)


# -- Sessions, content, exporting ------------------------------------------------------------------
def test_group_id_is_the_session_without_a_block(traced: Spans, client: openai.AsyncOpenAI) -> None:
    config = RunConfig(group_id="conversation-7", workflow_name="Forecast")
    Runner.run_sync(weather_agent(client), "Weather in SF?", run_config=config)
    found = traced.all()
    assert checks.one_trace(found).name == "Forecast"
    checks.session_everywhere(found, "conversation-7", None)


def test_a_block_wins_over_group_id(traced: Spans, client: openai.AsyncOpenAI) -> None:
    config = RunConfig(group_id="conversation-7")
    with traceroot.using_attributes(session_id="mine"):
        Runner.run_sync(weather_agent(client), "Weather in SF?", run_config=config)
    checks.session_everywhere(traced.all(), "mine", None)


def test_content_off(traced: Spans, client: openai.AsyncOpenAI, settings_override: Any) -> None:
    settings_override(capture_content=False)
    Runner.run_sync(weather_agent(client), "Weather in SF?")
    traced.assert_no_content()
    for tool in checks.of_kind(traced.all(), semconv.TYPE_TOOL):
        assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in tool.attributes
        assert semconv.GEN_AI_TOOL_CALL_RESULT not in tool.attributes


def test_nothing_goes_to_openai(
    traced: Spans, client: openai.AsyncOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = sdk_setup.GLOBAL_TRACE_PROVIDER
    processors = registration.registered(provider)
    assert processors == [registration.processor()]
    assert sdk_processors._global_processor not in processors
    uploads: list[Any] = []
    monkeypatch.setattr(sdk_processors.BackendSpanExporter, "export", uploads.append)
    Runner.run_sync(weather_agent(client), "Weather in SF?")
    # The SDK's exporting processor, had it been given the spans, would upload them now.
    sdk_processors.default_processor().force_flush()
    assert uploads == []
    assert traced.all()


def test_runs_nest_under_the_callers_span(traced: Spans, client: openai.AsyncOpenAI) -> None:
    @traceroot.observe(name="handle request")
    def handle() -> Any:
        return Runner.run_sync(weather_agent(client), "Weather in SF?")

    handle()
    found = traced.all()
    root = checks.one_trace(found)
    assert root.name == "handle request"
    assert parent_of(traced.one("Agent workflow")) == span_id(root)


def test_an_internal_error_leaves_the_run_alone(
    traced: Spans, client: openai.AsyncOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.openai_agents import convert

    def broken(data: Any) -> Any:
        raise ValueError("traceroot bug")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(convert, "at_end", broken)
    result = Runner.run_sync(weather_agent(client), "Weather in SF?")
    assert result.final_output == "Sunny, and it is noon."
    found = traced.all()
    checks.one_trace(found)
    assert [tool.name for tool in checks.of_kind(found, semconv.TYPE_TOOL)] == [
        "get_weather",
        "get_time",
    ]


def test_uninstrument_restores_the_processors(spans: Spans, client: openai.AsyncOpenAI) -> None:
    provider = agents.tracing.get_trace_provider()
    before = registration.registered(provider)
    traceroot.instrument(integrations=["openai_agents"])
    traceroot.instrument(integrations=["openai_agents"])  # twice: once
    assert registration.registered(provider).count(registration.processor()) == 1
    traceroot.uninstrument()
    assert registration.registered(provider) == before
    Runner.run_sync(weather_agent(client), "Weather in SF?")
    assert spans.all() == []


def test_processors_the_user_set_are_kept(spans: Spans) -> None:
    provider = agents.tracing.get_trace_provider()
    before = registration.registered(provider)
    theirs = sdk_processors.BatchTraceProcessor(sdk_processors.ConsoleSpanExporter())
    agents.add_trace_processor(theirs)
    try:
        traceroot.instrument(integrations=["openai_agents"])
        kept = registration.registered(provider)
        assert kept == [*before, theirs, registration.processor()]
        # set_trace_processors after instrument() keeps traceroot's processor in.
        agents.set_trace_processors([theirs])
        assert registration.registered(provider) == [theirs, registration.processor()]
        traceroot.uninstrument()
        assert registration.registered(provider) == [theirs]
    finally:
        traceroot.uninstrument()
        agents.set_trace_processors(before)


def test_status_names_the_integration_active(traced: Spans) -> None:
    (status,) = [s for s in traceroot.integrations_status() if s.name == "openai_agents"]
    assert str(status.state) == "active", status
