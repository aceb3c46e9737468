"""A real Google ADK agent (LiteLlm on the local OpenAI-compatible server) with two tool rounds,
run by a Runner with an in-memory session: ADK's own spans and traceroot's OpenAI spans, read as
one trace."""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

import traceroot
from traceroot import foreign, semconv
from traceroot.integrations.google_adk import SCOPE, GoogleADKIntegration

from ..conftest import Spans, parent_of, run_script, span_id
from ..integrations.conftest import API_KEY
from ..integrations.openai_server import OpenAIServer
from . import checks
from .conftest import framework

framework("google.adk")
# LiteLLM fetches its model price list from GitHub when imported, unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from google.adk.agents import LlmAgent  # noqa: E402
from google.adk.agents.run_config import RunConfig  # noqa: E402
from google.adk.models.lite_llm import LiteLlm  # noqa: E402
from google.adk.runners import Runner  # noqa: E402
from google.adk.sessions import InMemorySessionService  # noqa: E402
from google.genai import types  # noqa: E402

APP = "weather_app"


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """The time in a city."""
    return f"noon in {city}"


class StationDownError(RuntimeError):
    pass


def broken_weather(city: str) -> str:
    """The weather in a city."""
    raise StationDownError(f"no weather station in {city}")


broken_weather.__name__ = "get_weather"


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["google_adk", "openai"])
    yield spans
    traceroot.uninstrument()


def run(
    server: OpenAIServer,
    *,
    weather: Any = get_weather,
    run_config: RunConfig | None = None,
    session: str = "adk-session",
    user: str = "adk-user",
) -> list[Any]:
    model = LiteLlm(model="openai/two-tools", api_base=server.url, api_key=API_KEY)
    agent = LlmAgent(
        name="weather_agent", model=model, tools=[weather, get_time], instruction="Be brief."
    )
    sessions = InMemorySessionService()
    runner = Runner(agent=agent, app_name=APP, session_service=sessions)

    async def main() -> list[Any]:
        await sessions.create_session(app_name=APP, user_id=user, session_id=session)
        message = types.Content(role="user", parts=[types.Part(text="Weather in San Francisco?")])
        events = runner.run_async(
            user_id=user, session_id=session, new_message=message, run_config=run_config
        )
        return [event async for event in events]

    return asyncio.run(main())


def model_requests(server: OpenAIServer) -> int:
    return sum(1 for request in server.requests if request.path.endswith("/chat/completions"))


def assert_two_tool_rounds(spans: list[ReadableSpan], server: OpenAIServer) -> None:
    root = checks.one_trace(spans)
    assert checks.names([root]) == ["invoke_workflow weather_agent[span]"]
    (agent,) = checks.of_kind(spans, semconv.TYPE_AGENT)
    assert checks.names([agent]) == ["weather_agent[agent]"]
    assert parent_of(agent) == span_id(root)
    tools = checks.of_kind(spans, semconv.TYPE_TOOL)
    assert checks.names(tools) == ["get_weather[tool]", "get_time[tool]"]
    weather = tools[0]
    assert weather.attributes[semconv.GEN_AI_TOOL_CALL_ID] == "call_weather_1"
    assert weather.attributes[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"city": "San Francisco"}'
    assert weather.attributes[semconv.GEN_AI_TOOL_CALL_RESULT] == (
        '{"result": "sunny in San Francisco"}'
    )
    assert model_requests(server) == 3
    llm = checks.usage_once(spans, model_requests(server))
    for span in [*tools, *llm]:
        assert agent in checks.ancestors(span, spans), span.name
    for span in llm:  # ours, under ADK's model span, which keeps the messages but no usage
        (model_span, *_) = checks.ancestors(span, spans)
        assert checks.names([model_span]) == ["generate_content openai/two-tools[span]"]
        assert semconv.GEN_AI_OUTPUT_MESSAGES in model_span.attributes
        assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "two-tools"


def test_two_tool_rounds_are_one_trace(traced: Spans, openai_server: OpenAIServer) -> None:
    with traceroot.using_attributes(session_id="block-session", user_id="ada"):
        events = run(openai_server)
    assert events[-1].content.parts[0].text == "Sunny, and it is noon."
    spans = traced.all()
    assert_two_tool_rounds(spans, openai_server)
    checks.session_everywhere(spans, "block-session", "ada")  # the block wins


