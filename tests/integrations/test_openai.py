"""The real ``openai`` client against the local scripted server, instrumented by traceroot."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import traceroot
from traceroot import observe, semconv, using_attributes

from ..conftest import Spans, parent_of, span_id
from .conftest import API_KEY
from .openai_server import OpenAIServer

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


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["openai"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture
def client(openai_server: OpenAIServer) -> openai.OpenAI:
    return openai.OpenAI(api_key=API_KEY, base_url=openai_server.url, max_retries=0)


@pytest.fixture
def aclient(openai_server: OpenAIServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=API_KEY, base_url=openai_server.url, max_retries=0)


def llm_span(spans: Spans) -> ReadableSpan:
    found = [s for s in spans.all() if s.attributes.get(semconv.SPAN_TYPE) == "llm"]
    assert len(found) == 1, [s.name for s in spans.all()]
    return found[0]


def messages(span: ReadableSpan, key: str) -> Any:
    return json.loads(span.attributes[key])


def assert_no_secret(spans: Spans) -> None:
    for span in spans.all():
        for value in span.attributes.values():
            assert "SECRET" not in str(value)
        for event in span.events:
            assert "SECRET" not in str(dict(event.attributes or {}))


def test_chat_create_span_shape(
    traced: Spans, client: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    with using_attributes(session_id="chat-s", user_id="ada"):
        result = client.chat.completions.create(
            model="gpt-test",
            messages=MESSAGES,
            temperature=0.3,
            top_p=0.9,
            max_tokens=50,
            seed=7,
            stop=["END"],
            response_format={"type": "text"},
        )
    assert result.choices[0].message.content == "echo: hello there"
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "chat gpt-test"
    assert a[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert a[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "gpt-test"
    assert a[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-test-2026"
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
    assert a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 1
    assert a[semconv.OPENAI_RESPONSE_SERVICE_TIER] == "default"
    assert a[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert isinstance(a[semconv.SERVER_PORT], int)
    assert (a[semconv.SESSION_ID], a[semconv.USER_ID]) == ("chat-s", "ada")
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
    assert openai_server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert_no_secret(traced)


def test_async_chat_create(traced: Spans, aclient: openai.AsyncOpenAI) -> None:
    async def main() -> str | None:
        result = await aclient.chat.completions.create(model="gpt-test", messages=MESSAGES)
        return result.choices[0].message.content

    assert asyncio.run(main()) == "echo: hello there"
    span = llm_span(traced)
    assert span.name == "chat gpt-test"
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7


def test_stream_with_usage_chunk_passes_the_same_chunks(
    traced: Spans, client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.openai import chat

    seen_by_traceroot: list[int] = []
    original_add = chat.ChatStream.add

    def spying_add(self: chat.ChatStream, chunk: Any) -> None:
        seen_by_traceroot.append(id(chunk))
        original_add(self, chunk)

    monkeypatch.setattr(chat.ChatStream, "add", spying_add)
    stream = client.chat.completions.create(
        model="gpt-test", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert [id(chunk) for chunk in chunks] == seen_by_traceroot
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: hello there "
    span = llm_span(traced)
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


def test_stream_without_usage_chunk_records_no_usage(traced: Spans, client: openai.OpenAI) -> None:
    for _ in client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True):
        pass
    a = llm_span(traced).attributes
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in a
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_async_stream(traced: Spans, aclient: openai.AsyncOpenAI) -> None:
    async def main() -> str:
        stream = await aclient.chat.completions.create(
            model="gpt-test",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        return "".join(parts)

    assert asyncio.run(main()) == "echo: hello there "
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert span.end_time is not None


def test_early_break_then_abandon_ends_span_once_as_partial(
    traced: Spans, client: openai.OpenAI
) -> None:
    stream = client.chat.completions.create(model="slow-stream", messages=MESSAGES, stream=True)
    for _ in stream:
        break
    assert traced.all() == []  # still open: the caller holds the stream
    del stream
    gc.collect()
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.status.status_code is StatusCode.UNSET


def test_break_inside_with_block_ends_span_at_exit(traced: Spans, client: openai.OpenAI) -> None:
    with client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True) as stream:
        for _ in stream:
            break
        assert traced.all() == []
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_next_and_loops_mixed_read_one_stream_once(traced: Spans, client: openai.OpenAI) -> None:
    # A loop gets a generator over the stream, ``next()`` the proxy itself: both draw from the
    # one stream, and a loop that stops early and another that resumes lose nothing.
    stream = client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
    first = next(stream)
    rest = []
    for chunk in stream:
        rest.append(chunk)
        break
    assert traced.all() == []  # a stopped loop is not the stream's end
    rest += list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in [first, *rest] if c.choices)
    assert text == "echo: hello there "
    span = llm_span(traced)
    assert semconv.LLM_STREAM_PARTIAL not in span.attributes
    assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": text}
    ]


def test_streaming_user_exception_in_with_block_is_not_the_calls(
    traced: Spans, client: openai.OpenAI
) -> None:
    def main() -> None:
        with client.chat.completions.create(
            model="gpt-test", messages=MESSAGES, stream=True
        ) as stream:
            next(stream)
            raise KeyError("the caller's own bug")

    with pytest.raises(KeyError):
        main()
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in span.attributes
    assert [e.name for e in span.events] == []
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_async_streaming_user_exception_in_with_block_is_not_the_calls(
    traced: Spans, aclient: openai.AsyncOpenAI
) -> None:
    async def main() -> None:
        stream = await aclient.chat.completions.create(
            model="gpt-test", messages=MESSAGES, stream=True
        )
        async with stream:
            await stream.__anext__()
            raise KeyError("the caller's own bug")

    with pytest.raises(KeyError):
        asyncio.run(main())
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in span.attributes
    assert [e.name for e in span.events] == []
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_close_ends_span(traced: Spans, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
    next(iter(stream))
    stream.close()
    stream.close()  # a second close changes nothing
    assert llm_span(traced).attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_stream_cut_midway_raises_to_caller_and_keeps_what_arrived(
    traced: Spans, client: openai.OpenAI
) -> None:
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


@pytest.mark.parametrize(
    ("model", "error_type", "status"),
    [("error-429", openai.RateLimitError, 429), ("error-500", openai.InternalServerError, 500)],
)
def test_api_errors(
    traced: Spans, client: openai.OpenAI, model: str, error_type: type[Exception], status: int
) -> None:
    with pytest.raises(error_type) as raised:
        client.chat.completions.create(model=model, messages=MESSAGES)
    assert raised.value.status_code == status  # type: ignore[attr-defined]
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == error_type.__name__
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == status
    assert len([e for e in span.events if e.name == "exception"]) == 1


def test_connection_error_is_the_same_object(traced: Spans) -> None:
    dead = openai.OpenAI(api_key=API_KEY, base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(openai.APIConnectionError) as raised:
        dead.chat.completions.create(model="gpt-test", messages=MESSAGES)
    span = llm_span(traced)
    assert span.attributes[semconv.ERROR_TYPE] == "APIConnectionError"
    assert raised.value.__traceback__ is not None


def test_tool_call_round_trip(traced: Spans, client: openai.OpenAI) -> None:
    conversation: list[Any] = [{"role": "user", "content": "weather in SF?"}]
    first = client.chat.completions.create(
        model="tool-model", messages=conversation, tools=[WEATHER_TOOL]
    )
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    conversation.append(first.choices[0].message.model_dump(exclude_none=True))
    conversation.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"})
    second = client.chat.completions.create(
        model="tool-model", messages=conversation, tools=[WEATHER_TOOL]
    )
    assert second.choices[0].message.content == "It is sunny in San Francisco."
    asked, answered = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert asked.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert messages(asked, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {
            "type": "tool_call",
            "id": "call_weather_1",
            "name": "get_weather",
            "arguments": {"city": "San Francisco"},
        }
    ]
    assert json.loads(asked.attributes[semconv.GEN_AI_TOOL_DEFINITIONS]) == [WEATHER_TOOL]
    history = messages(answered, semconv.GEN_AI_INPUT_MESSAGES)
    assert history[1]["parts"][0]["type"] == "tool_call"
    assert history[2] == {
        "role": "tool",
        "parts": [
            {"type": "tool_call_response", "id": "call_weather_1", "response": "sunny, 21 C"}
        ],
    }


def test_streamed_tool_call_is_reassembled(traced: Spans, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="tool-model",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    list(stream)
    output = messages(llm_span(traced), semconv.GEN_AI_OUTPUT_MESSAGES)[0]
    assert output["parts"] == [
        {
            "type": "tool_call",
            "id": "call_weather_1",
            "name": "get_weather",
            "arguments": {"city": "San Francisco"},
        }
    ]
    assert output["finish_reason"] == "tool_calls"


class Weather(pydantic.BaseModel):
    city: str
    temperature: int


def test_structured_output_parse(traced: Spans, client: openai.OpenAI) -> None:
    result = client.chat.completions.parse(
        model="gpt-test", messages=MESSAGES, response_format=Weather
    )
    assert result.choices[0].message.parsed == Weather(city="Paris", temperature=21)
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_OUTPUT_TYPE] == "json"
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7


def test_chat_stream_helper(traced: Spans, client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model="gpt-test", messages=MESSAGES) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "echo: hello there "
    span = llm_span(traced)
    assert span.end_time is not None
    assert semconv.LLM_STREAM_PARTIAL not in span.attributes
    assert (
        messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"]
        == "echo: hello there "
    )


def test_chat_stream_helper_closed_early(traced: Spans, client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model="gpt-test", messages=MESSAGES) as stream:
        for _ in stream:
            break
    assert llm_span(traced).attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_responses_create(traced: Spans, client: openai.OpenAI) -> None:
    with using_attributes(session_id="resp-s"):
        result = client.responses.create(
            model="gpt-test", input="hi responses", instructions="Be brief.", max_output_tokens=20
        )
    assert result.output_text == "echo: hi responses"
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "chat gpt-test"
    assert a[semconv.GEN_AI_RESPONSE_ID] == "resp_test_1"
    assert a[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 20
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[semconv.SESSION_ID] == "resp-s"
    assert messages(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "hi responses"}]},
    ]
    assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "echo: hi responses"}
    ]


def test_responses_stream_and_helper(traced: Spans, client: openai.OpenAI) -> None:
    events = list(client.responses.create(model="gpt-test", input="streamed", stream=True))
    assert events[-1].type == "response.completed"
    with client.responses.stream(model="gpt-test", input="helper") as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert final.output_text == "echo: helper"
    first, second = sorted(traced.all(), key=lambda s: s.start_time or 0)
    for span, text in ((first, "echo: streamed"), (second, "echo: helper")):
        assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 2
        assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == text


def test_responses_tool_round_trip_and_parse(traced: Spans, client: openai.OpenAI) -> None:
    tool = {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {}},
    }
    first = client.responses.create(model="tool-model", input="weather?", tools=[tool])
    call = first.output[0]
    follow_up = [
        {"role": "user", "content": "weather?"},
        {
            "type": "function_call",
            "call_id": call.call_id,
            "name": call.name,
            "arguments": call.arguments,
        },  # type: ignore[union-attr]
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},  # type: ignore[union-attr]
    ]
    client.responses.create(model="tool-model", input=follow_up, tools=[tool])
    parsed = client.responses.parse(model="gpt-test", input="structured", text_format=Weather)
    assert parsed.output_parsed == Weather(city="Paris", temperature=21)
    asked, answered, structured = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert asked.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert messages(answered, semconv.GEN_AI_INPUT_MESSAGES)[2] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_weather_1", "response": "sunny"}],
    }
    assert structured.attributes[semconv.GEN_AI_OUTPUT_TYPE] == "json"


def test_embeddings(traced: Spans, client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="embed-test", input=["a", "b"], encoding_format="float")
    assert len(result.data) == 2
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "embeddings embed-test"
    assert a[semconv.GEN_AI_OPERATION_NAME] == "embeddings"
    assert a[semconv.LLM_INPUT_COUNT] == 2
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 6
    assert a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 4
    assert semconv.GEN_AI_USAGE_OUTPUT_TOKENS not in a
    assert all("0.125" not in str(value) for value in a.values())  # never the vectors


def test_legacy_completions(traced: Spans, client: openai.OpenAI) -> None:
    result = client.completions.create(model="instruct-test", prompt="say hi", max_tokens=5)
    assert result.choices[0].text == "echo: say hi"
    text = "".join(
        c.choices[0].text
        for c in client.completions.create(model="instruct-test", prompt="s", stream=True)
    )
    assert text.startswith("echo: s")
    plain, streamed = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert plain.name == "text_completion instruct-test"
    assert plain.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert messages(streamed, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"].startswith(
        "echo: s"
    )


def test_with_raw_response(traced: Spans, client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-test", messages=MESSAGES)
    assert raw.http_response.status_code == 200
    completion = raw.parse()
    assert completion.choices[0].message.content == "echo: hello there"
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7


def test_streamed_call_through_with_streaming_response(
    traced: Spans, client: openai.OpenAI, aclient: openai.AsyncOpenAI
) -> None:
    """How the OpenAI Agents SDK streams: the parsed event stream of a streaming response."""
    with client.responses.with_streaming_response.create(
        model="gpt-test", input="sync", stream=True
    ) as response:
        assert [event.type for event in response.parse()][-1] == "response.completed"

    async def main() -> None:
        async with aclient.responses.with_streaming_response.create(
            model="gpt-test", input="async", stream=True
        ) as response:
            async for _ in await response.parse():
                pass

    asyncio.run(main())
    first, second = sorted(traced.all(), key=lambda s: s.start_time or 0)
    for span, text in ((first, "echo: sync"), (second, "echo: async")):
        assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 2
        assert semconv.LLM_STREAM_PARTIAL not in span.attributes
        assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == text


def _parsed_stream(client: openai.OpenAI, helper: str) -> Any:
    """The event stream of a helper's response, the response itself dropped at once."""
    kwargs: dict[str, Any] = {
        "model": "gpt-test",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if helper == "with_raw_response":
        return client.chat.completions.with_raw_response.create(**kwargs).parse()
    return client.chat.completions.with_streaming_response.create(**kwargs).__enter__().parse()


def _assert_one_complete_stream_span(spans: Spans) -> None:
    span = llm_span(spans)
    assert span.end_time is not None
    assert semconv.LLM_STREAM_PARTIAL not in span.attributes
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "echo: hello there "}
    ]


