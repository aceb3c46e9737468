"""Real Agno agents on OpenAIChat against the local OpenAI-compatible server, traced through
OpenInference's Agno instrumentor and traceroot's OpenAI integration together."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import framework, hide_distribution

framework("agno")

from agno.agent import Agent  # noqa: E402
from agno.models.openai import OpenAIChat  # noqa: E402
from agno.run import RunStatus  # noqa: E402
from agno.tools.function import FunctionCall  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode  # noqa: E402

import traceroot  # noqa: E402
from traceroot import semconv, using_attributes  # noqa: E402
from traceroot.integrations.agno import SCOPE, VENDOR_TELEMETRY_ENV  # noqa: E402
from traceroot.integrations.registry import State  # noqa: E402

from ..conftest import Spans, parent_of, span_id  # noqa: E402
from ..integrations.conftest import API_KEY  # noqa: E402
from ..integrations.openai_server import OpenAIServer  # noqa: E402
from . import checks  # noqa: E402

AGENT = "Weather Agent"


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """The time in a city."""
    return f"noon in {city}"


def broken_time(city: str) -> str:
    """The time in a city."""
    raise ValueError(f"no clock in {city}")


broken_time.__name__ = "get_time"  # the name the scripted model calls


@pytest.fixture(autouse=True)
def _only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """No connection leaves this machine (Agno's own telemetry to agno.com included)."""
    connect = socket.socket.connect

    def local_only(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        assert host in ("127.0.0.1", "::1", "localhost") or self.family == socket.AF_UNIX, host
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


@pytest.fixture
def traced(spans: Spans, monkeypatch: pytest.MonkeyPatch) -> Iterator[Spans]:
    monkeypatch.delenv(VENDOR_TELEMETRY_ENV, raising=False)
    traceroot.instrument(integrations=["agno", "openai"])
    yield spans
    traceroot.uninstrument()


def agent(server: OpenAIServer, *tools: Any, **options: Any) -> Agent:
    model = OpenAIChat(id="two-tools", base_url=server.url, api_key=API_KEY, max_retries=0)
    return Agent(name=AGENT, model=model, tools=list(tools), **options)


def model_requests(server: OpenAIServer) -> int:
    return sum(1 for request in server.requests if request.path.endswith("/chat/completions"))


def test_two_tool_rounds_read_as_one_agent_trace(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    with using_attributes(session_id="agno-s", user_id="ada"):
        reply = agent(openai_server, get_weather, get_time).run("weather in SF?")
    assert reply.content == "Sunny, and it is noon."
    finished = traced.all()
    root = checks.one_trace(finished)
    assert (root.name, checks.kind(root)) == (AGENT, semconv.TYPE_AGENT), checks.names(finished)
    tools = checks.of_kind(finished, semconv.TYPE_TOOL)
    assert [tool.name for tool in tools] == ["get_weather", "get_time"]
    weather = tools[0].attributes or {}
    assert weather[semconv.GEN_AI_TOOL_NAME] == "get_weather"
    assert weather[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"city": "San Francisco"}'
    assert weather[semconv.GEN_AI_TOOL_CALL_RESULT] == "sunny in San Francisco"
    assert "tool.parameters" not in weather  # the arguments once, not twice
    llm = checks.usage_once(finished, model_requests(openai_server))
    assert len(llm) == 3
    for call in llm:
        # traceroot's OpenAI span, under Agno's model span, which is a plain span now
        assert call.instrumentation_scope is not None
        assert call.instrumentation_scope.name == "traceroot"
        model_span = checks.ancestors(call, finished)[0]
        assert model_span.name == "OpenAIChat.invoke"
        assert checks.kind(model_span) == semconv.TYPE_SPAN
        assert (call.attributes or {})[semconv.GEN_AI_REQUEST_MODEL] == "two-tools"
    for span in [*tools, *llm]:
        assert root in checks.ancestors(span, finished), span.name
    checks.session_everywhere(finished, "agno-s", "ada")


def test_agnos_session_is_the_traces_without_a_block(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    agent(openai_server, get_weather, get_time, session_id="agno-own", user_id="grace").run("hi")
    finished = traced.all()
    checks.one_trace(finished)
    checks.session_everywhere(finished, "agno-own", "grace")  # the OpenAI spans too
    assert len(checks.of_kind(finished, semconv.TYPE_LLM)) == 3


def test_a_run_argument_session_is_the_traces(traced: Spans, openai_server: OpenAIServer) -> None:
    agent(openai_server, get_weather, get_time).run("hi", session_id="per-run", user_id="lin")
    checks.session_everywhere(traced.all(), "per-run", "lin")


def test_a_block_wins_over_agnos_session(traced: Spans, openai_server: OpenAIServer) -> None:
    with using_attributes(session_id="outer"):
        agent(openai_server, get_weather, get_time, session_id="agno-own", user_id="grace").run(
            "hi"
        )
    # The block's session everywhere; Agno's user, which the block leaves open, everywhere too.
    checks.session_everywhere(traced.all(), "outer", "grace")


def test_a_blocks_session_is_on_the_live_span(traced: Spans, openai_server: OpenAIServer) -> None:
    """Every processor and exporter of the provider sees the block's ids, not only traceroot's
    reading exporter: the live agent span keeps them over the ones Agno's run sets."""
    raw = InMemorySpanExporter()  # not a ReadingExporter: the spans as they ended
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(raw))
    try:
        with using_attributes(session_id="block-s", user_id="block-u"):
            agent(openai_server, get_weather, get_time, session_id="agno-own", user_id="grace").run(
                "hi"
            )
        finished = raw.get_finished_spans()
        agents = [
            span
            for span in finished
            if (span.attributes or {}).get(semconv.OPENINFERENCE_SPAN_KIND) == "AGENT"
        ]
        assert agents, checks.names(finished)
        checks.session_everywhere(finished, "block-s", "block-u")
        checks.session_everywhere(traced.all(), "block-s", "block-u")
    finally:
        raw.shutdown()  # the provider keeps the processor; it exports nothing more


def test_failed_tool_recorded_once(traced: Spans, openai_server: OpenAIServer) -> None:
    reply = agent(openai_server, get_weather, broken_time).run("weather in SF?")
    assert reply.content == "Sunny, and it is noon."  # Agno hands the model the error and goes on
    finished = traced.all()
    checks.one_trace(finished)
    failed = traced.one("get_time")
    checks.error_once(finished, failed)
    event = next(event for event in failed.events if event.name == "exception")
    assert (event.attributes or {})["exception.type"] == "ValueError"
    assert (event.attributes or {})["exception.message"] == "no clock in San Francisco"
    assert (failed.attributes or {})[semconv.ERROR_TYPE] == "ValueError"
    assert not traced.one("get_weather").events
    checks.usage_once(finished, model_requests(openai_server))


def test_content_off(traced: Spans, openai_server: OpenAIServer, settings_override: Any) -> None:
    settings_override(capture_content=False)
    traceroot.uninstrument()  # the instrumentor takes its content settings when switched on
    traceroot.instrument(integrations=["agno", "openai"])
    agent(openai_server, get_weather, get_time).run("a secret question")
    traced.assert_no_content()
    for span in traced.all():
        for key, value in (span.attributes or {}).items():
            assert "secret" not in str(value), (span.name, key)
            assert "San Francisco" not in str(value), (span.name, key)
    assert [span.name for span in checks.of_kind(traced.all(), semconv.TYPE_TOOL)] == [
        "get_weather",
        "get_time",
    ]


def test_vendor_telemetry_off_unless_chosen(
    spans: Spans, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agno.agent import _init
    from agno.team import Team
    from agno.team import _init as team_init

    monkeypatch.delenv(VENDOR_TELEMETRY_ENV, raising=False)
    environment = dict(os.environ)
    decide = _init.set_telemetry
    traceroot.instrument(integrations=["agno", "openai"])
    try:
        assert dict(os.environ) == environment  # nothing written for child processes to inherit
        built = agent(openai_server, get_weather, get_time)
        built.run("hi")  # _only_loopback fails the test on any connection to agno.com
        assert built.telemetry is False
        team = Team(members=[agent(openai_server)], model=built.model)
        team_init._set_telemetry(team)
        assert team.telemetry is False
        # The app's explicit flag stands, either way.
        chosen = agent(openai_server, get_weather, get_time, telemetry=True)
        _init.set_telemetry(chosen)
        assert chosen.telemetry is True
        # An Agno copy of an agent that did not choose does not choose either.
        copied = built.deep_copy()
        copied.telemetry = True
        _init.set_telemetry(copied)
        assert copied.telemetry is False
        # The user's environment choice is Agno's to apply, over the flag, as without traceroot.
        monkeypatch.setenv(VENDOR_TELEMETRY_ENV, "true")
        default = agent(openai_server, get_weather, get_time)
        _init.set_telemetry(default)
        assert default.telemetry is True
        monkeypatch.setenv(VENDOR_TELEMETRY_ENV, "false")
        _init.set_telemetry(chosen)
        assert chosen.telemetry is False
        monkeypatch.delenv(VENDOR_TELEMETRY_ENV)
    finally:
        traceroot.uninstrument()
    assert dict(os.environ) == environment
    assert _init.set_telemetry is decide
    untraced = agent(openai_server, get_weather, get_time)
    _init.set_telemetry(untraced)
    assert untraced.telemetry is True  # Agno's own default again


def test_uninstrument_restores(spans: Spans, openai_server: OpenAIServer) -> None:
    from agno.agent import _run

    run, execute = _run._run, FunctionCall.__dict__["_execute"]
    traceroot.instrument(integrations=["agno", "openai"])
    traceroot.instrument(integrations=["agno", "openai"])  # idempotent
    assert _run._run is not run
    assert FunctionCall.__dict__["_execute"] is not execute
    traceroot.uninstrument()
    assert _run._run is run
    assert FunctionCall.__dict__["_execute"] is execute
    agent(openai_server, get_weather, get_time, telemetry=False).run("hi")
    assert not [
        span
        for span in spans.all()
        if span.instrumentation_scope is not None and span.instrumentation_scope.name == SCOPE
    ]
    assert not spans.all()  # the OpenAI integration is off too


def test_instrument_twice_makes_one_set_of_spans(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    traceroot.instrument(integrations=["agno", "openai"])
    agent(openai_server, get_weather, get_time).run("hi")
    finished = traced.all()
    assert len(checks.of_kind(finished, semconv.TYPE_AGENT)) == 1
    assert len(checks.of_kind(finished, semconv.TYPE_TOOL)) == 2
    checks.usage_once(finished, model_requests(openai_server))


def test_model_error_is_the_runs_as_without_traceroot(traced: Spans) -> None:
    class ModelDownError(Exception):
        pass

    class Failing(OpenAIChat):
        def invoke(self, *args: Any, **kwargs: Any) -> Any:
            raise ModelDownError("model down")

    built = Agent(name=AGENT, model=Failing(id="two-tools", api_key=API_KEY))
    reply = built.run("hi")  # Agno turns a model error into an errored run, as without traceroot
    assert (reply.status, reply.content) == (RunStatus.error, "model down")
    root = traced.one(AGENT)
    assert checks.kind(root) == semconv.TYPE_AGENT
    assert root.status.status_code is StatusCode.ERROR


def test_status_without_the_instrumentor(spans: Spans, monkeypatch: pytest.MonkeyPatch) -> None:
    hide_distribution(monkeypatch, "openinference-instrumentation-agno")
    traceroot.instrument(integrations=["agno"])
    try:
        (status,) = [entry for entry in traceroot.integrations_status() if entry.name == "agno"]
    finally:
        traceroot.uninstrument()
    assert status.state is State.NO_TELEMETRY
    assert "openinference-instrumentation-agno" in status.detail
    assert 'pip install "traceroot[agno]"' in status.detail


def test_parents_follow_the_run(traced: Spans, openai_server: OpenAIServer) -> None:
    agent(openai_server, get_weather, get_time).run("hi")
    finished = traced.all()
    root = checks.one_trace(finished)
    for span in finished:
        if span is not root:
            assert parent_of(span) is not None
    children = {span.name for span in finished if parent_of(span) == span_id(root)}
    assert children == {"OpenAIChat.invoke", "get_weather", "get_time"}