def test_adk_session_and_user_without_a_block(traced: Spans, openai_server: OpenAIServer) -> None:
    run(openai_server, session="adk-session", user="adk-user")
    spans = traced.all()
    assert_two_tool_rounds(spans, openai_server)
    checks.session_everywhere(spans, "adk-session", "adk-user")


def test_block_without_user_keeps_adk_user(traced: Spans, openai_server: OpenAIServer) -> None:
    with traceroot.using_attributes(session_id="block-session"):
        run(openai_server, user="adk-user")
    checks.session_everywhere(traced.all(), "block-session", "adk-user")


def test_tool_error_propagates_and_is_recorded_once(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    with pytest.raises(StationDownError, match="no weather station in San Francisco"):
        run(openai_server, weather=broken_weather)
    spans = traced.all()
    checks.one_trace(spans)
    (failed,) = checks.of_kind(spans, semconv.TYPE_TOOL)
    assert failed.name == "get_weather"
    checks.error_once(spans, failed)
    assert failed.attributes[semconv.ERROR_TYPE] == "StationDownError"
    checks.usage_once(spans, model_requests(openai_server))
    checks.session_everywhere(spans, "adk-session", "adk-user")


def test_content_off(traced: Spans, openai_server: OpenAIServer, settings_override: Any) -> None:
    settings_override(capture_content=False)
    run(openai_server)
    traced.assert_no_content()
    for span in traced.all():
        assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in span.attributes, span.name
        assert semconv.GEN_AI_TOOL_CALL_RESULT not in span.attributes, span.name
    assert len(checks.of_kind(traced.all(), semconv.TYPE_TOOL)) == 2


def test_content_off_overrides_the_runs_own_mode(
    traced: Spans, openai_server: OpenAIServer, settings_override: Any
) -> None:
    from google.adk.telemetry.context import ContentCapturingMode, TelemetryConfig

    settings_override(capture_content=False)
    config = RunConfig(
        telemetry=TelemetryConfig(capture_message_content=ContentCapturingMode.SPAN_ONLY)
    )
    run(openai_server, run_config=config)
    traced.assert_no_content()
    # The app's config object is not changed.
    assert config.telemetry is not None
    assert config.telemetry.capture_message_content is ContentCapturingMode.SPAN_ONLY


def test_the_apps_own_content_mode_is_kept(traced: Spans, openai_server: OpenAIServer) -> None:
    from google.adk.telemetry.context import ContentCapturingMode, TelemetryConfig

    config = RunConfig(
        telemetry=TelemetryConfig(capture_message_content=ContentCapturingMode.NO_CONTENT)
    )
    run(openai_server, run_config=config)
    for span in checks.of_kind(traced.all(), semconv.TYPE_TOOL):
        assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in span.attributes, span.name


def test_uninstrument_restores(spans: Spans, openai_server: OpenAIServer) -> None:
    original = Runner.__dict__["run_async"]
    traceroot.instrument(integrations=["google_adk", "openai"])
    traceroot.instrument(integrations=["google_adk", "openai"])  # idempotent
    assert Runner.__dict__["run_async"] is not original
    traceroot.uninstrument()
    assert Runner.__dict__["run_async"] is original
    run(openai_server)
    finished = spans.all()
    # ADK's own spans go on; traceroot adds nothing to them any more.
    assert not [span for span in finished if span.instrumentation_scope.name == "traceroot"]
    tools = [span for span in finished if span.name.startswith("execute_tool ")]
    assert len(tools) == 2
    assert semconv.USER_ID not in tools[0].attributes


def test_instrument_twice_patches_once(spans: Spans, openai_server: OpenAIServer) -> None:
    original = Runner.__dict__["run_async"]
    traceroot.instrument(integrations=["google_adk", "openai"])
    traceroot.instrument(integrations=["google_adk", "openai"])
    try:
        assert Runner.__dict__["run_async"].__wrapped__ is original
        run(openai_server)
    finally:
        traceroot.uninstrument()
    assert Runner.__dict__["run_async"] is original
    spans_of_the_run = spans.all()
    assert_two_tool_rounds(spans_of_the_run, openai_server)  # one span per run, step and call
    checks.session_everywhere(spans_of_the_run, "adk-session", "adk-user")


def test_status_is_active_with_nothing_more_to_install(traced: Spans) -> None:
    # ADK's telemetry is its own: no package to install, so never "telemetry package missing".
    (status,) = [s for s in traceroot.integrations_status() if s.name == "google_adk"]
    assert (str(status.state), status.supported) == ("active", ">=2.13,<3"), status
    assert not hasattr(GoogleADKIntegration(), "missing_telemetry")


def test_importing_the_dotted_module_triggers_it() -> None:
    """``google.adk`` (a submodule of the ``google`` namespace) is watched like any module."""
    result = run_script(
        """
        import sys
        import traceroot
        traceroot.instrument(exporter="none", integrations=["google_adk"])
        assert "google.adk" not in sys.modules
        (status,) = [s for s in traceroot.integrations_status() if s.name == "google_adk"]
        print(status.state)
        from google.adk.runners import Runner
        (status,) = [s for s in traceroot.integrations_status() if s.name == "google_adk"]
        print(status.state, type(Runner.__dict__["run_async"]).__name__)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["waiting for import", "active FunctionWrapper"]


def test_sync_run_carries_the_session(traced: Spans, openai_server: OpenAIServer) -> None:
    model = LiteLlm(model="openai/two-tools", api_base=openai_server.url, api_key=API_KEY)
    agent = LlmAgent(name="weather_agent", model=model, tools=[get_weather, get_time])
    sessions = InMemorySessionService()
    runner = Runner(agent=agent, app_name=APP, session_service=sessions)
    asyncio.run(sessions.create_session(app_name=APP, user_id="sync-user", session_id="sync-s"))
    message = types.Content(role="user", parts=[types.Part(text="Weather in San Francisco?")])
    events = list(runner.run(user_id="sync-user", session_id="sync-s", new_message=message))
    assert events[-1].content.parts[0].text == "Sunny, and it is noon."
    spans = traced.all()
    assert_two_tool_rounds(spans, openai_server)
    checks.session_everywhere(spans, "sync-s", "sync-user")


def test_early_break_ends_the_run_and_leaves_no_context(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    model = LiteLlm(model="openai/two-tools", api_base=openai_server.url, api_key=API_KEY)
    agent = LlmAgent(name="weather_agent", model=model, tools=[get_weather, get_time])
    sessions = InMemorySessionService()
    runner = Runner(agent=agent, app_name=APP, session_service=sessions)

    async def main() -> None:
        await sessions.create_session(app_name=APP, user_id="u", session_id="s")
        message = types.Content(role="user", parts=[types.Part(text="Weather?")])
        events = runner.run_async(user_id="u", session_id="s", new_message=message)
        assert inspect.isasyncgen(events)  # what ADK returns, as ADK returns it
        async for _ in events:
            break
        assert events.ag_frame is not None
        await events.aclose()
        assert events.ag_frame is None  # closed, and ADK's run with it
        assert traceroot.get_current_trace_id() is None
        with traceroot.start_span("after"):
            pass

    asyncio.run(main())
    after = traced.one("after")
    assert semconv.SESSION_ID not in after.attributes  # the run's session did not leak out
    run_spans = [span for span in traced.all() if span is not after]
    root = checks.one_trace(run_spans)  # every span of the run ended, the root included
    assert checks.names([root]) == ["invoke_workflow weather_agent[span]"]
    (agent_span,) = checks.of_kind(run_spans, semconv.TYPE_AGENT)
    assert agent_span.end_time is not None
    checks.session_everywhere(run_spans, "s", "u")
    assert model_requests(openai_server) == 1  # stopped after the first event


def test_error_thrown_into_the_run_reaches_adk(traced: Spans, openai_server: OpenAIServer) -> None:
    model = LiteLlm(model="openai/two-tools", api_base=openai_server.url, api_key=API_KEY)
    agent = LlmAgent(name="weather_agent", model=model, tools=[get_weather, get_time])
    sessions = InMemorySessionService()
    runner = Runner(agent=agent, app_name=APP, session_service=sessions)

    class StopRunError(Exception):
        pass

    stop = StopRunError("the user stopped the run")

    async def main() -> None:
        await sessions.create_session(app_name=APP, user_id="u", session_id="s")
        message = types.Content(role="user", parts=[types.Part(text="Weather?")])
        events = runner.run_async(user_id="u", session_id="s", new_message=message)
        await events.__anext__()
        with pytest.raises(StopRunError) as raised:
            await events.athrow(stop)
        assert raised.value is stop  # the same exception object, back out of ADK's generator
        assert events.ag_frame is None

        assert traceroot.get_current_trace_id() is None

    asyncio.run(main())
    root = checks.one_trace(traced.all())  # every span of the run ended, the root included
    assert checks.names([root]) == ["invoke_workflow weather_agent[span]"]
    checks.session_everywhere(traced.all(), "s", "u")


def test_session_of_a_run_not_started_by_a_runner_is_on_the_live_span(
    traced: Spans, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ADK's own run method, not traceroot's wrapper: no session in force, only ADK's
    # gen_ai.conversation.id, read as the session on the live span (every destination sees it).
    live: list[Any] = []
    read_at_start = foreign.start_readers[SCOPE]

    def reading(span: Any) -> None:
        live.append(span)
        read_at_start(span)

    monkeypatch.setitem(foreign.start_readers, SCOPE, reading)
    model = LiteLlm(model="openai/two-tools", api_base=openai_server.url, api_key=API_KEY)
    agent = LlmAgent(name="weather_agent", model=model, tools=[get_weather, get_time])
    sessions = InMemorySessionService()
    runner = Runner(agent=agent, app_name=APP, session_service=sessions)
    run_async = Runner.__dict__["run_async"].__wrapped__

    async def main() -> None:
        await sessions.create_session(app_name=APP, user_id="u", session_id="adk-s")
        message = types.Content(role="user", parts=[types.Part(text="Weather?")])
        async for _ in run_async(runner, user_id="u", session_id="adk-s", new_message=message):
            pass

    asyncio.run(main())
    (root,) = [span for span in live if span.name == "invoke_workflow weather_agent"]
    assert root.attributes[semconv.SESSION_ID] == "adk-s"  # the span ADK starts with it
    given_later = [
        span for span in traced.all() if semconv.GEN_AI_CONVERSATION_ID in span.attributes
    ]
    assert len(given_later) > 1
    checks.session_everywhere(given_later, "adk-s", None)  # the others have it at export


def test_spans_are_freed_without_the_cycle_collector(
    spans: Spans, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # traceroot's readers and its run wrapper add no reference cycle through ADK's live spans:
    # once exported, each is freed as soon as ADK lets go of it (memory stays flat over runs).
    # ADK keeps a few in cycles of its own (its OpenTelemetry contexts): those it still may.
    made: list[weakref.ref[Any]] = []

    def alive_after_a_run() -> list[str]:
        made.clear()
        gc.collect()
        gc.disable()
        try:
            run(openai_server)
            return sorted(span.name for span in (ref() for ref in made) if span is not None)
        finally:
            gc.enable()

    def record(span: Any) -> None:
        made.append(weakref.ref(span))

    monkeypatch.setitem(foreign.start_readers, SCOPE, record)
    adk_alone = alive_after_a_run()
    assert len(made) >= 7, len(made)  # the workflow, the agent, three model and two tool calls
    traceroot.instrument(integrations=["google_adk", "openai"])
    try:
        read_at_start = foreign.start_readers[SCOPE]

        def reading(span: Any) -> None:
            record(span)
            read_at_start(span)

        monkeypatch.setitem(foreign.start_readers, SCOPE, reading)
        traced = alive_after_a_run()
    finally:
        traceroot.uninstrument()
    assert len(made) >= 7, len(made)
    assert traced == adk_alone
    assert not [name for name in traced if name.startswith("execute_tool")]


def test_internal_error_is_contained(
    traced: Spans, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.google_adk import hooks

    def broken(run_config: Any) -> Any:
        raise ValueError("traceroot bug")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(hooks, "_with_content_mode", broken)
    events = run(openai_server)
    assert events[-1].content.parts[0].text == "Sunny, and it is noon."
    assert len(checks.of_kind(traced.all(), semconv.TYPE_TOOL)) == 2
