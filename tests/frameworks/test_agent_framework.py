"""Microsoft Agent Framework: its own telemetry, switched on against the test's provider."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .conftest import framework

agent_framework = framework("agent_framework")

from agent_framework import Agent, AgentSession  # noqa: E402
from agent_framework.observability import OBSERVABILITY_SETTINGS  # noqa: E402
from agent_framework.openai import (  # noqa: E402
    OpenAIChatClient,
    OpenAIChatCompletionClient,
)

import traceroot  # noqa: E402 - after the skip
from traceroot import foreign, semconv  # noqa: E402
from traceroot.integrations.agent_framework import readers  # noqa: E402

from ..conftest import Spans, parent_of, span_id  # noqa: E402
from ..integrations.conftest import API_KEY  # noqa: E402
from ..integrations.openai_server import OpenAIServer  # noqa: E402
from . import checks  # noqa: E402

AGENT = "weather_agent"


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """The time in a city."""
    return "noon"


def _failing_get_time() -> Callable[[str], str]:
    def get_time(city: str) -> str:
        """The time in a city, failing."""
        raise ValueError("clock broke")

    return get_time


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["agent_framework", "openai"])
    yield spans
    traceroot.uninstrument()


def _agent(
    server: OpenAIServer, *, responses: bool = False, time_tool: Callable[[str], str] = get_time
) -> Agent:
    client: Any
    if responses:  # the Responses API, stateless so the local server sees every tool result
        client = OpenAIChatClient(model="two-tools", api_key=API_KEY, base_url=server.url)
    else:
        client = OpenAIChatCompletionClient(model="two-tools", api_key=API_KEY, base_url=server.url)
    return Agent(
        client=client,
        name=AGENT,
        instructions="Answer briefly.",
        tools=[get_weather, time_tool],
        default_options={"store": False} if responses else None,
    )


def _run(agent: Agent, *, stream: bool = False, session: AgentSession | None = None) -> str:
    async def run() -> str:
        if stream:
            texts = [
                update.text async for update in agent.run("Weather?", stream=True, session=session)
            ]
            return "".join(texts)
        return (await agent.run("Weather?", session=session)).text

    return asyncio.run(run())


def _model_requests(server: OpenAIServer) -> int:
    return sum(
        1 for request in server.requests if request.path.endswith(("/completions", "/responses"))
    )


def _assert_shape(spans: Spans, server: OpenAIServer) -> None:
    finished = spans.all()
    root = checks.one_trace(finished)
    assert root.name == f"invoke_agent {AGENT}"
    assert checks.kind(root) == semconv.TYPE_AGENT
    tools = checks.of_kind(finished, semconv.TYPE_TOOL)
    assert [tool.name for tool in tools] == ["execute_tool get_weather", "execute_tool get_time"]
    weather = tools[0].attributes or {}
    assert weather[semconv.GEN_AI_TOOL_NAME] == "get_weather"
    assert "San Francisco" in str(weather[semconv.GEN_AI_TOOL_CALL_ARGUMENTS])
    assert weather[semconv.GEN_AI_TOOL_CALL_RESULT] == "sunny in San Francisco"
    calls = _model_requests(server)
    assert calls == 3
    llm = checks.usage_once(finished, calls)
    # The llm spans are traceroot's OpenAI spans, each under Agent Framework's chat span, now a
    # plain span without usage; tools and model calls all under the agent span.
    for span in llm:
        assert span.instrumentation_scope is not None
        assert span.instrumentation_scope.name == "traceroot"
        (chat, *_) = checks.ancestors(span, finished)
        assert chat.name == "chat two-tools"
        assert checks.kind(chat) == semconv.TYPE_SPAN
        assert parent_of(chat) == span_id(root)
    for tool in tools:
        assert parent_of(tool) == span_id(root)
    last = llm[-1].attributes or {}
    assert "noon" in str(last[semconv.GEN_AI_OUTPUT_MESSAGES])


# Responses streaming is left out: the local server streams a function call as one
# ``output_item.done`` event, without the ``output_item.added`` and argument deltas Agent
# Framework builds calls from (the OpenAI API sends both).
@pytest.mark.parametrize(
    ("responses", "stream"),
    [(False, False), (False, True), (True, False)],
    ids=["chat_completions-run", "chat_completions-run_stream", "responses-run"],
)
def test_agent_with_two_tools_is_one_trace(
    traced: Spans, openai_server: OpenAIServer, stream: bool, responses: bool
) -> None:
    with traceroot.using_attributes(session_id="s-1", user_id="u-1"):
        answer = _run(_agent(openai_server, responses=responses), stream=stream)
    assert "noon" in answer
    _assert_shape(traced, openai_server)
    checks.session_everywhere(traced.all(), "s-1", "u-1")


def test_conversation_id_is_the_session_without_a_block(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    _run(_agent(openai_server), session=AgentSession(service_session_id="conv-42"))
    checks.session_everywhere(traced.all(), "conv-42", None)


def test_a_block_wins_over_the_conversation_id(traced: Spans, openai_server: OpenAIServer) -> None:
    with traceroot.using_attributes(session_id="s-2"):
        _run(_agent(openai_server), session=AgentSession(service_session_id="conv-42"))
    checks.session_everywhere(traced.all(), "s-2", None)


def test_tool_error_recorded_once(traced: Spans, openai_server: OpenAIServer) -> None:
    answer = _run(_agent(openai_server, time_tool=_failing_get_time()))
    assert answer  # Agent Framework hands the error to the model, which answers anyway
    finished = traced.all()
    (failed,) = traced.named("execute_tool get_time")
    checks.error_once(finished, failed)
    assert checks.of_kind(finished, semconv.TYPE_TOOL)[0].status.is_ok
    assert (failed.attributes or {})[semconv.ERROR_TYPE] == "ValueError"


def test_content_off(
    settings_override: Callable[..., None], spans: Spans, openai_server: OpenAIServer
) -> None:
    settings_override(capture_content=False)
    traceroot.instrument(integrations=["agent_framework", "openai"])
    try:
        assert OBSERVABILITY_SETTINGS.enable_sensitive_data is False
        _run(_agent(openai_server))
    finally:
        traceroot.uninstrument()
    finished = spans.all()
    checks.usage_once(finished, _model_requests(openai_server))
    spans.assert_no_content()
    for span in checks.of_kind(finished, semconv.TYPE_TOOL):
        assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in (span.attributes or {})
        assert semconv.GEN_AI_TOOL_CALL_RESULT not in (span.attributes or {})


def test_model_span_is_the_llm_span_without_openai_integration(
    spans: Spans, openai_server: OpenAIServer
) -> None:
    traceroot.instrument(integrations=["agent_framework"])
    try:
        _run(_agent(openai_server))
    finally:
        traceroot.uninstrument()
    finished = spans.all()
    llm = checks.usage_once(finished, _model_requests(openai_server))
    assert {span.name for span in llm} == {"chat two-tools"}


def test_uninstrument_restores(spans: Spans, openai_server: OpenAIServer) -> None:
    before = (
        OBSERVABILITY_SETTINGS.enable_instrumentation,
        OBSERVABILITY_SETTINGS.enable_sensitive_data,
    )
    OBSERVABILITY_SETTINGS.enable_instrumentation = False  # an app that had it off
    OBSERVABILITY_SETTINGS.enable_sensitive_data = False
    try:
        traceroot.instrument(integrations=["agent_framework", "openai"])
        traceroot.instrument(integrations=["agent_framework", "openai"])  # idempotent
        assert OBSERVABILITY_SETTINGS.enable_instrumentation is True
        assert OBSERVABILITY_SETTINGS.enable_sensitive_data is True
        assert readers.SCOPE in foreign.start_readers
        _run(_agent(openai_server))
        assert spans.named(f"invoke_agent {AGENT}")
        traceroot.uninstrument()
        assert OBSERVABILITY_SETTINGS.enable_instrumentation is False
        assert OBSERVABILITY_SETTINGS.enable_sensitive_data is False
        assert readers.SCOPE not in foreign.start_readers
        assert readers.SCOPE not in foreign.export_readers
        spans.clear()
        assert "noon" in _run(_agent(openai_server))
        assert spans.all() == []
    finally:
        traceroot.uninstrument()
        (
            OBSERVABILITY_SETTINGS.enable_instrumentation,
            OBSERVABILITY_SETTINGS.enable_sensitive_data,
        ) = before


def test_user_exception_propagates(traced: Spans, openai_server: OpenAIServer) -> None:
    client = OpenAIChatCompletionClient(
        model="error-500", api_key=API_KEY, base_url=openai_server.url
    )
    agent = Agent(client=client, name=AGENT, tools=[get_weather])
    with pytest.raises(Exception) as raised:
        asyncio.run(agent.run("Weather?"))
    assert "500" in str(raised.value)
    (root,) = traced.named(f"invoke_agent {AGENT}")
    assert root.status.status_code.name == "ERROR"


def test_instrument_twice_makes_one_span_per_call(
    spans: Spans, openai_server: OpenAIServer
) -> None:
    before = OBSERVABILITY_SETTINGS.enable_instrumentation
    OBSERVABILITY_SETTINGS.enable_instrumentation = False  # an app that had it off
    try:
        traceroot.instrument(integrations=["agent_framework", "openai"])
        traceroot.instrument(integrations=["agent_framework", "openai"])
        with traceroot.using_attributes(session_id="s-1"):
            assert "noon" in _run(_agent(openai_server))
        traceroot.uninstrument()
        # The app's setting saved once, by the first instrument(), so put back as it was.
        assert OBSERVABILITY_SETTINGS.enable_instrumentation is False
    finally:
        traceroot.uninstrument()
        OBSERVABILITY_SETTINGS.enable_instrumentation = before
    _assert_shape(spans, openai_server)  # one agent, two tool and three model spans
    checks.session_everywhere(spans.all(), "s-1", None)


def test_internal_error_is_contained(
    traced: Spans, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise ValueError("traceroot bug")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")  # contained and logged, as in an app
    monkeypatch.setattr(readers, "_conversation_above", broken)  # the start reader fails
    monkeypatch.setattr(readers, "current_settings", broken)  # and so does the export reader
    answer = _run(_agent(openai_server), session=AgentSession(service_session_id="conv-42"))
    assert "noon" in answer  # the run goes on, its answer unchanged
    finished = traced.all()
    root = checks.one_trace(finished)
    assert root.name == f"invoke_agent {AGENT}"
    tools = checks.of_kind(finished, semconv.TYPE_TOOL)
    assert [tool.name for tool in tools] == ["execute_tool get_weather", "execute_tool get_time"]
    checks.usage_once(finished, _model_requests(openai_server))


def test_status_is_active(traced: Spans) -> None:
    (status,) = [s for s in traceroot.integrations_status() if s.name == "agent_framework"]
    assert status.state.value == "active"
    assert status.distribution == "agent-framework-core"
