"""The real ``groq`` client against a local server speaking Groq's wire format, instrumented by
traceroot (the scripted OpenAI server, streams ending with Groq's ``x_groq`` usage)."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest

from ..conftest import required

groq = required("groq")

from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402

import traceroot  # noqa: E402
from traceroot import observe, semconv, using_attributes  # noqa: E402

from ..conftest import Spans, parent_of, span_id  # noqa: E402
from .conftest import API_KEY  # noqa: E402
from .groq_server import start_groq_server  # noqa: E402
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
WEATHER_PART = {
    "type": "tool_call",
    "id": "call_weather_1",
    "name": "get_weather",
    "arguments": {"city": "San Francisco"},
}


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["groq"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture(scope="module")
def _groq_server() -> Iterator[OpenAIServer]:
    found, server = start_groq_server()
    yield found
    server.shutdown()


@pytest.fixture
def groq_server(_groq_server: OpenAIServer) -> OpenAIServer:
    _groq_server.requests.clear()
    return _groq_server


@pytest.fixture
def client(groq_server: OpenAIServer) -> Any:
    return groq.Groq(api_key=API_KEY, base_url=groq_server.url, max_retries=0)


@pytest.fixture
def aclient(groq_server: OpenAIServer) -> Any:
    return groq.AsyncGroq(api_key=API_KEY, base_url=groq_server.url, max_retries=0)


def llm_span(spans: Spans) -> ReadableSpan:
    found = [s for s in spans.all() if s.attributes.get(semconv.SPAN_TYPE) == "llm"]
    assert len(found) == 1, [s.name for s in spans.all()]
    return found[0]


def messages(span: ReadableSpan, key: str) -> Any:
    return json.loads(span.attributes[key])


def test_chat_span_shape(traced: Spans, client: Any, groq_server: OpenAIServer) -> None:
    with using_attributes(session_id="groq-s", user_id="ada"):
        result = client.chat.completions.create(
            model="llama-test",
            messages=MESSAGES,
            temperature=0.3,
            top_p=0.9,
            max_tokens=50,
            seed=7,
            stop=["END"],
            response_format={"type": "text"},
        )
    assert result.choices[0].message.content == "echo: hello there"
    assert groq_server.requests[0].path == "/openai/v1/chat/completions"
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "chat llama-test"
    assert span.kind.name == "INTERNAL"  # as the OpenAI integration's
    assert a[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert a[semconv.GEN_AI_PROVIDER_NAME] == "groq"
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "llama-test"
    assert a[semconv.GEN_AI_RESPONSE_MODEL] == "llama-test-2026"
    assert a[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-test-1"
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert a[semconv.GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 50
    assert a[semconv.GEN_AI_REQUEST_SEED] == 7
    assert a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert a[semconv.GEN_AI_OUTPUT_TYPE] == "text"
    assert a[semconv.GEN_AI_REQUEST_STREAM] is False
    assert json.loads(a[semconv.LLM_MODEL_PARAMETERS])["response_format"] == {"type": "text"}
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert a[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert (a[semconv.SESSION_ID], a[semconv.USER_ID]) == ("groq-s", "ada")
    assert messages(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
        {"role": "user", "parts": [{"type": "text", "content": "hello there"}]},
    ]
    assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "echo: hello there"}],
            "finish_reason": "stop",
        }
    ]
    assert span.status.status_code is StatusCode.UNSET
    assert groq_server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_async_chat(traced: Spans, aclient: Any) -> None:
    async def main() -> str | None:
        with using_attributes(session_id="async-s"):
            result = await aclient.chat.completions.create(model="llama-test", messages=MESSAGES)
        return result.choices[0].message.content  # type: ignore[no-any-return]

    assert asyncio.run(main()) == "echo: hello there"
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert span.attributes[semconv.SESSION_ID] == "async-s"


def test_stream_records_chunks_usage_and_first_chunk_time(traced: Spans, client: Any) -> None:
    with using_attributes(session_id="stream-s"):
        stream = client.chat.completions.create(
            model="llama-test",
            messages=MESSAGES,
            stream=True,
        )
    chunks = list(stream)
    assert chunks[-1].x_groq.usage.completion_tokens == 3
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: hello there "
    span = llm_span(traced)
    a = span.attributes
    assert a[semconv.GEN_AI_REQUEST_STREAM] is True
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[semconv.LLM_TIME_TO_FIRST_CHUNK] > 0
    assert a[semconv.SESSION_ID] == "stream-s"
    assert semconv.LLM_STREAM_PARTIAL not in a
    assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "echo: hello there "}
    ]


def test_async_stream(traced: Spans, aclient: Any) -> None:
    async def main() -> str:
        stream = await aclient.chat.completions.create(
            model="llama-test", messages=MESSAGES, stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(main()) == "echo: hello there "
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert semconv.LLM_STREAM_PARTIAL not in span.attributes


def test_early_break_then_abandon_ends_span_once_as_partial(traced: Spans, client: Any) -> None:
    stream = client.chat.completions.create(model="slow-stream", messages=MESSAGES, stream=True)
    for _ in stream:
        break
    assert traced.all() == []  # still open: the caller holds the stream
    del stream
    gc.collect()
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.status.status_code is StatusCode.UNSET


def test_close_and_with_block_end_the_span(traced: Spans, client: Any) -> None:
    stream = client.chat.completions.create(model="llama-test", messages=MESSAGES, stream=True)
    next(iter(stream))
    stream.close()
    stream.close()  # a second close changes nothing
    with client.chat.completions.create(
        model="llama-test", messages=MESSAGES, stream=True
    ) as stream:
        for _ in stream:
            break
    closed, exited = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert closed.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert exited.attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_async_early_close(traced: Spans, aclient: Any) -> None:
    async def main() -> None:
        stream = await aclient.chat.completions.create(
            model="llama-test", messages=MESSAGES, stream=True
        )
        async for _ in stream:
            break
        await stream.close()

    asyncio.run(main())
    assert llm_span(traced).attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_stream_cut_midway_raises_and_keeps_what_arrived(traced: Spans, client: Any) -> None:
    received: list[str] = []

    def consume() -> None:
        for chunk in client.chat.completions.create(
            model="cut-stream", messages=MESSAGES, stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(Exception) as raised:  # whatever the HTTP stack raises
        consume()
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__qualname__
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert len([e for e in span.events if e.name == "exception"]) == 1
    output = messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"]
    assert output == "".join(received)


@pytest.mark.parametrize(("model", "status"), [("error-429", 429), ("error-500", 500)])
def test_api_errors(traced: Spans, client: Any, model: str, status: int) -> None:
    with pytest.raises(groq.APIStatusError) as raised:
        client.chat.completions.create(model=model, messages=MESSAGES)
    assert raised.value.status_code == status
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__name__
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == status
    assert len([e for e in span.events if e.name == "exception"]) == 1
    assert raised.value.__traceback__ is not None


def test_tool_call_round_trip(traced: Spans, client: Any) -> None:
    conversation: list[Any] = [{"role": "user", "content": "weather in SF?"}]
    first = client.chat.completions.create(
        model="tool-model", messages=conversation, tools=[WEATHER_TOOL]
    )
    call = first.choices[0].message.tool_calls[0]
    conversation.append(first.choices[0].message.model_dump(exclude_none=True))
    conversation.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"})
    second = client.chat.completions.create(
        model="tool-model", messages=conversation, tools=[WEATHER_TOOL]
    )
    assert second.choices[0].message.content == "It is sunny in San Francisco."
    asked, answered = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert asked.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert messages(asked, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [WEATHER_PART]
    assert json.loads(asked.attributes[semconv.GEN_AI_TOOL_DEFINITIONS]) == [WEATHER_TOOL]
    history = messages(answered, semconv.GEN_AI_INPUT_MESSAGES)
    assert history[1]["parts"] == [WEATHER_PART]
    assert history[2] == {
        "role": "tool",
        "parts": [
            {"type": "tool_call_response", "id": "call_weather_1", "response": "sunny, 21 C"}
        ],
    }


def test_streamed_tool_call_is_reassembled(traced: Spans, client: Any) -> None:
    stream = client.chat.completions.create(
        model="tool-model",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    list(stream)
    output = messages(llm_span(traced), semconv.GEN_AI_OUTPUT_MESSAGES)[0]
    assert output["parts"] == [WEATHER_PART]
    assert output["finish_reason"] == "tool_calls"


def test_with_raw_response(traced: Spans, client: Any, aclient: Any) -> None:
    raw = client.chat.completions.with_raw_response.create(model="llama-test", messages=MESSAGES)
    assert raw.http_response.status_code == 200
    assert raw.parse().choices[0].message.content == "echo: hello there"

    async def main() -> Any:
        raw = await aclient.chat.completions.with_raw_response.create(
            model="llama-test", messages=MESSAGES
        )
        return (await raw.parse()).choices[0].message.content

    assert asyncio.run(main()) == "echo: hello there"
    for span in traced.all():
        assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
        assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def assert_complete_stream(span: ReadableSpan) -> None:
    a = span.attributes
    assert a[semconv.GEN_AI_REQUEST_STREAM] is True
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[semconv.LLM_TIME_TO_FIRST_CHUNK] > 0
    assert semconv.LLM_STREAM_PARTIAL not in a
    assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "echo: hello there "}
    ]


def text_of(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_raw_response_stream_is_followed_to_its_end(traced: Spans, client: Any) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="llama-test", messages=MESSAGES, stream=True
    )
    assert raw.http_response.status_code == 200
    assert traced.all() == []  # open until the stream the caller parses ends
    assert text_of(list(raw.parse())) == "echo: hello there "
    assert_complete_stream(llm_span(traced))


def test_async_raw_response_stream_is_followed_to_its_end(traced: Spans, aclient: Any) -> None:
    async def main() -> str:
        raw = await aclient.chat.completions.with_raw_response.create(
            model="llama-test", messages=MESSAGES, stream=True
        )
        return text_of([c async for c in await raw.parse()])

    assert asyncio.run(main()) == "echo: hello there "
    assert_complete_stream(llm_span(traced))


def test_streaming_response_stream_is_followed_to_its_end(traced: Spans, client: Any) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="llama-test", messages=MESSAGES, stream=True
    ) as response:
        assert text_of(list(response.parse())) == "echo: hello there "
    assert_complete_stream(llm_span(traced))


def test_with_streaming_response_records_the_completion_the_caller_parses(
    traced: Spans, client: Any
) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="llama-test", messages=MESSAGES
    ) as response:
        assert traced.all() == []  # the body is still the caller's to read
        assert response.parse().choices[0].message.content == "echo: hello there"
        assert response.parse() is response.parse()  # cached: one span, recorded once
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "echo: hello there"}
    ]


def test_async_with_streaming_response_records_the_parsed_completion(
    traced: Spans, aclient: Any
) -> None:
    async def main() -> Any:
        async with aclient.chat.completions.with_streaming_response.create(
            model="llama-test", messages=MESSAGES
        ) as response:
            return (await response.parse()).choices[0].message.content

    assert asyncio.run(main()) == "echo: hello there"
    assert llm_span(traced).attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3


def test_with_streaming_response_closed_unparsed_ends_the_span(traced: Spans, client: Any) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="llama-test", messages=MESSAGES
    ) as response:
        assert json.loads(response.text())["id"] == "chatcmpl-test-1"
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "llama-test"
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes
    assert span.status.status_code is StatusCode.UNSET


def test_content_off(traced: Spans, client: Any, settings_override: Any) -> None:
    settings_override(capture_content=False)
    client.chat.completions.create(
        model="tool-model", messages=[{"role": "user", "content": "x"}], tools=[WEATHER_TOOL]
    )
    for _ in client.chat.completions.create(model="llama-test", messages=MESSAGES, stream=True):
        pass
    traced.assert_no_content()
    plain, streamed = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert plain.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 6
    assert plain.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert streamed.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert all("San Francisco" not in str(v) for s in traced.all() for v in s.attributes.values())


def test_nests_under_observe(traced: Spans, client: Any) -> None:
    @observe(type="agent")
    def agent() -> None:
        client.chat.completions.create(model="llama-test", messages=MESSAGES)

    agent()
    assert parent_of(llm_span(traced)) == span_id(traced.one("agent"))


def test_uninstrument_restores_and_stops_spans(spans: Spans, client: Any) -> None:
    from groq._base_client import AsyncAPIClient, SyncAPIClient

    originals = (SyncAPIClient.__dict__["request"], AsyncAPIClient.__dict__["request"])
    traceroot.instrument(integrations=["groq"])
    assert SyncAPIClient.__dict__["request"] is not originals[0]
    traceroot.uninstrument()
    assert (SyncAPIClient.__dict__["request"], AsyncAPIClient.__dict__["request"]) == originals
    client.chat.completions.create(model="llama-test", messages=MESSAGES)
    assert spans.all() == []


def test_instrument_twice_gives_one_span(traced: Spans, client: Any) -> None:
    traceroot.instrument(integrations=["groq"])
    client.chat.completions.create(model="llama-test", messages=MESSAGES)
    assert len(traced.all()) == 1


def test_internal_error_is_contained(
    traced: Spans, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations import chat_completions

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug in traceroot")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(chat_completions, "record_request", broken)
    monkeypatch.setattr(chat_completions, "record_response", broken)
    result = client.chat.completions.create(model="llama-test", messages=MESSAGES)
    assert result.choices[0].message.content == "echo: hello there"
    assert llm_span(traced).end_time is not None


def test_other_endpoints_pass_through(traced: Spans, client: Any) -> None:
    with pytest.raises(groq.NotFoundError):
        client.models.retrieve("llama-test")
    assert traced.all() == []