@pytest.mark.parametrize("helper", ["with_raw_response", "with_streaming_response"])
def test_stream_parsed_from_a_dropped_response_is_read_whole(
    traced: Spans, client: openai.OpenAI, helper: str
) -> None:
    stream = _parsed_stream(client, helper)
    gc.collect()
    assert traced.all() == []  # the stream is still being read
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "echo: hello there "
    )
    _assert_one_complete_stream_span(traced)


@pytest.mark.parametrize("helper", ["with_raw_response", "with_streaming_response"])
def test_async_stream_parsed_from_a_dropped_response_is_read_whole(
    traced: Spans, aclient: openai.AsyncOpenAI, helper: str
) -> None:
    async def parsed() -> Any:
        if helper == "with_raw_response":
            raw = aclient.chat.completions.with_raw_response.create(
                model="gpt-test",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
            return (await raw).parse()
        manager = aclient.chat.completions.with_streaming_response.create(
            model="gpt-test", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        return await (await manager.__aenter__()).parse()

    async def main() -> str:
        stream = await parsed()
        gc.collect()
        assert traced.all() == []
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(main()) == "echo: hello there "
    _assert_one_complete_stream_span(traced)


def test_streamed_response_dropped_or_closed_unparsed_ends_its_span(
    traced: Spans, client: openai.OpenAI
) -> None:
    kwargs: dict[str, Any] = {"model": "gpt-test", "messages": MESSAGES, "stream": True}
    client.chat.completions.with_raw_response.create(**kwargs)
    gc.collect()
    with client.chat.completions.with_streaming_response.create(**kwargs):
        pass
    spans = traced.all()
    assert len(spans) == 2
    assert all(s.attributes[semconv.LLM_STREAM_PARTIAL] is True for s in spans)


def test_azure_client(traced: Spans, openai_server: OpenAIServer) -> None:
    azure = openai.AzureOpenAI(
        api_key=API_KEY,
        api_version="2024-10-21",
        azure_endpoint=openai_server.url.removesuffix("/v1"),
        max_retries=0,
    )
    azure.chat.completions.create(model="my-deployment", messages=MESSAGES)
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "my-deployment"
    assert "/deployments/my-deployment/chat/completions" in openai_server.requests[0].path
    assert_no_secret(traced)


def test_content_switch(traced: Spans, client: openai.OpenAI, settings_override: Any) -> None:
    settings_override(capture_content=False)
    client.chat.completions.create(
        model="tool-model", messages=[{"role": "user", "content": "x"}], tools=[WEATHER_TOOL]
    )
    a = llm_span(traced).attributes
    assert semconv.GEN_AI_INPUT_MESSAGES not in a
    assert semconv.GEN_AI_OUTPUT_MESSAGES not in a
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "tool-model"
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 6
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert all("San Francisco" not in str(value) for value in a.values())


def test_nests_under_observe_and_http_spans_nest_under_it(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    http_tracer = trace.get_tracer("an-http-instrumentation")

    def on_request(request: Any) -> None:
        with http_tracer.start_as_current_span("POST http"):
            pass

    http_client = openai.DefaultHttpxClient(event_hooks={"request": [on_request]})
    client = openai.OpenAI(
        api_key=API_KEY, base_url=openai_server.url, max_retries=0, http_client=http_client
    )

    @observe(type="agent")
    def agent() -> None:
        client.chat.completions.create(model="gpt-test", messages=MESSAGES)

    agent()
    llm = llm_span(traced)
    assert parent_of(llm) == span_id(traced.one("agent"))
    assert parent_of(traced.one("POST http")) == span_id(llm)


def test_twenty_tasks_and_eight_threads_keep_their_sessions(
    traced: Spans, client: openai.OpenAI, aclient: openai.AsyncOpenAI
) -> None:
    async def one(i: int) -> None:
        with using_attributes(session_id=f"task-{i}"):
            await aclient.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": f"task-{i}"}]
            )

    async def tasks() -> None:
        await asyncio.gather(*(one(i) for i in range(20)))

    def worker(i: int) -> None:
        for n in range(3):
            with using_attributes(session_id=f"thread-{i}-{n}"):
                client.chat.completions.create(
                    model="gpt-test", messages=[{"role": "user", "content": f"thread-{i}-{n}"}]
                )

    asyncio.run(tasks())
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = traced.all()
    assert len(finished) == 20 + 8 * 3
    for span in finished:
        asked = messages(span, semconv.GEN_AI_INPUT_MESSAGES)[0]["parts"][0]["content"]
        assert span.attributes[semconv.SESSION_ID] == asked


def test_uninstrument_restores_and_stops_spans(spans: Spans, client: openai.OpenAI) -> None:
    from openai._base_client import AsyncAPIClient, SyncAPIClient

    originals = (SyncAPIClient.__dict__["request"], AsyncAPIClient.__dict__["request"])
    traceroot.instrument(integrations=["openai"])
    assert SyncAPIClient.__dict__["request"] is not originals[0]
    traceroot.uninstrument()
    assert (SyncAPIClient.__dict__["request"], AsyncAPIClient.__dict__["request"]) == originals
    client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert spans.all() == []


def test_instrument_twice_gives_one_span(traced: Spans, client: openai.OpenAI) -> None:
    traceroot.instrument(integrations=["openai"])
    traceroot.instrument()
    client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert len(traced.all()) == 1


def test_internal_error_is_contained(
    traced: Spans, client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.openai import chat

    def broken(*args: Any) -> None:
        raise RuntimeError("bug in traceroot")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(chat.ChatEndpoint, "record_response", broken)
    monkeypatch.setattr(chat.ChatEndpoint, "record_request", broken)
    result = client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert result.choices[0].message.content == "echo: hello there"
    assert llm_span(traced).end_time is not None


def test_non_model_endpoints_pass_through(traced: Spans, client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-test")
    assert traced.all() == []


def test_async_responses_embeddings_and_completions(
    traced: Spans, aclient: openai.AsyncOpenAI
) -> None:
    async def main() -> list[str]:
        seen = []
        response = await aclient.responses.create(model="gpt-test", input="async responses")
        seen.append(response.output_text)
        events = await aclient.responses.create(model="gpt-test", input="async stream", stream=True)
        seen.append([e async for e in events][-1].type)
        vectors = await aclient.embeddings.create(model="embed-test", input="one")
        seen.append(str(len(vectors.data)))
        completion = await aclient.completions.create(model="instruct-test", prompt="p")
        seen.append(completion.choices[0].text)
        chunks = await aclient.completions.create(model="instruct-test", prompt="q", stream=True)
        seen.append("".join([c.choices[0].text async for c in chunks]).strip())
        return seen

    assert asyncio.run(main()) == [
        "echo: async responses",
        "response.completed",
        "1",
        "echo: p",
        "echo: q",
    ]
    ordered = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert [s.name for s in ordered] == [
        "chat gpt-test",
        "chat gpt-test",
        "embeddings embed-test",
        "text_completion instruct-test",
        "text_completion instruct-test",
    ]
    assert [s.attributes[semconv.GEN_AI_REQUEST_STREAM] for s in ordered] == [
        False,
        True,
        False,
        False,
        True,
    ]
    for span in ordered[:-1]:  # the streamed legacy completion sends no usage
        assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert all(span.end_time is not None for span in ordered)
