"""DSPy, traced through OpenInference's DSPy instrumentor and read by traceroot: real ``dspy.ReAct``
agents with two tools against a local scripted model server (:mod:`.dspy_server`)."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from .conftest import framework, hide_distribution

dspy = framework("dspy")

import traceroot  # noqa: E402
from traceroot import semconv  # noqa: E402
from traceroot.integrations.registry import State  # noqa: E402

from ..conftest import Spans, parent_of, span_id, trace_id  # noqa: E402
from ..integrations.conftest import API_KEY  # noqa: E402
from . import checks  # noqa: E402
from .dspy_server import ANSWER, DSPyServer, start_dspy_server  # noqa: E402

SESSION, USER = "dspy-session-1", "dspy-user-1"
# DSPy 3.4 calls providers with its own HTTP client (lm15) unless asked for LiteLLM; before, LiteLLM
# (which uses the openai client for OpenAI models) was its only engine.
NATIVE_ENGINE = importlib.util.find_spec("dspy.clients.execution") is not None
REDACTED = "__REDACTED__"  # what OpenInference writes in place of hidden content


class WeatherQA(dspy.Signature):  # type: ignore[misc]
    """Answer questions about the weather."""

    question: str = dspy.InputField()
    answer: str = dspy.OutputField()


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """The time in a city."""
    return "noon"


def broken_clock(city: str) -> str:
    """The time in a city."""
    raise RuntimeError("the clock is broken")


broken_clock.__name__ = "get_time"


@pytest.fixture(autouse=True)
def _no_model_price_download(monkeypatch: pytest.MonkeyPatch) -> None:
    # DSPy fetches a model price map from GitHub on first use; tests never reach the internet.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "true")


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[DSPyServer, ThreadingHTTPServer]]:
    found, server = start_dspy_server()
    yield found, server
    server.shutdown()


@pytest.fixture
def server(_server: tuple[DSPyServer, ThreadingHTTPServer]) -> DSPyServer:
    found, _ = _server
    found.requests.clear()
    return found


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["dspy", "openai"])
    yield spans
    traceroot.uninstrument()


def make_lm(server: DSPyServer, engine: str = "auto") -> Any:
    options = {"engine": engine} if NATIVE_ENGINE else {}
    return dspy.LM("openai/two-tools", api_base=server.url, api_key=API_KEY, cache=False, **options)


def weather_agent(*, failing_clock: bool = False) -> Any:
    return dspy.ReAct(WeatherQA, tools=[get_weather, broken_clock if failing_clock else get_time])


def run_agent(server: DSPyServer, *, engine: str = "auto", failing_clock: bool = False) -> Any:
    with (
        dspy.context(lm=make_lm(server, engine)),
        traceroot.using_attributes(session_id=SESSION, user_id=USER),
    ):
        return weather_agent(failing_clock=failing_clock)(question="Weather in SF?")


def one_named(spans: list[Any], name: str) -> Any:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, checks.names(spans)
    return found[0]


def assert_agent_run(spans: list[Any]) -> Any:
    """The shape every ReAct run has: one trace whose root is the agent, named after it; the
    two tools (and DSPy's ``finish``) are tool spans and every model call an llm span, each
    under the agent."""
    root = checks.one_trace(spans)
    assert root.name == "WeatherQA", checks.names(spans)
    assert checks.kind(root) == semconv.TYPE_AGENT
    assert root.attributes[semconv.GEN_AI_OPERATION_NAME] == semconv.OPERATION_INVOKE_AGENT
    tools = checks.of_kind(spans, semconv.TYPE_TOOL)
    assert [span.name for span in sorted(tools, key=lambda s: s.start_time)] == [
        "get_weather",
        "get_time",
        "finish",
    ]
    for span in [*tools, *checks.of_kind(spans, semconv.TYPE_LLM)]:
        assert root in checks.ancestors(span, spans), span.name
    for tool in tools:
        assert parent_of(tool) == span_id(root), tool.name  # ReAct calls its tools itself
        assert tool.attributes[semconv.GEN_AI_TOOL_NAME] == tool.name
    return root


def test_react_agent_with_two_tools(traced: Spans, server: DSPyServer) -> None:
    result = run_agent(server)
    assert result.answer == ANSWER
    spans = traced.all()
    assert_agent_run(spans)
    checks.session_everywhere(spans, SESSION, USER)
    weather = one_named(spans, "get_weather")
    assert weather.attributes[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"city":"San Francisco"}'
    assert weather.attributes[semconv.GEN_AI_TOOL_CALL_RESULT] == '"sunny in San Francisco"'
    assert server.model_calls() == 4
    llm = checks.usage_once(spans, server.model_calls())
    for span in llm:
        assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
        assert span.attributes[semconv.GEN_AI_RESPONSE_MODEL] == "two-tools-2026"
        assert semconv.GEN_AI_INPUT_MESSAGES in span.attributes
        assert semconv.GEN_AI_OUTPUT_MESSAGES in span.attributes
    lm_spans = [span for span in spans if span.name == "LM.__call__"]
    assert len(lm_spans) == 4
    assert all(span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "two-tools" for span in lm_spans)


@pytest.mark.skipif(not NATIVE_ENGINE, reason="DSPy before 3.4 calls models through LiteLLM")
def test_native_engine_usage_on_the_lm_span(traced: Spans, server: DSPyServer) -> None:
    # DSPy's own HTTP client made the calls: its LM spans are the llm spans, with DSPy's usage.
    run_agent(server, engine="auto")
    llm = checks.usage_once(traced.all(), server.model_calls())
    assert [span.name for span in llm] == ["LM.__call__"] * 4


def test_litellm_counts_usage_once_with_the_openai_integration(
    traced: Spans, server: DSPyServer
) -> None:
    litellm = pytest.importorskip("litellm")
    assert run_agent(server, engine="litellm").answer == ANSWER
    spans = traced.all()
    assert_agent_run(spans)
    checks.session_everywhere(spans, SESSION, USER)
    # LiteLLM calls the openai client: traceroot's OpenAI span is the llm span, nested under
    # DSPy's LM span, which becomes a plain span without usage.
    llm = checks.usage_once(spans, server.model_calls())
    assert len(llm) == 4
    for span in llm:
        assert span.instrumentation_scope.name == "traceroot"
        parent = checks.ancestors(span, spans)[0]
        assert parent.name == "LM.__call__"
        assert checks.kind(parent) == semconv.TYPE_SPAN
    # LiteLLM's own telemetry and callbacks stay off: nothing is sent anywhere by them.
    assert litellm.telemetry is False
    for hooks in ("callbacks", "success_callback", "failure_callback", "_async_success_callback"):
        assert not getattr(litellm, hooks, []), hooks


def test_litellm_usage_on_the_lm_span_without_a_provider_integration(
    spans: Spans, server: DSPyServer
) -> None:
    pytest.importorskip("litellm")
    traceroot.instrument(integrations=["dspy"])
    try:
        assert run_agent(server, engine="litellm").answer == ANSWER
    finally:
        traceroot.uninstrument()
    llm = checks.usage_once(spans.all(), server.model_calls())
    assert [span.name for span in llm] == ["LM.__call__"] * 4
    assert all(span.attributes[semconv.GEN_AI_RESPONSE_MODEL] == "two-tools-2026" for span in llm)


@pytest.mark.parametrize("engine", ["auto", "litellm"])
def test_nothing_leaves_the_machine(
    traced: Spans, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    if engine == "litellm":
        pytest.importorskip("litellm")
    server, http = start_dspy_server()  # a new address: no pooled connection to it yet
    connected: list[Any] = []
    connect = socket.socket.connect

    def recording(self: socket.socket, address: Any) -> Any:
        connected.append(address)
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", recording)
    try:
        assert run_agent(server, engine=engine).answer == ANSWER
    finally:
        http.shutdown()
    assert connected, "the run made no connection at all"
    assert {address[0] for address in connected} == {"127.0.0.1"}, connected


def test_cached_answer_spends_no_tokens(
    traced: Spans, server: DSPyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In memory only: the test writes nothing to DSPy's cache directory.
    monkeypatch.setattr(dspy, "cache", dspy.clients.Cache(False, True, None))
    options = {"engine": "auto"} if NATIVE_ENGINE else {}
    lm = dspy.LM("openai/echo", api_base=server.url, api_key=API_KEY, cache=True, **options)
    qa = dspy.Predict("question -> answer")
    with dspy.context(lm=lm):
        assert qa(question="same").answer == qa(question="same").answer == ANSWER
    assert server.model_calls() == 1
    llm = checks.of_kind(traced.all(), semconv.TYPE_LLM)
    assert len(llm) == 2
    fresh, cached = sorted(llm, key=lambda span: span.start_time)
    assert fresh.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert cached.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 0
    assert cached.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 0


def test_tool_error_recorded_once(traced: Spans, server: DSPyServer) -> None:
    result = run_agent(server, failing_clock=True)
    assert "the clock is broken" in result.trajectory["observation_1"]  # ReAct goes on
    spans = traced.all()
    root = assert_agent_run(spans)
    checks.error_once(spans, one_named(spans, "get_time"))
    assert root.status.is_ok or root.status.status_code.name == "UNSET"
    checks.usage_once(spans, server.model_calls())


def test_async_agent(traced: Spans, server: DSPyServer) -> None:
    async def main() -> Any:
        with (
            dspy.context(lm=make_lm(server)),
            traceroot.using_attributes(session_id=SESSION, user_id=USER),
        ):
            return await weather_agent().acall(question="Weather in SF?")

    assert asyncio.run(main()).answer == ANSWER
    spans = traced.all()
    assert_agent_run(spans)
    checks.session_everywhere(spans, SESSION, USER)
    checks.usage_once(spans, server.model_calls())


class Forecasts(dspy.Module):  # type: ignore[misc]
    """A program that runs two agents in DSPy's thread pool."""

    def __init__(self) -> None:
        super().__init__()
        self.agent = weather_agent()

    def forward(self, cities: list[str]) -> list[Any]:
        parallel = dspy.Parallel(num_threads=2, disable_progress_bar=True)
        return parallel([(self.agent, {"question": f"Weather in {city}?"}) for city in cities])  # type: ignore[no-any-return]


def test_session_and_parent_survive_parallel_threads(traced: Spans, server: DSPyServer) -> None:
    with (
        dspy.context(lm=make_lm(server)),
        traceroot.using_attributes(session_id=SESSION, user_id=USER),
    ):
        results = Forecasts()(cities=["SF", "Paris"])
    assert [result.answer for result in results] == [ANSWER, ANSWER]
    spans = traced.all()
    root = checks.one_trace(spans)  # the program's run, whatever thread a span started in
    assert root.name == "Forecasts.forward"
    agents = checks.of_kind(spans, semconv.TYPE_AGENT)
    assert [agent.name for agent in agents] == ["WeatherQA", "WeatherQA"]
    assert all(parent_of(agent) == span_id(root) for agent in agents)
    checks.session_everywhere(spans, SESSION, USER)
    checks.usage_once(spans, server.model_calls())
    assert len(checks.of_kind(spans, semconv.TYPE_TOOL)) == 6


def test_session_survives_asyncify(traced: Spans, server: DSPyServer) -> None:
    agent = dspy.asyncify(weather_agent())

    async def main() -> list[Any]:
        return list(await asyncio.gather(agent(question="SF?"), agent(question="Paris?")))

    with (
        dspy.context(lm=make_lm(server)),
        traceroot.using_attributes(session_id=SESSION, user_id=USER),
    ):
        results = asyncio.run(main())
    assert [result.answer for result in results] == [ANSWER, ANSWER]
    spans = traced.all()
    by_trace: dict[int, list[Any]] = {}
    for span in spans:
        by_trace.setdefault(trace_id(span), []).append(span)
    assert len(by_trace) == 2  # two top-level runs, one trace each
    for run in by_trace.values():
        assert_agent_run(run)
    checks.session_everywhere(spans, SESSION, USER)
    checks.usage_once(spans, server.model_calls())


def test_agent_named_after_its_class_or_dspy(traced: Spans, server: DSPyServer) -> None:
    class TravelAgent(dspy.ReAct):  # type: ignore[misc]
        pass

    with dspy.context(lm=make_lm(server)):
        TravelAgent(WeatherQA, tools=[get_weather, get_time])(question="SF?")
        dspy.ReAct("question -> answer", tools=[get_weather, get_time])(question="SF?")
    agents = checks.of_kind(traced.all(), semconv.TYPE_AGENT)
    assert sorted(agent.name for agent in agents) == ["ReAct", "TravelAgent"]


def test_content_off(
    spans: Spans, server: DSPyServer, settings_override: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_override(capture_content=False)
    traceroot.instrument(integrations=["dspy", "openai"])
    try:
        assert run_agent(server).answer == ANSWER
    finally:
        traceroot.uninstrument()
    assert_agent_run(spans.all())
    spans.assert_no_content()
    for span in spans.all():
        attributes = span.attributes or {}
        assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in attributes, span.name
        assert semconv.GEN_AI_TOOL_CALL_RESULT not in attributes, span.name
        for key in (semconv.OPENINFERENCE_INPUT_VALUE, semconv.OPENINFERENCE_OUTPUT_VALUE):
            assert attributes.get(key) in (None, REDACTED), (span.name, key)
    checks.usage_once(spans.all(), server.model_calls())


def test_user_exception_propagates_unchanged(traced: Spans, server: DSPyServer) -> None:
    error = ValueError("the user's own error")

    class Failing(dspy.Module):  # type: ignore[misc]
        def forward(self, question: str) -> Any:
            raise error

    with pytest.raises(ValueError) as raised:
        Failing()(question="?")
    assert raised.value is error
    span = one_named(traced.all(), "Failing.forward")
    assert span.status.status_code.name == "ERROR"


def test_internal_error_is_contained(
    traced: Spans, server: DSPyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.dspy import agents, usage

    def broken(*args: Any) -> None:
        raise RuntimeError("bug in traceroot")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(agents, "_mark_agent", broken)
    monkeypatch.setattr(usage, "_record", broken)
    assert run_agent(server).answer == ANSWER
    assert checks.one_trace(traced.all()).name == "ReAct.forward"


def test_instrument_twice(traced: Spans, server: DSPyServer) -> None:
    traceroot.instrument(integrations=["dspy", "openai"])
    run_agent(server)
    assert_agent_run(traced.all())
    checks.usage_once(traced.all(), server.model_calls())


def test_uninstrument_restores(spans: Spans, server: DSPyServer) -> None:
    from dspy.clients.base_lm import BaseLM
    from dspy.predict.react import ReAct

    def patched() -> list[Any]:
        found = [ReAct.__dict__["forward"], ReAct.__dict__["aforward"]]
        found += [BaseLM.__dict__["_process_lm_response"], dspy.LM.__dict__.get("__call__")]
        if NATIVE_ENGINE:
            from dspy.clients import execution

            found.append(execution.finalize)
        return found

    originals = patched()
    traceroot.instrument(integrations=["dspy", "openai"])
    assert all(now is not before for now, before in zip(patched()[:3], originals[:3], strict=True))
    traceroot.uninstrument()
    assert all(now is before for now, before in zip(patched(), originals, strict=True))
    assert run_agent(server).answer == ANSWER
    assert spans.all() == []


def test_status_without_the_telemetry_package(
    spans: Spans, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_distribution(monkeypatch, "openinference-instrumentation-dspy")
    from dspy.predict.react import ReAct

    forward = ReAct.__dict__["forward"]
    traceroot.instrument(integrations=["dspy"])
    try:
        status = {entry.name: entry for entry in traceroot.integrations_status()}["dspy"]
        assert status.state is State.NO_TELEMETRY
        assert 'pip install "traceroot[dspy]"' in status.detail
        assert "openinference-instrumentation-dspy" in status.detail
        assert ReAct.__dict__["forward"] is forward  # nothing patched
    finally:
        traceroot.uninstrument()
