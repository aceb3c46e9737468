"""Real LiteLLM against the local OpenAI-compatible and Anthropic servers, instrumented by
traceroot: LiteLLM reaches ``openai/...`` models through the ``openai`` client (whose span, with
traceroot's OpenAI integration on, is the call's llm span) and ``anthropic/...`` models over its
own HTTP code (LiteLLM's span is the llm span)."""

from __future__ import annotations

import os

# Before LiteLLM is imported: its price list and Anthropic beta-header table from the package,
# not fetched from the web.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

import asyncio
import gc
import ipaddress
import json
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from ..conftest import required

litellm = required("litellm")

from importlib import metadata  # noqa: E402

from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402
from packaging.requirements import Requirement  # noqa: E402
from packaging.specifiers import SpecifierSet  # noqa: E402

import traceroot  # noqa: E402
from traceroot import semconv, using_attributes  # noqa: E402
from traceroot.integrations.registry import discover  # noqa: E402

from ..conftest import Spans, parent_of, span_id  # noqa: E402
from .anthropic_server import AnthropicServer  # noqa: E402
from .conftest import API_KEY  # noqa: E402
from .openai_server import OpenAIServer  # noqa: E402

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "hello there"},
]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}

# Every connection LiteLLM opens, wherever it goes (an audit hook cannot be removed: it only
# records while a test of this module runs).
_outside: list[str] = []
_watching = [False]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _watching[0] or event != "socket.connect":
        return
    address = args[1]
    host = address[0] if isinstance(address, tuple) and address else str(address)
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    _outside.append(str(address))


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def _nothing_leaves_the_machine() -> Iterator[None]:
    _outside.clear()
    _watching[0] = True
    yield
    _watching[0] = False
    assert _outside == [], "LiteLLM connected outside the machine"


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["litellm"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture
def with_openai(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["litellm", "openai"])
    yield spans
    traceroot.uninstrument()


def openai_call(server: OpenAIServer, model: str = "gpt-test", **kwargs: Any) -> dict[str, Any]:
    return {
        "model": f"openai/{model}",
        "messages": MESSAGES,
        "api_base": server.url,
        "api_key": API_KEY,
        "num_retries": 0,
        "max_retries": 0,
        **kwargs,
    }


def anthropic_call(server: AnthropicServer, model: str = "claude-test", **kwargs: Any) -> Any:
    return {
        "model": f"anthropic/{model}",
        "messages": MESSAGES,
        "api_base": server.url,
        "api_key": API_KEY,
        "num_retries": 0,
        "max_tokens": 64,
        **kwargs,
    }


def llm_span(spans: Spans) -> ReadableSpan:
    found = [s for s in spans.all() if s.attributes.get(semconv.SPAN_TYPE) == "llm"]
    assert len(found) == 1, [(s.name, s.attributes.get(semconv.SPAN_TYPE)) for s in spans.all()]
    return found[0]


def json_attribute(span: ReadableSpan, key: str) -> Any:
    return json.loads(span.attributes[key])


def usage_spans(spans: Spans) -> list[ReadableSpan]:
    return [s for s in spans.all() if semconv.GEN_AI_USAGE_INPUT_TOKENS in s.attributes]


# -- A provider LiteLLM calls over its own HTTP code: LiteLLM's span is the llm span -------------
def test_anthropic_completion_span_shape(traced: Spans, anthropic_server: AnthropicServer) -> None:
    with using_attributes(session_id="lite-s", user_id="ada"):
        result = litellm.completion(**anthropic_call(anthropic_server, temperature=0.2))
    assert result.choices[0].message.content == "echo: hello there"
    span = llm_span(traced)
    assert span.name == "chat claude-test"
    assert span.kind is trace.SpanKind.INTERNAL
    attributes = span.attributes
    assert attributes[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == "claude-test"
    assert attributes[semconv.GEN_AI_RESPONSE_MODEL] == "claude-test-2026"
    assert attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert attributes[semconv.GEN_AI_REQUEST_STREAM] is False
    assert attributes[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == result.usage.prompt_tokens
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert attributes[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert attributes[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 3
    assert attributes[semconv.SESSION_ID] == "lite-s"
    assert attributes[semconv.USER_ID] == "ada"
    assert json_attribute(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
        {"role": "user", "parts": [{"type": "text", "content": "hello there"}]},
    ]
    assert json_attribute(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "echo: hello there"}],
            "finish_reason": "stop",
        }
    ]
    assert len(anthropic_server.requests) == 1


def test_anthropic_tool_use(traced: Spans, anthropic_server: AnthropicServer) -> None:
    first = litellm.completion(
        **anthropic_call(anthropic_server, "tool-model", tools=[WEATHER_TOOL])
    )
    call = first.choices[0].message.tool_calls[0]
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert json_attribute(span, semconv.GEN_AI_TOOL_DEFINITIONS) == [WEATHER_TOOL]
    parts = json_attribute(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"]
    assert parts[-1] == {
        "type": "tool_call",
        "id": call.id,
        "name": "get_weather",
        "arguments": {"city": "San Francisco"},
    }
    traced.clear()
    follow_up = [
        *MESSAGES,
        first.choices[0].message.model_dump(),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    litellm.completion(
        **anthropic_call(anthropic_server, "tool-model", tools=[WEATHER_TOOL], messages=follow_up)
    )
    inputs = json_attribute(llm_span(traced), semconv.GEN_AI_INPUT_MESSAGES)
    assert inputs[-1] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": call.id, "response": "sunny"}],
    }
    assert inputs[-2]["parts"][-1]["type"] == "tool_call"


@pytest.mark.parametrize("is_async", [False, True])
def test_anthropic_stream_passes_the_same_chunks_and_counts_usage(
    traced: Spans, anthropic_server: AnthropicServer, is_async: bool
) -> None:
    kwargs = anthropic_call(anthropic_server, stream=True)

    async def consume_async() -> list[Any]:
        return [chunk async for chunk in await litellm.acompletion(**kwargs)]

    chunks = asyncio.run(consume_async()) if is_async else list(litellm.completion(**kwargs))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: hello there"
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert semconv.LLM_STREAM_PARTIAL not in span.attributes
    assert span.attributes[semconv.LLM_TIME_TO_FIRST_CHUNK] > 0
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    # The caller asked for no usage chunk: the provider's usage is still the call's.
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12  # 7 + cache 2 + 3
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    output = json_attribute(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]
    assert output["parts"] == [{"type": "text", "content": text}]


@pytest.mark.parametrize(
    ("model", "status", "error"),
    [("error-429", 429, "RateLimitError"), ("error-500", 500, "InternalServerError")],
)
def test_api_errors_reach_the_caller_unchanged(
    traced: Spans, anthropic_server: AnthropicServer, model: str, status: int, error: str
) -> None:
    with pytest.raises(getattr(litellm, error)) as raised:
        litellm.completion(**anthropic_call(anthropic_server, model))
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__name__
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == status
    events = [e for e in span.events if e.name == "exception"]
    assert len(events) == 1
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes


def test_error_in_the_middle_of_a_stream(traced: Spans, anthropic_server: AnthropicServer) -> None:
    received: list[str] = []

    def consume() -> None:
        kwargs = anthropic_call(anthropic_server, "stream-error", stream=True)
        for chunk in litellm.completion(**kwargs):
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(Exception) as raised:  # whatever LiteLLM makes of the error event
        consume()
    assert received  # the error came after the first text
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__name__
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert len([e for e in span.events if e.name == "exception"]) == 1


def test_early_break_then_abandon_ends_the_span_once_as_partial(
    traced: Spans, anthropic_server: AnthropicServer
) -> None:
    stream = litellm.completion(**anthropic_call(anthropic_server, "slow-stream", stream=True))
    for _ in stream:
        break
    assert traced.all() == []  # still open: the caller holds the stream
    del stream
    gc.collect()
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.status.status_code is StatusCode.UNSET


def test_close_and_with_block_end_the_span(
    traced: Spans, anthropic_server: AnthropicServer
) -> None:
    stream = litellm.completion(**anthropic_call(anthropic_server, stream=True))
    next(iter(stream))
    stream.close()
    stream.close()  # a second close changes nothing
    assert llm_span(traced).attributes[semconv.LLM_STREAM_PARTIAL] is True
    traced.clear()
    with litellm.completion(**anthropic_call(anthropic_server, stream=True)) as stream:
        for _ in stream:
            break
        assert traced.all() == []
    assert llm_span(traced).attributes[semconv.LLM_STREAM_PARTIAL] is True


@pytest.mark.parametrize("is_async", [False, True])
def test_streaming_user_exception_in_with_block_is_not_the_calls(
    traced: Spans, anthropic_server: AnthropicServer, is_async: bool
) -> None:
    kwargs = anthropic_call(anthropic_server, stream=True)

    def run() -> None:
        with litellm.completion(**kwargs) as stream:
            next(stream)
            raise KeyError("the caller's own bug")

    async def run_async() -> None:
        async with await litellm.acompletion(**kwargs) as stream:
            await stream.__anext__()
            raise KeyError("the caller's own bug")

    with pytest.raises(KeyError):
        asyncio.run(run_async()) if is_async else run()
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in span.attributes
    assert [e.name for e in span.events] == []
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_async_stream_closed_early(traced: Spans, anthropic_server: AnthropicServer) -> None:
    async def run() -> None:
        stream = await litellm.acompletion(**anthropic_call(anthropic_server, stream=True))
        async for _ in stream:
            break
        await stream.aclose()

    asyncio.run(run())
    assert llm_span(traced).attributes[semconv.LLM_STREAM_PARTIAL] is True


# -- Streamed chunks read by the shared Chat Completions accumulator ----------------------------
def _streamed_output(chunks: list[Any]) -> list[dict[str, Any]]:
    from traceroot.integrations.litellm.streams import ChatStream

    stream = ChatStream(None)
    for chunk in chunks:
        stream.add(chunk)
    attributes: dict[str, Any] = {}
    stream.record(attributes)
    output: list[dict[str, Any]] = json.loads(attributes[semconv.GEN_AI_OUTPUT_MESSAGES])
    return output


def _chunk(**delta: Any) -> Any:
    from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices

    return ModelResponseStream(choices=[StreamingChoices(index=0, delta=Delta(**delta))])


def test_parallel_tool_calls_streamed_without_an_index_stay_apart() -> None:
    # A provider that sends whole calls, one a chunk, without an index: LiteLLM gives each 0.
    calls = [
        {"id": f"call_{city}", "type": "function", "function": {"name": "get_weather"}}
        for city in ("paris", "rome")
    ]
    for call, city in zip(calls, ("Paris", "Rome"), strict=True):
        call["function"]["arguments"] = json.dumps({"city": city})
    output = _streamed_output([_chunk(tool_calls=[call]) for call in calls])
    assert output[0]["parts"] == [
        {
            "type": "tool_call",
            "id": "call_paris",
            "name": "get_weather",
            "arguments": {"city": "Paris"},
        },
        {
            "type": "tool_call",
            "id": "call_rome",
            "name": "get_weather",
            "arguments": {"city": "Rome"},
        },
    ]


def test_streamed_tool_call_with_structured_arguments() -> None:
    # Chunks given as plain objects and dicts (not LiteLLM's, which turn arguments into JSON).
    def chunk(arguments: dict[str, Any]) -> Any:
        call = {"id": "call_1", "function": {"name": "get_weather", "arguments": arguments}}
        delta = SimpleNamespace(content=None, role="assistant", tool_calls=[call])
        return SimpleNamespace(choices=[SimpleNamespace(index=0, delta=delta, finish_reason=None)])

    output = _streamed_output([chunk({"city": "Paris"}), chunk({"unit": "C"})])
    assert output[0]["parts"] == [
        {
            "type": "tool_call",
            "id": "call_1",
            "name": "get_weather",
            "arguments": {"city": "Paris", "unit": "C"},
        }
    ]


def test_streamed_reasoning_comes_before_the_text() -> None:
    chunks = [
        _chunk(role="assistant", reasoning_content="Think"),
        _chunk(reasoning_content="ing."),
        _chunk(content="Done."),
    ]
    assert _streamed_output(chunks)[0]["parts"] == [
        {"type": "reasoning", "content": "Thinking."},
        {"type": "text", "content": "Done."},
    ]


# -- Through the openai client: usage counted once ------------------------------------------------
def test_openai_model_without_the_openai_integration(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    result = litellm.completion(**openai_call(openai_server))
    span = llm_span(traced)
    assert span.name == "chat gpt-test"
    assert span.attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == result.usage.prompt_tokens
    assert span.attributes[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 1
    assert len(openai_server.requests) == 1


def test_openai_span_nests_under_litellm_and_carries_the_usage_once(
    with_openai: Spans, openai_server: OpenAIServer
) -> None:
    with using_attributes(session_id="both-s"):
        result = litellm.completion(**openai_call(openai_server))
    assert len(openai_server.requests) == 1
    outer, inner = _litellm_and_openai(with_openai)
    assert parent_of(inner) == span_id(outer)
    assert outer.attributes[semconv.SPAN_TYPE] == "span"
    assert inner.attributes[semconv.SPAN_TYPE] == "llm"
    assert [s.name for s in usage_spans(with_openai)] == [inner.name]
    assert inner.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == result.usage.prompt_tokens
    # The enclosing span keeps its messages; both carry the session.
    assert json_attribute(outer, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == (
        "echo: hello there"
    )
    assert {s.attributes[semconv.SESSION_ID] for s in (outer, inner)} == {"both-s"}


def _litellm_and_openai(spans: Spans) -> tuple[ReadableSpan, ReadableSpan]:
    found = sorted(spans.all(), key=lambda s: s.start_time or 0)
    assert len(found) == 2, [s.name for s in found]
    return found[0], found[1]


@pytest.mark.parametrize("is_async", [False, True])
def test_openai_stream_through_litellm_counts_usage_once(
    with_openai: Spans, openai_server: OpenAIServer, is_async: bool
) -> None:
    kwargs = openai_call(openai_server, stream=True, stream_options={"include_usage": True})

    async def consume_async() -> list[Any]:
        return [chunk async for chunk in await litellm.acompletion(**kwargs)]

    chunks = asyncio.run(consume_async()) if is_async else list(litellm.completion(**kwargs))
    assert chunks[-1].usage.prompt_tokens == 7
    assert len(openai_server.requests) == 1
    outer, inner = _litellm_and_openai(with_openai)
    assert parent_of(inner) == span_id(outer)
    assert (outer.attributes[semconv.SPAN_TYPE], inner.attributes[semconv.SPAN_TYPE]) == (
        "span",
        "llm",
    )
    for span in (outer, inner):
        assert semconv.LLM_STREAM_PARTIAL not in span.attributes, span.name
    assert usage_spans(with_openai) == [inner]
    assert inner.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7


def test_openai_tool_call_and_error_through_litellm(
    with_openai: Spans, openai_server: OpenAIServer
) -> None:
    result = litellm.completion(**openai_call(openai_server, "tool-model", tools=[WEATHER_TOOL]))
    assert result.choices[0].finish_reason == "tool_calls"
    outer, inner = _litellm_and_openai(with_openai)
    parts = json_attribute(outer, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"]
    assert parts == [
        {
            "type": "tool_call",
            "id": "call_weather_1",
            "name": "get_weather",
            "arguments": {"city": "San Francisco"},
        }
    ]
    with_openai.clear()
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(**openai_call(openai_server, "error-429"))
    outer, inner = _litellm_and_openai(with_openai)
    assert parent_of(inner) == span_id(outer)
    for span in (outer, inner):
        assert span.status.status_code is StatusCode.ERROR
        assert len([e for e in span.events if e.name == "exception"]) == 1
    assert usage_spans(with_openai) == []


def test_function_role_result_is_a_tool_response_on_both_spans(
    with_openai: Spans, openai_server: OpenAIServer
) -> None:
    # ``function``: the deprecated form of a tool result, named by the function it answers.
    answered = [*MESSAGES, {"role": "function", "name": "get_weather", "content": "sunny"}]
    litellm.completion(**openai_call(openai_server, messages=answered))
    outer, inner = _litellm_and_openai(with_openai)
    for span in (outer, inner):
        assert json_attribute(span, semconv.GEN_AI_INPUT_MESSAGES)[-1] == {
            "role": "function",
            "parts": [{"type": "tool_call_response", "id": "get_weather", "response": "sunny"}],
        }, span.name


def test_embeddings(with_openai: Spans, openai_server: OpenAIServer) -> None:
    litellm.embedding(
        model="openai/emb-test", input=["a", "b"], api_base=openai_server.url, api_key=API_KEY
    )
    outer, inner = _litellm_and_openai(with_openai)
    assert outer.name == "embeddings emb-test"
    assert outer.attributes[semconv.LLM_INPUT_COUNT] == 2
    assert outer.attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 4
    assert usage_spans(with_openai) == [inner]


def test_async_embeddings_without_the_openai_integration(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    asyncio.run(
        litellm.aembedding(
            model="openai/emb-test", input="a", api_base=openai_server.url, api_key=API_KEY
        )
    )
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_OPERATION_NAME] == "embeddings"
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 3


# -- Switches -------------------------------------------------------------------------------------
def test_content_off(
    traced: Spans, anthropic_server: AnthropicServer, settings_override: Any
) -> None:
    settings_override(capture_content=False)
    litellm.completion(**anthropic_call(anthropic_server))
    list(litellm.completion(**anthropic_call(anthropic_server, stream=True)))
    traced.assert_no_content()
    assert all(s.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] for s in traced.all())


def test_uninstrument_restores_and_stops_spans(
    spans: Spans, anthropic_server: AnthropicServer
) -> None:
    names = ("completion", "acompletion", "embedding", "aembedding")
    originals = [getattr(litellm, name) for name in names]
    traceroot.instrument(integrations=["litellm"])
    assert litellm.completion is not originals[0]
    traceroot.instrument(integrations=["litellm"])
    litellm.completion(**anthropic_call(anthropic_server))
    assert len(spans.all()) == 1  # instrumented twice, one span
    traceroot.uninstrument()
    assert [getattr(litellm, name) for name in names] == originals
    spans.clear()
    litellm.completion(**anthropic_call(anthropic_server))
    assert spans.all() == []


def test_internal_error_is_contained(
    traced: Spans, anthropic_server: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.litellm import messages

    def broken(*args: Any) -> None:
        raise RuntimeError("bug in traceroot")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(messages, "record_request", broken)
    monkeypatch.setattr(messages, "record_response", broken)
    result = litellm.completion(**anthropic_call(anthropic_server))
    assert result.choices[0].message.content == "echo: hello there"
    assert llm_span(traced).end_time is not None


def test_the_extra_installs_what_the_integration_supports() -> None:
    plugin = discover()["litellm"].load()()
    extras = [Requirement(text) for text in metadata.requires("traceroot") or []]
    ours = [r for r in extras if 'extra == "litellm"' in str(r.marker)]
    assert [(r.name, r.specifier) for r in ours] == [("litellm", SpecifierSet(plugin.supported))]
