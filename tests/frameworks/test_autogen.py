"""A real AutoGen AssistantAgent with two tool rounds against the local OpenAI-compatible server:
AutoGen's own spans and traceroot's OpenAI spans, read as one trace."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

import traceroot
from traceroot import foreign, semconv
from traceroot.integrations.autogen import SCOPE, AutoGenIntegration

from ..conftest import Spans, parent_of, span_id
from ..integrations.conftest import API_KEY
from ..integrations.openai_server import OpenAIServer
from . import checks
from .conftest import framework

framework("autogen_agentchat")

from autogen_agentchat.agents import AssistantAgent  # noqa: E402
from autogen_core.tools import FunctionTool  # noqa: E402

MODEL_INFO: Any = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """The time in a city."""
    return f"noon in {city}"


def broken_weather(city: str) -> str:
    """The weather in a city."""
    raise RuntimeError(f"no weather station in {city}")


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["autogen", "openai"])
    yield spans
    traceroot.uninstrument()


def agent(server: OpenAIServer, weather: Any = get_weather) -> AssistantAgent:
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    client = OpenAIChatCompletionClient(
        model="two-tools", base_url=server.url, api_key=API_KEY, model_info=MODEL_INFO
    )
    tools = [FunctionTool(weather, description="The weather in a city.", name="get_weather")]
    return AssistantAgent(
        name="weather_agent",
        model_client=client,
        tools=[*tools, get_time],
        max_tool_iterations=3,
    )


def run(server: OpenAIServer, *, stream: bool = False, weather: Any = get_weather) -> Any:
    async def main() -> Any:
        assistant = agent(server, weather)
        try:
            if not stream:
                return await assistant.run(task="What is the weather in San Francisco?")
            task = "What is the weather in San Francisco?"
            return [item async for item in assistant.run_stream(task=task)][-1]
        finally:
            await assistant._model_client.close()

    with pytest.warns(UserWarning, match="model mismatch"):  # the server's dated model name
        return asyncio.run(main())


def model_requests(server: OpenAIServer) -> int:
    return sum(1 for request in server.requests if request.path.endswith("/chat/completions"))


def assert_two_tool_rounds(spans: list[ReadableSpan], server: OpenAIServer) -> ReadableSpan:
    root = checks.one_trace(spans)
    assert checks.names([root]) == ["weather_agent[agent]"]
    tools = checks.of_kind(spans, semconv.TYPE_TOOL)
    assert checks.names(tools) == ["get_weather[tool]", "get_time[tool]"]
    weather, clock = tools
    assert weather.attributes[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"city":"San Francisco"}'
    assert weather.attributes[semconv.GEN_AI_TOOL_CALL_RESULT] == '"sunny in San Francisco"'
    assert clock.attributes[semconv.GEN_AI_TOOL_CALL_RESULT] == '"noon in San Francisco"'
    assert weather.attributes[semconv.GEN_AI_TOOL_CALL_ID] == "call_weather_1"
    assert model_requests(server) == 3
    llm = checks.usage_once(spans, model_requests(server))
    for span in [*tools, *llm]:
        assert parent_of(span) == span_id(root), span.name
    assert {span.attributes[semconv.GEN_AI_REQUEST_MODEL] for span in llm} == {"two-tools"}
    assert semconv.GEN_AI_OUTPUT_MESSAGES in llm[-1].attributes
    return root


@pytest.mark.parametrize("stream", [False, True], ids=["run", "run_stream"])
def test_two_tool_rounds_are_one_trace(
    traced: Spans, openai_server: OpenAIServer, stream: bool
) -> None:
    with traceroot.using_attributes(session_id="autogen-s", user_id="ada"):
        result = run(openai_server, stream=stream)
    assert result.messages[-1].content == "Sunny, and it is noon."
    spans = traced.all()
    assert_two_tool_rounds(spans, openai_server)
    checks.session_everywhere(spans, "autogen-s", "ada")


def test_agent_built_inside_a_trace_is_no_agent_run(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    with traceroot.start_span("outer"):
        agent(openai_server)
    (built,) = [span for span in traced.all() if span.name != "outer"]
    assert checks.names([built]) == ["create_agent weather_agent[span]"]


def test_agent_built_outside_a_trace_makes_no_span(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    agent(openai_server)
    assert traced.all() == []


def test_tool_error_is_recorded_once(traced: Spans, openai_server: OpenAIServer) -> None:
    result = run(openai_server, weather=broken_weather)
    assert "no weather station" in str(result.messages[2].content)  # AutoGen tells the model
    spans = traced.all()
    checks.one_trace(spans)
    (failed,) = [span for span in spans if span.name == "get_weather"]
    checks.error_once(spans, failed)
    assert failed.attributes[semconv.ERROR_TYPE] == "RuntimeError"
    assert semconv.GEN_AI_TOOL_CALL_RESULT not in failed.attributes
    checks.usage_once(spans, model_requests(openai_server))


def test_spans_are_freed_without_the_cycle_collector(
    traced: Spans, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # traceroot's readers leave no reference cycle through AutoGen's live spans: once exported,
    # each is freed as soon as AutoGen lets go of it (memory stays flat over many runs).
    made: list[weakref.ref[Any]] = []
    read_at_start = foreign.start_readers[SCOPE]

    def reading(span: Any) -> None:
        made.append(weakref.ref(span))
        read_at_start(span)

    monkeypatch.setitem(foreign.start_readers, SCOPE, reading)
    run(openai_server)  # once, for what a first run sets up for good
    made.clear()
    gc.collect()
    gc.disable()
    try:
        run(openai_server)
        alive = [span.name for span in (ref() for ref in made) if span is not None]
    finally:
        gc.enable()
    assert len(made) == 3, len(made)  # the agent and its two tool calls
    assert alive == []


def test_content_off(traced: Spans, openai_server: OpenAIServer, settings_override: Any) -> None:
    settings_override(capture_content=False)
    run(openai_server)
    traced.assert_no_content()
    for span in traced.all():
        assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in span.attributes, span.name
        assert semconv.GEN_AI_TOOL_CALL_RESULT not in span.attributes, span.name
    assert checks.names(checks.of_kind(traced.all(), semconv.TYPE_TOOL)) == [
        "get_weather[tool]",
        "get_time[tool]",
    ]


def test_uninstrument_restores(spans: Spans, openai_server: OpenAIServer) -> None:
    from autogen_agentchat.agents import _base_chat_agent
    from autogen_core.tools import _function_tool

    run_before = _function_tool.FunctionTool.run
    create_before = _base_chat_agent.trace_create_agent_span
    traceroot.instrument(integrations=["autogen", "openai"])
    traceroot.instrument(integrations=["autogen", "openai"])  # idempotent
    assert _function_tool.FunctionTool.run is not run_before
    traceroot.uninstrument()
    assert _function_tool.FunctionTool.run is run_before
    assert _base_chat_agent.trace_create_agent_span is create_before
    run(openai_server)
    tools = [span for span in spans.all() if span.name.startswith("execute_tool ")]
    # AutoGen's own spans go on; traceroot adds nothing to them any more.
    assert [span.name for span in tools] == ["execute_tool get_weather", "execute_tool get_time"]
    assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in tools[0].attributes
    assert not [span for span in spans.all() if span.instrumentation_scope.name == "traceroot"]


def test_instrument_twice_patches_once(spans: Spans, openai_server: OpenAIServer) -> None:
    from autogen_core.tools import _function_tool

    original = _function_tool.FunctionTool.__dict__["run"]
    traceroot.instrument(integrations=["autogen", "openai"])
    traceroot.instrument(integrations=["autogen", "openai"])
    try:
        assert _function_tool.FunctionTool.__dict__["run"].__wrapped__ is original
        run(openai_server)
    finally:
        traceroot.uninstrument()
    assert _function_tool.FunctionTool.__dict__["run"] is original
    assert_two_tool_rounds(spans.all(), openai_server)  # one span per run, tool and model call


def test_status_is_active_with_nothing_more_to_install(traced: Spans) -> None:
    # AutoGen's telemetry is its own: no package to install, so never "telemetry package missing".
    (status,) = [s for s in traceroot.integrations_status() if s.name == "autogen"]
    assert (str(status.state), status.supported) == ("active", ">=0.7,<0.8"), status
    assert not hasattr(AutoGenIntegration(), "missing_telemetry")


def test_model_error_propagates(traced: Spans, openai_server: OpenAIServer) -> None:
    import openai
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    async def main() -> None:
        client = OpenAIChatCompletionClient(
            model="error-500",
            base_url=openai_server.url,
            api_key=API_KEY,
            model_info=MODEL_INFO,
            max_retries=0,
        )
        try:
            await AssistantAgent(name="failing_agent", model_client=client).run(task="hi")
        finally:
            await client.close()

    with pytest.raises(openai.InternalServerError):
        asyncio.run(main())
    root = checks.one_trace(traced.all())
    assert checks.names([root]) == ["failing_agent[agent]"]
    assert str(root.status.status_code) == "StatusCode.ERROR"
    assert len([event for event in root.events if event.name == "exception"]) == 1


def test_internal_error_is_contained(
    traced: Spans, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot import genai

    def broken(*args: Any) -> None:
        raise ValueError("traceroot bug")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(genai, "set_content", broken)
    result = run(openai_server)
    assert result.messages[-1].content == "Sunny, and it is noon."
    assert len(checks.of_kind(traced.all(), semconv.TYPE_TOOL)) == 2
