"""CrewAI: a real crew (one agent, one task, two tools) against the local OpenAI-compatible
server, traced by traceroot's CrewAI integration (OpenInference's instrumentor) and its OpenAI
integration together, as in a real app."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace

import traceroot
from traceroot import semconv

from . import checks
from .conftest import framework, hide_distribution

crewai = framework("crewai")

from crewai import LLM, Agent, Crew, Task  # noqa: E402
from crewai.tools import tool  # noqa: E402
from crewai.tools.base_tool import BaseTool, Tool  # noqa: E402

ROLE = "Weather reporter"
SESSION, USER = "crew-session-1", "crew-user-1"
OPT_OUT = "CREWAI_DISABLE_TELEMETRY"


@pytest.fixture(autouse=True)
def _no_telemetry_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with CrewAI's telemetry settings unset, as a new user's would be."""
    for variable in ("CREWAI_DISABLE_TELEMETRY", "CREWAI_DISABLE_TRACKING", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def traced() -> Iterator[None]:
    traceroot.instrument(integrations=["crewai", "openai"])
    yield
    traceroot.uninstrument()


@tool("get_weather")
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@tool("get_time")
def get_time(city: str) -> str:
    """The time in a city."""
    return f"noon in {city}"


class BrokenWeather(BaseTool):
    name: str = "get_weather"
    description: str = "The weather in a city."

    def _run(self, city: str) -> str:
        raise RuntimeError(f"no weather station in {city}")


def crew_of(url: str, tools: list[Any], **options: Any) -> Crew:
    llm = LLM(model="openai/two-tools", base_url=url, api_key="sk-test-SECRET-key-0123456789")
    agent = Agent(
        role=ROLE, goal="Report the weather", backstory="A forecaster.", llm=llm, tools=tools
    )
    task = Task(
        description="Weather and time in San Francisco?", expected_output="One line", agent=agent
    )
    return Crew(agents=[agent], tasks=[task], **options)


def test_crew_run_is_one_trace_rooted_at_the_crew(spans, openai_server, traced) -> None:
    provider = trace.get_tracer_provider()
    with traceroot.using_attributes(session_id=SESSION, user_id=USER):
        output = crew_of(openai_server.url, [get_weather, get_time]).kickoff()

    assert output.raw == "Sunny, and it is noon."
    every = spans.all()
    root = checks.one_trace(every)
    assert (root.name, checks.kind(root)) == ("Crew.kickoff", semconv.TYPE_SPAN)
    agent = spans.one(ROLE)
    assert checks.kind(agent) == semconv.TYPE_AGENT
    assert checks.ancestors(agent, every) == [root]
    weather, clock = spans.one("get_weather"), spans.one("get_time")
    for span, result in ((weather, "sunny in San Francisco"), (clock, "noon in San Francisco")):
        attributes = span.attributes or {}
        assert checks.kind(span) == semconv.TYPE_TOOL
        assert attributes[semconv.GEN_AI_TOOL_NAME] == span.name
        assert attributes[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"city":"San Francisco"}'
        assert attributes[semconv.GEN_AI_TOOL_CALL_RESULT] == f'"{result}"'
        assert checks.ancestors(span, every)[0] is agent
    llm = checks.usage_once(every, len(openai_server.requests))
    assert len(llm) == 3
    for span in llm:
        assert checks.ancestors(span, every)[0] is agent
        assert (span.attributes or {})[semconv.GEN_AI_REQUEST_MODEL] == "two-tools"
    assert checks.names(sorted(every, key=lambda span: span.start_time or 0)) == [
        "Crew.kickoff[span]",
        f"{ROLE}[agent]",
        "chat two-tools[llm]",
        "get_weather[tool]",
        "chat two-tools[llm]",
        "get_time[tool]",
        "chat two-tools[llm]",
    ]
    checks.session_everywhere(every, SESSION, USER)
    # CrewAI's own providers (telemetry, tracing) did not take the process's place.
    assert trace.get_tracer_provider() is provider


def test_native_async_kickoff_reads_the_same(spans, openai_server, traced) -> None:
    crew = crew_of(openai_server.url, [get_weather, get_time])
    with traceroot.using_attributes(session_id=SESSION, user_id=USER):
        output = asyncio.run(crew.akickoff())

    assert output.raw == "Sunny, and it is noon."
    every = spans.all()
    root = checks.one_trace(every)
    agent = spans.one(ROLE)
    assert (root.name, checks.kind(root)) == ("Crew.kickoff", semconv.TYPE_SPAN)
    assert checks.kind(agent) == semconv.TYPE_AGENT
    assert checks.ancestors(agent, every) == [root]
    for span in (
        *checks.of_kind(every, semconv.TYPE_LLM),
        *checks.of_kind(every, semconv.TYPE_TOOL),
    ):
        assert checks.ancestors(span, every)[0] is agent, span.name
    assert len(checks.of_kind(every, semconv.TYPE_TOOL)) == 2
    checks.usage_once(every, len(openai_server.requests))
    checks.session_everywhere(every, SESSION, USER)


def test_named_crew_names_the_root(spans, openai_server, traced) -> None:
    crew_of(openai_server.url, [get_weather, get_time], name="Forecast crew").kickoff()

    assert checks.one_trace(spans.all()).name == "Forecast crew.kickoff"


def test_tool_error_recorded_once(spans, openai_server, traced) -> None:
    with traceroot.using_attributes(session_id=SESSION):
        output = crew_of(openai_server.url, [BrokenWeather(), get_time]).kickoff()

    # CrewAI hands the error to the model, which goes on to the next tool and answers.
    assert output.raw == "Sunny, and it is noon."
    every = spans.all()
    checks.one_trace(every)
    broken = spans.one("get_weather")
    assert checks.kind(broken) == semconv.TYPE_TOOL
    checks.error_once(every, broken)
    assert spans.one("get_time").status.is_ok
    checks.usage_once(every, len(openai_server.requests))
    checks.session_everywhere(every, SESSION, None)


def test_content_off(spans, openai_server, settings_override) -> None:
    settings_override(capture_content=False)
    traceroot.instrument(integrations=["crewai", "openai"])
    try:
        crew_of(openai_server.url, [get_weather, get_time]).kickoff()
    finally:
        traceroot.uninstrument()

    spans.assert_no_content()
    for span in spans.all():
        attributes = span.attributes or {}
        for key in (
            semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
            semconv.GEN_AI_TOOL_CALL_RESULT,
            "crew_inputs",
            "crew_agents",
            "crew_tasks",
        ):
            assert key not in attributes, (span.name, key)
        # OpenInference's own, hidden by the content settings traceroot gave it.
        for key in (semconv.OPENINFERENCE_INPUT_VALUE, semconv.OPENINFERENCE_OUTPUT_VALUE):
            assert attributes.get(key, "__REDACTED__") == "__REDACTED__", (span.name, key)
    assert checks.kind(spans.one(ROLE)) == semconv.TYPE_AGENT
    assert checks.kind(spans.one("get_time")) == semconv.TYPE_TOOL


def test_instrument_twice_records_once(spans, openai_server, traced) -> None:
    traceroot.instrument(integrations=["crewai", "openai"])
    crew_of(openai_server.url, [get_weather, get_time]).kickoff()

    assert len(spans.named("get_weather")) == 1
    assert len(spans.named(ROLE)) == 1
    checks.usage_once(spans.all(), len(openai_server.requests))


def test_uninstrument_restores(spans, openai_server) -> None:
    def patched() -> tuple[Any, ...]:
        return (
            Crew.kickoff,
            Crew.__dict__["akickoff"],
            Task._execute_core,
            Task.__dict__["_aexecute_core"],
            BaseTool.run,
            Tool.run,
            Agent.kickoff,
        )

    originals = patched()
    traceroot.instrument(integrations=["crewai", "openai"])
    assert Crew.kickoff is not originals[0]
    assert Crew.__dict__["akickoff"] is not originals[1]
    traceroot.uninstrument()

    assert all(now is before for now, before in zip(patched(), originals, strict=True))
    crew_of(openai_server.url, [get_weather, get_time]).kickoff()
    assert spans.all() == []


def test_vendor_telemetry_off_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    from crewai.telemetry import Telemetry
    from crewai_core.telemetry import Telemetry as CoreTelemetry

    decide = vars(CoreTelemetry)["_is_telemetry_disabled"]
    environment = dict(os.environ)
    traceroot.instrument(integrations=["crewai"])
    try:
        assert dict(os.environ) == environment  # nothing written for child processes to inherit
        assert Telemetry._is_telemetry_disabled()
        assert not Telemetry()._should_execute_telemetry()
        monkeypatch.setenv(OPT_OUT, "false")  # an explicit choice: CrewAI's to apply
        assert not Telemetry._is_telemetry_disabled()
        monkeypatch.setenv(OPT_OUT, "true")
        assert Telemetry._is_telemetry_disabled()
        monkeypatch.delenv(OPT_OUT)
        monkeypatch.setenv("CREWAI_DISABLE_TRACKING", "no")
        assert not Telemetry._is_telemetry_disabled()
        monkeypatch.delenv("CREWAI_DISABLE_TRACKING")
    finally:
        traceroot.uninstrument()
    assert dict(os.environ) == environment
    assert vars(CoreTelemetry)["_is_telemetry_disabled"] is decide
    assert not Telemetry._is_telemetry_disabled()  # CrewAI's own default again


def test_no_session_without_a_block(spans, openai_server, traced) -> None:
    # A crew has no session of its own (its id names the Crew object): none is made up.
    crew_of(openai_server.url, [get_weather, get_time]).kickoff()

    assert all(semconv.SESSION_ID not in (span.attributes or {}) for span in spans.all())


def test_status_without_the_openinference_package(
    spans, openai_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_distribution(monkeypatch, "openinference-instrumentation-crewai")
    traceroot.instrument(integrations=["crewai", "openai"])
    try:
        (status,) = [item for item in traceroot.integrations_status() if item.name == "crewai"]
        crew_of(openai_server.url, [get_weather, get_time]).kickoff()
    finally:
        traceroot.uninstrument()

    assert status.state.value == "telemetry package missing"
    assert 'pip install "traceroot[crewai]"' in status.detail
    assert "openinference-instrumentation-crewai" in status.detail
    # The model calls are still traced, by the OpenAI integration.
    assert checks.names(spans.all()) == ["chat two-tools[llm]"] * 3
