"""Real Pydantic AI agents on the local OpenAI-compatible server, traced by Pydantic AI's own
OpenTelemetry instrumentation as traceroot switches it on and reads it."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from openai import AsyncOpenAI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import traceroot
from traceroot import semconv, using_attributes
from traceroot.integrations.versions import satisfies

from ..conftest import Spans, parent_of, span_id
from ..integrations.conftest import API_KEY
from ..integrations.openai_server import OpenAIServer
from . import checks
from .conftest import framework

pydantic_ai = framework("pydantic_ai")

from pydantic_ai import Agent, ModelRetry  # noqa: E402
from pydantic_ai.models.instrumented import InstrumentationSettings  # noqa: E402
from pydantic_ai.models.openai import OpenAIChatModel  # noqa: E402
from pydantic_ai.providers.openai import OpenAIProvider  # noqa: E402

from traceroot.integrations.pydantic_ai.settings import format_version  # noqa: E402

FORMAT_6 = format_version() == 6
PROMPT = "What is the weather?"
ANSWER = "Sunny, and it is noon."


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["pydantic_ai", "openai"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture
def traced_alone(spans: Spans) -> Iterator[Spans]:
    """Pydantic AI traced, traceroot's OpenAI integration off."""
    traceroot.instrument(integrations=["pydantic_ai"])
    yield spans
    traceroot.uninstrument()


def weather_agent(server: OpenAIServer, *, weather: Any = None, instrument: Any = None) -> Any:
    """An agent with two tools on the ``two-tools`` model: it asks for ``get_weather``, then
    ``get_time``, then answers. ``weather``: what ``get_weather`` does instead of answering;
    ``instrument``: the agent's own instrumentation setting."""
    # A client of its own: Pydantic AI's shared HTTP client outlives a test's event loop.
    client = AsyncOpenAI(base_url=server.url, api_key=API_KEY)
    model = OpenAIChatModel("two-tools", provider=OpenAIProvider(openai_client=client))
    agent = Agent(model, name="weather_agent", retries=1)
    if instrument is not None:
        agent.instrument = instrument

    @agent.tool_plain
    def get_weather(city: str) -> str:
        if weather is not None:
            return str(weather(city))
        return f"sunny in {city}"

    @agent.tool_plain
    def get_time(city: str) -> str:
        return "noon"

    return agent


def attribute(span: ReadableSpan, key: str) -> Any:
    return (span.attributes or {}).get(key)


def assert_two_tool_run(
    finished: list[ReadableSpan], server: OpenAIServer, *, openai_on: bool, result: bool = True
) -> ReadableSpan:
    """The shape of one run of :func:`weather_agent`: returns its agent span."""
    root = checks.one_trace(finished)
    assert root.name == "weather_agent", checks.names(finished)
    assert checks.kind(root) == semconv.TYPE_AGENT
    assert attribute(root, semconv.SPAN_INPUT) == json.dumps(PROMPT)
    if result:
        assert json.loads(attribute(root, semconv.SPAN_OUTPUT)).strip() == ANSWER
    assert checks.of_kind(finished, semconv.TYPE_AGENT) == [root]

    tools = checks.of_kind(finished, semconv.TYPE_TOOL)
    assert [tool.name for tool in tools] == ["get_weather", "get_time"]
    weather, time = tools
    assert attribute(weather, semconv.GEN_AI_TOOL_NAME) == "get_weather"
    assert json.loads(attribute(weather, semconv.GEN_AI_TOOL_CALL_ARGUMENTS)) == {
        "city": "San Francisco"
    }
    assert attribute(weather, semconv.GEN_AI_TOOL_CALL_RESULT) == "sunny in San Francisco"
    assert attribute(time, semconv.GEN_AI_TOOL_CALL_RESULT) == "noon"
    for tool in tools:  # directly, or (older versions) under a "running tools" span
        assert root in checks.ancestors(tool, finished)

    model_requests = len(server.requests)
    assert model_requests == 3
    llm = checks.usage_once(finished, model_requests)
    chats = [span for span in finished if span.instrumentation_scope.name == "pydantic-ai"]
    chats = [span for span in chats if span.name == "chat two-tools"]
    assert len(chats) == model_requests, checks.names(finished)
    for chat in chats:
        assert parent_of(chat) == span_id(root)
    if openai_on:
        # traceroot's OpenAI span is the call's llm span, under Pydantic AI's request span,
        # which is a plain span that keeps its messages and repeats no usage.
        assert {parent_of(span) for span in llm} == {span_id(chat) for chat in chats}
        assert all(checks.kind(chat) == semconv.TYPE_SPAN for chat in chats)
        assert all(span.instrumentation_scope.name == "traceroot" for span in llm)
    else:
        assert llm == chats
    for chat in chats:
        assert attribute(chat, semconv.GEN_AI_INPUT_MESSAGES)
        assert attribute(chat, semconv.GEN_AI_OUTPUT_MESSAGES)
    last = json.loads(attribute(chats[-1], semconv.GEN_AI_INPUT_MESSAGES))
    # Tool results have role ``tool`` in the newest data format (6), where the version has it.
    tool = "tool" if FORMAT_6 else "user"
    assert [message["role"] for message in last] == ["user", "assistant", tool, "assistant", tool]
    assert llm[-1].attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    return root


