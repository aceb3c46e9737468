"""Claude Agent SDK: OpenInference's instrumentor plus traceroot's model-call spans, on a
replayed CLI conversation (the CLI itself, a Node binary, cannot run here)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

from .conftest import framework, hide_distribution

claude_agent_sdk = framework("claude_agent_sdk")

import traceroot  # noqa: E402
from traceroot import semconv  # noqa: E402
from traceroot.integrations import registry  # noqa: E402
from traceroot.integrations.claude_agent_sdk import ClaudeAgentSDKIntegration, turns  # noqa: E402

from ..conftest import Spans, parent_of, span_id  # noqa: E402
from . import checks  # noqa: E402
from .claude_transport import (  # noqa: E402
    CALLS,
    MODEL,
    SESSION,
    TOTAL_INPUT,
    TOTAL_OUTPUT,
    ReplayTransport,
    conversation,
)

AGENT_SPAN = "ClaudeAgentSDK.query"


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["claude_agent_sdk", "openai"])
    yield spans
    traceroot.uninstrument()


def _query(messages: list[dict[str, Any]] | None = None) -> list[Any]:
    async def run() -> list[Any]:
        transport = ReplayTransport(messages or conversation())
        return [m async for m in claude_agent_sdk.query(prompt="Weather?", transport=transport)]

    return asyncio.run(run())


def _client(messages: list[dict[str, Any]] | None = None) -> list[Any]:
    async def run() -> list[Any]:
        transport = ReplayTransport(messages or conversation())
        async with claude_agent_sdk.ClaudeSDKClient(transport=transport) as client:
            await client.query("Weather?")
            return [m async for m in client.receive_response()]

    return asyncio.run(run())


def _usage(span: Any, key: str) -> int:
    return int((span.attributes or {}).get(key, 0))


@pytest.mark.parametrize("run", [_query, _client], ids=["query", "client"])
def test_query_is_one_trace(traced: Spans, run: Callable[[], list[Any]]) -> None:
    with traceroot.using_attributes(session_id="s-1", user_id="u-1"):
        messages = run()
    assert type(messages[-1]).__name__ == "ResultMessage"
    finished = traced.all()
    root = checks.one_trace(finished)
    assert root.name.startswith("ClaudeAgentSDK.")
    assert checks.kind(root) == semconv.TYPE_AGENT
    tools = checks.of_kind(finished, semconv.TYPE_TOOL)
    assert [tool.name for tool in tools] == ["Bash", "Read"]
    bash = tools[0].attributes or {}
    assert bash[semconv.GEN_AI_TOOL_NAME] == "Bash"
    assert bash[semconv.GEN_AI_TOOL_CALL_ID] == "toolu_bash"
    assert "wttr.in" in str(bash[semconv.SPAN_INPUT])
    assert "sunny" in str(bash[semconv.SPAN_OUTPUT])
    # One llm span per model call (per assistant message id), its usage counted once: the
    # agent span's copy of the run's total is dropped.
    llm = checks.usage_once(finished, len(CALLS))
    assert [(s.attributes or {})[semconv.GEN_AI_RESPONSE_ID] for s in llm] == [c for c, _ in CALLS]
    assert all(s.name == f"chat {MODEL}" for s in llm)
    assert sum(_usage(s, semconv.GEN_AI_USAGE_OUTPUT_TOKENS) for s in llm) == TOTAL_OUTPUT
    cached = sum(_usage(s, semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS) for s in llm)
    assert sum(_usage(s, semconv.GEN_AI_USAGE_INPUT_TOKENS) for s in llm) == TOTAL_INPUT + cached
    first = (llm[0].attributes or {})[semconv.GEN_AI_OUTPUT_MESSAGES]
    assert "Let me look that up." in str(first)
    assert "toolu_bash" in str(first)  # both blocks of the first call on its one span
    for span in [*tools, *llm]:
        assert parent_of(span) == span_id(root)
    checks.session_everywhere(finished, "s-1", "u-1")


@pytest.mark.parametrize("run", [_query, _client], ids=["query", "client"])
def test_sdk_session_is_the_session_without_a_block(
    traced: Spans, run: Callable[[], list[Any]]
) -> None:
    run()
    checks.session_everywhere(traced.all(), SESSION, None)


def test_tool_error_recorded_once(traced: Spans) -> None:
    _query(conversation(failing_tool=True))
    finished = traced.all()
    (read,) = traced.named("Read")
    checks.error_once(finished, read)
    assert traced.one("Bash").status.is_ok


def test_result_usage_when_the_cli_reports_none_per_call(traced: Spans) -> None:
    messages = conversation()
    for message in messages:
        if message["type"] == "assistant":
            del message["message"]["usage"]
    _query(messages)
    finished = traced.all()
    # One model span for the run, carrying the result's total, with every call's output.
    (only,) = checks.usage_once(finished, 1)
    assert _usage(only, semconv.GEN_AI_USAGE_OUTPUT_TOKENS) == TOTAL_OUTPUT
    output = str((only.attributes or {})[semconv.GEN_AI_OUTPUT_MESSAGES])
    assert "toolu_bash" in output
    assert "Sunny in Paris" in output


def test_content_off(settings_override: Callable[..., None], spans: Spans) -> None:
    settings_override(capture_content=False)
    traceroot.instrument(integrations=["claude_agent_sdk"])
    try:
        _query()
    finally:
        traceroot.uninstrument()
    finished = spans.all()
    checks.usage_once(finished, len(CALLS))
    spans.assert_no_content()
    for span in finished:
        attributes = span.attributes or {}
        assert semconv.OPENINFERENCE_TOOL_PARAMETERS not in attributes, span.name
        assert semconv.OPENINFERENCE_INPUT_VALUE not in attributes, span.name
        assert semconv.OPENINFERENCE_OUTPUT_VALUE not in attributes, span.name


def test_uninstrument_restores(spans: Spans) -> None:
    from claude_agent_sdk._internal import client, message_parser

    originals = (client.parse_message, message_parser.parse_message, claude_agent_sdk.query)
    traceroot.instrument(integrations=["claude_agent_sdk"])
    traceroot.instrument(integrations=["claude_agent_sdk"])  # idempotent
    assert client.parse_message is not originals[0]
    traceroot.uninstrument()
    assert (client.parse_message, message_parser.parse_message) == originals[:2]
    assert not hasattr(claude_agent_sdk.query, "__wrapped__")  # the instrumentor's wrapper gone
    messages = _query()
    assert type(messages[-1]).__name__ == "ResultMessage"
    assert spans.all() == []


def test_user_exception_propagates(traced: Spans) -> None:
    class StopError(Exception):
        pass

    async def run() -> None:
        transport = ReplayTransport(conversation())
        async for message in claude_agent_sdk.query(prompt="Weather?", transport=transport):
            if type(message).__name__ == "UserMessage":
                raise StopError

    with pytest.raises(StopError):
        asyncio.run(run())
    assert len(traced.named(AGENT_SPAN)) == 1  # ended, when the generator closed


@pytest.mark.parametrize("how", ["break", "aclose"])
def test_a_query_left_early_ends_its_open_model_span(traced: Spans, how: str) -> None:
    async def run() -> None:
        transport = ReplayTransport(conversation())
        messages = claude_agent_sdk.query(prompt="Weather?", transport=transport)
        async for message in messages:
            if type(message).__name__ == "AssistantMessage":
                break  # in the first model call: its span is open
        if how == "aclose":
            await messages.aclose()

    asyncio.run(run())
    finished = traced.all()
    (agent,) = traced.named(AGENT_SPAN)
    (llm,) = checks.of_kind(finished, semconv.TYPE_LLM)
    assert parent_of(llm) == span_id(agent)
    assert llm.end_time is not None
    assert agent.end_time is not None
    assert llm.end_time <= agent.end_time
    attributes = llm.attributes or {}
    assert attributes[semconv.ABANDONED] is True
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == CALLS[0][0]
    assert "Let me look that up." in str(attributes[semconv.GEN_AI_OUTPUT_MESSAGES])
    assert llm.status.status_code is StatusCode.UNSET
    assert not turns._runs


def test_a_run_forgotten_past_the_limit_ends_its_model_span(
    traced: Spans, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(turns, "_MAX_RUNS", 1)

    async def run() -> None:
        first = claude_agent_sdk.query(prompt="Weather?", transport=ReplayTransport(conversation()))
        second = claude_agent_sdk.query(prompt="Rain?", transport=ReplayTransport(conversation()))
        for messages in (first, second):  # both stopped inside their first model call
            async for message in messages:
                if type(message).__name__ == "AssistantMessage":
                    break
        # The first run was forgotten when the second began: its model span ended then.
        (llm,) = checks.of_kind(traced.all(), semconv.TYPE_LLM)
        assert (llm.attributes or {})[semconv.ABANDONED] is True
        assert traced.named(AGENT_SPAN) == []
        await first.aclose()
        await second.aclose()

    asyncio.run(run())
    assert len(checks.of_kind(traced.all(), semconv.TYPE_LLM)) == 2


def test_instrument_twice_makes_one_span_per_call(spans: Spans) -> None:
    from claude_agent_sdk._internal import client

    original = client.parse_message
    traceroot.instrument(integrations=["claude_agent_sdk"])
    traceroot.instrument(integrations=["claude_agent_sdk"])
    try:
        assert client.parse_message.__wrapped__ is original
        assert not hasattr(claude_agent_sdk.query.__wrapped__, "__wrapped__")  # the instrumentor
        _query()
    finally:
        traceroot.uninstrument()
    finished = spans.all()
    root = checks.one_trace(finished)
    assert root.name == AGENT_SPAN
    assert [tool.name for tool in checks.of_kind(finished, semconv.TYPE_TOOL)] == ["Bash", "Read"]
    llm = checks.usage_once(finished, len(CALLS))
    assert sum(_usage(s, semconv.GEN_AI_USAGE_OUTPUT_TOKENS) for s in llm) == TOTAL_OUTPUT
    assert len(finished) == 1 + 2 + len(CALLS)


def test_internal_error_is_contained(traced: Spans, monkeypatch: pytest.MonkeyPatch) -> None:
    from traceroot.integrations.claude_agent_sdk import readers, turns

    def broken(*args: Any) -> Any:
        raise ValueError("traceroot bug")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")  # contained and logged, as in an app
    monkeypatch.setattr(turns, "_assistant", broken)  # the model-call spans fail
    monkeypatch.setattr(readers, "current_settings", broken)  # and the export reader
    messages = _query()
    # The run goes on, every message of the CLI's parsed and handed on.
    assert len(messages) == len(conversation())
    assert type(messages[-1]).__name__ == "ResultMessage"
    finished = traced.all()
    root = checks.one_trace(finished)
    assert root.name == AGENT_SPAN
    assert [tool.name for tool in checks.of_kind(finished, semconv.TYPE_TOOL)] == ["Bash", "Read"]


def test_status_says_the_telemetry_package_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plugin = ClaudeAgentSDKIntegration()
    assert plugin.missing_telemetry() is None
    hide_distribution(monkeypatch, "openinference-instrumentation-claude-agent-sdk")
    hint = plugin.missing_telemetry()
    assert hint is not None
    assert 'pip install "traceroot[claude-agent-sdk]"' in hint
    assert registry.State.NO_TELEMETRY.value == "telemetry package missing"
