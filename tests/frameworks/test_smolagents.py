"""Real smolagents agents on OpenAIServerModel against a local OpenAI-compatible server, traced
through OpenInference's smolagents instrumentor and traceroot's OpenAI integration together."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from .conftest import framework, hide_distribution

framework("smolagents")

from smolagents import MultiStepAgent, OpenAIServerModel, Tool, ToolCallingAgent, tool  # noqa: E402

import traceroot  # noqa: E402
from traceroot import semconv, using_attributes  # noqa: E402
from traceroot.integrations.registry import State  # noqa: E402
from traceroot.integrations.smolagents import SCOPE  # noqa: E402

from ..conftest import Spans  # noqa: E402
from ..integrations.conftest import API_KEY  # noqa: E402
from ..integrations.openai_server import OpenAIServer  # noqa: E402
from . import checks  # noqa: E402
from .smolagents_server import ANSWER, MODEL, start_smolagents_server  # noqa: E402

AGENT = "weather_agent"


@tool
def get_weather(city: str) -> str:
    """The weather in a city.

    Args:
        city: The city.
    """
    return f"sunny in {city}"


@tool
def get_time(city: str) -> str:
    """The time in a city.

    Args:
        city: The city.
    """
    return f"noon in {city}"


class BrokenClock(Tool):
    name = "get_time"
    description = "The time in a city."
    inputs = {"city": {"type": "string", "description": "The city."}}  # noqa: RUF012
    output_type = "string"

    def forward(self, city: str) -> str:
        raise ValueError(f"no clock in {city}")


@pytest.fixture(autouse=True)
def _only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """No connection leaves this machine (smolagents sends no telemetry: this proves it here)."""
    connect = socket.socket.connect

    def local_only(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        assert host in ("127.0.0.1", "::1", "localhost") or self.family == socket.AF_UNIX, host
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[OpenAIServer, ThreadingHTTPServer]]:
    found, server = start_smolagents_server()
    yield found, server
    server.shutdown()


@pytest.fixture
def server(_server: tuple[OpenAIServer, ThreadingHTTPServer]) -> OpenAIServer:
    found, _ = _server
    found.requests.clear()
    return found


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["smolagents", "openai"])
    yield spans
    traceroot.uninstrument()


def agent(server: OpenAIServer, *tools: Any, **options: Any) -> ToolCallingAgent:
    model = OpenAIServerModel(model_id=MODEL, api_base=server.url, api_key=API_KEY)
    options.setdefault("name", AGENT)
    return ToolCallingAgent(
        tools=list(tools), model=model, max_steps=5, verbosity_level=0, **options
    )


def model_requests(server: OpenAIServer) -> int:
    return sum(1 for request in server.requests if request.path.endswith("/chat/completions"))


def test_two_tool_rounds_read_as_one_agent_trace(traced: Spans, server: OpenAIServer) -> None:
    with using_attributes(session_id="smol-s", user_id="ada"):
        assert agent(server, get_weather, get_time).run("weather in SF?") == ANSWER
    finished = traced.all()
    root = checks.one_trace(finished)
    assert (root.name, checks.kind(root)) == (AGENT, semconv.TYPE_AGENT), checks.names(finished)
    tools = checks.of_kind(finished, semconv.TYPE_TOOL)
    assert [each.name for each in tools] == ["get_weather", "get_time", "final_answer"]
    weather = tools[0].attributes or {}
    assert weather[semconv.GEN_AI_TOOL_NAME] == "get_weather"
    assert "San Francisco" in str(weather[semconv.GEN_AI_TOOL_CALL_ARGUMENTS])
    assert weather[semconv.GEN_AI_TOOL_CALL_RESULT] == "sunny in San Francisco"
    assert model_requests(server) == 3
    llm = checks.usage_once(finished, model_requests(server))
    for call in llm:
        # traceroot's OpenAI span, under smolagents' model span, which is a plain span now
        assert call.instrumentation_scope is not None
        assert call.instrumentation_scope.name == "traceroot"
        model_span = checks.ancestors(call, finished)[0]
        assert model_span.name == "OpenAIModel.generate"
        assert checks.kind(model_span) == semconv.TYPE_SPAN
        assert (call.attributes or {})[semconv.GEN_AI_REQUEST_MODEL] == MODEL
    for span in [*tools, *llm]:
        chain = checks.ancestors(span, finished)
        assert chain[-1] is root, span.name
        assert chain[-2].name.startswith("Step "), span.name  # each under its step
    checks.session_everywhere(finished, "smol-s", "ada")


def test_an_unnamed_agent_is_named_after_its_class(traced: Spans, server: OpenAIServer) -> None:
    agent(server, get_weather, get_time, name=None).run("hi")
    root = checks.one_trace(traced.all())
    assert (root.name, checks.kind(root)) == ("ToolCallingAgent", semconv.TYPE_AGENT)


def test_failed_tool_recorded_once(traced: Spans, server: OpenAIServer) -> None:
    # smolagents shows the model the error and goes on; the scripted model then answers
    assert agent(server, get_weather, BrokenClock()).run("weather in SF?") == ANSWER
    finished = traced.all()
    checks.one_trace(finished)
    (failed,) = [span for span in finished if span.name == "get_time"]
    assert checks.kind(failed) == semconv.TYPE_TOOL
    checks.error_once(finished, failed)
    event = next(event for event in failed.events if event.name == "exception")
    assert "no clock in San Francisco" in str((event.attributes or {})["exception.message"])
    checks.usage_once(finished, model_requests(server))


def test_content_off(traced: Spans, server: OpenAIServer, settings_override: Any) -> None:
    settings_override(capture_content=False)
    traceroot.uninstrument()  # the instrumentor takes its content settings when switched on
    traceroot.instrument(integrations=["smolagents", "openai"])
    agent(server, get_weather, get_time).run("a secret question")
    traced.assert_no_content()
    for span in traced.all():
        for key, value in (span.attributes or {}).items():
            assert "secret" not in str(value), (span.name, key)
            assert "sunny in" not in str(value), (span.name, key)
    assert [span.name for span in checks.of_kind(traced.all(), semconv.TYPE_TOOL)] == [
        "get_weather",
        "get_time",
        "final_answer",
    ]


def test_uninstrument_restores(spans: Spans, server: OpenAIServer) -> None:
    run, call = MultiStepAgent.__dict__["run"], Tool.__dict__["__call__"]
    traceroot.instrument(integrations=["smolagents", "openai"])
    traceroot.instrument(integrations=["smolagents", "openai"])  # idempotent
    assert MultiStepAgent.__dict__["run"] is not run
    traceroot.uninstrument()
    assert MultiStepAgent.__dict__["run"] is run
    assert Tool.__dict__["__call__"] is call
    assert agent(server, get_weather, get_time).run("hi") == ANSWER
    assert not spans.all()


def test_instrument_twice_makes_one_set_of_spans(traced: Spans, server: OpenAIServer) -> None:
    traceroot.instrument(integrations=["smolagents", "openai"])
    agent(server, get_weather, get_time).run("hi")
    finished = traced.all()
    assert len(checks.of_kind(finished, semconv.TYPE_AGENT)) == 1
    assert len(checks.of_kind(finished, semconv.TYPE_TOOL)) == 3
    checks.usage_once(finished, model_requests(server))
    assert all(
        span.instrumentation_scope is not None
        and span.instrumentation_scope.name in (SCOPE, "traceroot")
        for span in finished
    )


def test_user_exception_propagates_and_the_run_ends(traced: Spans, server: OpenAIServer) -> None:
    class ModelDownError(Exception):
        pass

    class Failing(OpenAIServerModel):
        def generate(self, *args: Any, **kwargs: Any) -> Any:
            raise ModelDownError("model down")

    broken = ToolCallingAgent(
        tools=[get_weather],
        model=Failing(model_id=MODEL, api_base=server.url, api_key=API_KEY),
        name=AGENT,
        verbosity_level=0,
    )
    with pytest.raises(Exception) as raised:
        broken.run("hi")
    assert "model down" in str(raised.value)
    root = traced.one(AGENT)  # ended, so exported
    assert root.status.status_code.name == "ERROR"
    assert len([e for e in root.events if e.name == "exception"]) == 1
    # The failed run left the context as it found it: the next run is a trace of its own.
    traced.clear()
    agent(server, get_weather, get_time).run("hi")
    assert checks.one_trace(traced.all()).name == AGENT


def test_status_without_the_instrumentor(spans: Spans, monkeypatch: pytest.MonkeyPatch) -> None:
    hide_distribution(monkeypatch, "openinference-instrumentation-smolagents")
    traceroot.instrument(integrations=["smolagents"])
    try:
        (status,) = [s for s in traceroot.integrations_status() if s.name == "smolagents"]
    finally:
        traceroot.uninstrument()
    assert status.state is State.NO_TELEMETRY
    assert "openinference-instrumentation-smolagents" in status.detail
    assert 'pip install "traceroot[smolagents]"' in status.detail