def test_run_sync_two_tools(traced: Spans, openai_server: OpenAIServer) -> None:
    agent = weather_agent(openai_server)
    with using_attributes(session_id="pydai-s", user_id="ada"):
        result = agent.run_sync(PROMPT)
    assert result.output == ANSWER
    finished = traced.all()
    assert_two_tool_run(finished, openai_server, openai_on=True)
    checks.session_everywhere(finished, "pydai-s", "ada")


def test_async_run_two_tools(traced: Spans, openai_server: OpenAIServer) -> None:
    agent = weather_agent(openai_server)

    async def main() -> Any:
        with using_attributes(session_id="pydai-async", user_id="ada"):
            return await agent.run(PROMPT)

    assert asyncio.run(main()).output == ANSWER
    finished = traced.all()
    assert_two_tool_run(finished, openai_server, openai_on=True)
    checks.session_everywhere(finished, "pydai-async", "ada")


def test_run_stream_two_tools(traced: Spans, openai_server: OpenAIServer) -> None:
    agent = weather_agent(openai_server)

    async def main() -> str:
        with using_attributes(session_id="pydai-stream", user_id="ada"):
            async with agent.run_stream(PROMPT) as result:
                return "".join([chunk async for chunk in result.stream_text(delta=True)])

    assert asyncio.run(main()).strip() == ANSWER
    finished = traced.all()
    # Pydantic AI 1.0 records no final result for a streamed run.
    recorded = satisfies(pydantic_ai.__version__, ">=1.40")
    assert_two_tool_run(finished, openai_server, openai_on=True, result=recorded)
    checks.session_everywhere(finished, "pydai-stream", "ada")
    assert all(
        attribute(span, semconv.GEN_AI_REQUEST_STREAM) is True
        for span in checks.of_kind(finished, semconv.TYPE_LLM)
    )


def test_run_stream_left_early_ends_its_spans(traced: Spans, openai_server: OpenAIServer) -> None:
    from traceroot.trace_state import open_traces

    agent = weather_agent(openai_server)

    async def main() -> None:
        async with agent.run_stream(PROMPT) as result:
            async for _ in result.stream_text(delta=True):
                break

    asyncio.run(main())
    gc.collect()
    finished = traced.all()
    root = checks.one_trace(finished)
    assert root.name == "weather_agent"
    assert all(span.end_time is not None for span in finished)
    assert root.context.trace_id not in open_traces._traces
    assert checks.of_kind(finished, semconv.TYPE_LLM)


def test_without_the_openai_integration_the_request_span_is_the_llm_span(
    traced_alone: Spans, openai_server: OpenAIServer
) -> None:
    agent = weather_agent(openai_server)
    with using_attributes(session_id="pydai-alone"):
        assert agent.run_sync(PROMPT).output == ANSWER
    finished = traced_alone.all()
    assert_two_tool_run(finished, openai_server, openai_on=False)
    checks.session_everywhere(finished, "pydai-alone", None)
    for llm in checks.of_kind(finished, semconv.TYPE_LLM):
        assert attribute(llm, semconv.GEN_AI_REQUEST_MODEL) == "two-tools"
        assert attribute(llm, semconv.GEN_AI_PROVIDER_NAME) == "openai"
        assert attribute(llm, semconv.GEN_AI_USAGE_INPUT_TOKENS) == 9
        assert attribute(llm, semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS) == 1


def test_conversation_id_is_the_session_without_a_block(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    agent = weather_agent(openai_server)
    first = agent.run_sync(PROMPT)
    if not hasattr(first, "conversation_id"):
        pytest.skip(f"Pydantic AI {pydantic_ai.__version__} has no conversation id")
    conversation = first.conversation_id
    assert conversation
    checks.session_everywhere(traced.all(), conversation, None)

    # The next turn of the same conversation (its history) is the same session.
    traced.clear()
    agent.run_sync("And tomorrow?", message_history=first.all_messages())
    assert traced.all()
    checks.session_everywhere(traced.all(), conversation, None)

    # A block names the session: it wins over the conversation.
    traced.clear()
    with using_attributes(session_id="chosen"):
        agent.run_sync(PROMPT)
    checks.session_everywhere(traced.all(), "chosen", None)


def test_tool_exception_propagates_and_is_recorded_once(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    failure = RuntimeError("weather service down")

    def down(city: str) -> str:
        raise failure

    agent = weather_agent(openai_server, weather=down)
    with using_attributes(session_id="pydai-error"), pytest.raises(RuntimeError) as raised:
        agent.run_sync(PROMPT)
    assert raised.value is failure
    finished = traced.all()
    root = checks.one_trace(finished)
    assert root.name == "weather_agent"
    tool = traced.one("get_weather")
    assert checks.kind(tool) == semconv.TYPE_TOOL
    checks.error_once(finished, tool)
    assert root.status.status_code is StatusCode.ERROR
    checks.usage_once(finished, len(openai_server.requests))
    checks.session_everywhere(finished, "pydai-error", None)


def test_model_retry_is_recorded_once_and_the_run_goes_on(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    def retry(city: str) -> str:
        raise ModelRetry("try another city")

    agent = weather_agent(openai_server, weather=retry)
    assert agent.run_sync(PROMPT).output == ANSWER
    finished = traced.all()
    root = checks.one_trace(finished)
    assert root.status.status_code is not StatusCode.ERROR
    tool = traced.one("get_weather")
    checks.error_once(finished, tool)
    checks.usage_once(finished, len(openai_server.requests))


@pytest.mark.parametrize(
    "own_settings",
    [None, True, InstrumentationSettings(version=2)],
    ids=["traceroot's", "agent's own", "agent's own, data format 2"],
)
def test_content_off(
    traced: Spans, openai_server: OpenAIServer, settings_override: Any, own_settings: Any
) -> None:
    settings_override(capture_content=False)
    # An agent with Pydantic AI's own settings (content on) keeps none either, in the older
    # format too (messages in ``events``, tool calls in ``tool_arguments`` / ``tool_response``).
    agent = weather_agent(openai_server, instrument=own_settings)
    assert agent.run_sync(PROMPT).output == ANSWER
    finished = traced.all()
    traced.assert_no_content()
    for span in finished:
        attributes = span.attributes or {}
        for key in (
            semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
            semconv.GEN_AI_TOOL_CALL_RESULT,
            "pydantic_ai.all_messages",
            "final_result",
        ):
            assert key not in attributes, (span.name, key)
    # The shape stays: names, kinds and usage do not depend on content.
    assert [span.name for span in checks.of_kind(finished, semconv.TYPE_TOOL)] == [
        "get_weather",
        "get_time",
    ]
    checks.usage_once(finished, len(openai_server.requests))


def test_instrument_twice_and_uninstrument_restores(
    spans: Spans, openai_server: OpenAIServer
) -> None:
    traceroot.instrument(integrations=["pydantic_ai"])
    ours = Agent._instrument_default
    assert isinstance(ours, InstrumentationSettings)
    traceroot.instrument(integrations=["pydantic_ai"])
    assert Agent._instrument_default is ours
    traceroot.uninstrument()
    assert Agent._instrument_default is False
    assert weather_agent(openai_server).run_sync(PROMPT).output == ANSWER
    assert spans.all() == []


@pytest.mark.parametrize("mine", ["settings", True])
def test_an_instrumentation_default_the_app_set_before_is_kept(
    spans: Spans, openai_server: OpenAIServer, mine: Any
) -> None:
    """``logfire.instrument_pydantic_ai()`` or the app's own ``Agent.instrument_all``, before
    traceroot: its spans keep going where it configured (here the process's provider, which is
    traceroot's), and traceroot reads them."""
    if mine == "settings":
        mine = InstrumentationSettings(tracer_provider=None, include_content=False)
    Agent.instrument_all(mine)
    try:
        traceroot.instrument(integrations=["pydantic_ai"])
        assert Agent._instrument_default is mine
        assert weather_agent(openai_server).run_sync(PROMPT).output == ANSWER
        (run,) = checks.of_kind(spans.all(), semconv.TYPE_AGENT)
        assert run.name == "weather_agent"  # read by traceroot's reader
        traceroot.uninstrument()
        assert Agent._instrument_default is mine
        spans.clear()
        assert weather_agent(openai_server).run_sync(PROMPT).output == ANSWER
        # the app's spans still flow, no longer read by traceroot
        assert "weather_agent" not in [span.name for span in spans.all()]
        assert spans.all()
    finally:
        traceroot.uninstrument()
        Agent.instrument_all(False)


def test_an_instrumentation_default_the_app_set_after_is_kept(spans: Spans) -> None:
    mine = InstrumentationSettings(tracer_provider=None, include_content=False)
    traceroot.instrument(integrations=["pydantic_ai"])
    try:
        Agent.instrument_all(mine)
        traceroot.uninstrument()
        assert Agent._instrument_default is mine
    finally:
        traceroot.uninstrument()
        Agent.instrument_all(False)


def test_uninstrument_leaves_a_setting_the_app_made_since(spans: Spans) -> None:
    traceroot.instrument(integrations=["pydantic_ai"])
    try:
        Agent.instrument_all(False)
        traceroot.uninstrument()
        assert Agent._instrument_default is False
    finally:
        traceroot.uninstrument()
        Agent.instrument_all(False)


def test_status(spans: Spans) -> None:
    traceroot.instrument(integrations=["pydantic_ai"])
    try:
        (status,) = [s for s in traceroot.integrations_status() if s.name == "pydantic_ai"]
        assert str(status.state) == "active", status
        assert status.distribution == "pydantic-ai-slim"
        assert status.version == pydantic_ai.__version__
    finally:
        traceroot.uninstrument()


def test_internal_error_is_contained(
    traced: Spans, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.pydantic_ai import spans as readers

    monkeypatch.setenv("TRACEROOT_STRICT", "0")

    class Broken:
        def opened(self, span: Any) -> None:
            raise RuntimeError("broken at start")

    def broken_prompt(messages: object) -> Any:
        raise RuntimeError("broken at export")

    monkeypatch.setattr(readers, "open_traces", Broken())
    monkeypatch.setattr(readers, "_prompt", broken_prompt)
    assert weather_agent(openai_server).run_sync(PROMPT).output == ANSWER
    finished = traced.all()
    # The agent's span is exported as Pydantic AI wrote it; the rest reads as usual.
    root = checks.one_trace(finished)
    assert root.name == "invoke_agent weather_agent"
    assert checks.kind(root) == semconv.TYPE_AGENT
    checks.usage_once(finished, len(openai_server.requests))
