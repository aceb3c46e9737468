"""The real ``anthropic`` client (0.x and 2.x lines) against the local scripted server,
instrumented by traceroot."""

from __future__ import annotations

import pytest

from ..conftest import required

anthropic = required("anthropic")

import asyncio  # noqa: E402
import gc  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402

import traceroot  # noqa: E402
from traceroot import observe, semconv, using_attributes  # noqa: E402

from ..conftest import Spans, parent_of, span_id  # noqa: E402
from .anthropic_server import AnthropicServer  # noqa: E402
from .conftest import API_KEY  # noqa: E402

SDK_SCOPE = "com.anthropic.sdk.python"
# Whether this line of the SDK traces itself (2.x does, 0.x does not).
SDK_TRACES = hasattr(anthropic._base_client, "start_api_call_span")
HELLO = [{"role": "user", "content": "hello there"}]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
# The server's usage for "hello there": input 7 uncached + 2 read from cache + 3 written to it.
HELLO_INPUT_TOKENS = 12


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["anthropic"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture
def client(anthropic_server: AnthropicServer) -> Any:
    return anthropic.Anthropic(api_key=API_KEY, base_url=anthropic_server.url, max_retries=0)


@pytest.fixture
def aclient(anthropic_server: AnthropicServer) -> Any:
    return anthropic.AsyncAnthropic(api_key=API_KEY, base_url=anthropic_server.url, max_retries=0)


def llm_span(spans: Spans) -> ReadableSpan:
    found = llm_spans(spans)
    assert len(found) == 1, [s.name for s in spans.all()]
    return found[0]


def llm_spans(spans: Spans) -> list[ReadableSpan]:
    return [s for s in spans.all() if s.attributes.get(semconv.SPAN_TYPE) == "llm"]


def usage_spans(spans: Spans) -> list[ReadableSpan]:
    return [
        s
        for s in spans.all()
        if any(k.startswith(semconv.GEN_AI_USAGE_PREFIX) for k in s.attributes)
    ]


def loaded(span: ReadableSpan, key: str) -> Any:
    return json.loads(span.attributes[key])


def output_text(span: ReadableSpan) -> str:
    [message] = loaded(span, semconv.GEN_AI_OUTPUT_MESSAGES)
    return "".join(p["content"] for p in message["parts"] if p["type"] == "text")


def exceptions(span: ReadableSpan) -> int:
    return len([e for e in span.events if e.name == "exception"])


def test_create_span_shape(traced: Spans, client: Any, anthropic_server: AnthropicServer) -> None:
    with using_attributes(session_id="claude-s", user_id="ada"):
        message = client.messages.create(
            model="claude-test",
            max_tokens=64,
            system="Be terse.",
            messages=HELLO,
            stop_sequences=["END"],
        )
    assert message.content[0].text == "echo: hello there"

    span = llm_span(traced)
    assert span.name == "chat claude-test"
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "traceroot"
    a = span.attributes
    assert a[semconv.SESSION_ID] == "claude-s"
    assert a[semconv.USER_ID] == "ada"
    assert a[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert a[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "claude-test"
    assert a[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert a[semconv.GEN_AI_REQUEST_STREAM] is False
    assert a[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert a[semconv.GEN_AI_RESPONSE_ID] == "msg_test_1"
    assert a[semconv.GEN_AI_RESPONSE_MODEL] == "claude-test-2026"
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    # GenAI's input count includes the cached tokens; Anthropic's input_tokens (7) does not.
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == HELLO_INPUT_TOKENS
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 3
    assert loaded(span, semconv.GEN_AI_SYSTEM_INSTRUCTIONS) == [
        {"type": "text", "content": "Be terse."}
    ]
    assert loaded(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "hello there"}]}
    ]
    assert loaded(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "echo: hello there"}],
            "finish_reason": "end_turn",
        }
    ]
    assert span.status.status_code is StatusCode.UNSET
    # The SDK's own span of the call (2.x) is left out: one span per call.
    assert [s.name for s in traced.all()] == ["chat claude-test"]


def test_async_create(traced: Spans, aclient: Any) -> None:
    async def main() -> Any:
        return await aclient.messages.create(model="claude-test", max_tokens=64, messages=HELLO)

    assert asyncio.run(main()).content[0].text == "echo: hello there"
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == HELLO_INPUT_TOKENS
    assert output_text(span) == "echo: hello there"


def test_streamed_create_passes_the_same_events(traced: Spans, client: Any) -> None:
    events = list(
        client.messages.create(model="claude-test", max_tokens=64, messages=HELLO, stream=True)
    )
    assert events[0].type == "message_start"
    assert events[-1].type == "message_stop"
    span = llm_span(traced)
    a = span.attributes
    assert a[semconv.GEN_AI_REQUEST_STREAM] is True
    assert a[semconv.GEN_AI_RESPONSE_ID] == "msg_test_2"
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == HELLO_INPUT_TOKENS
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.LLM_TIME_TO_FIRST_CHUNK] >= 0
    assert semconv.LLM_STREAM_PARTIAL not in a
    assert output_text(span) == "echo: hello there"


def test_stream_helper_and_final_message(traced: Spans, client: Any) -> None:
    with client.messages.stream(model="claude-test", max_tokens=64, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "echo: hello there"
    assert final.usage.output_tokens == 3
    span = llm_span(traced)
    assert output_text(span) == text
    assert semconv.LLM_STREAM_PARTIAL not in span.attributes
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3


def test_async_stream_helper(traced: Spans, aclient: Any) -> None:
    async def main() -> str:
        async with aclient.messages.stream(
            model="claude-test", max_tokens=64, messages=HELLO
        ) as stream:
            return "".join([text async for text in stream.text_stream])

    assert asyncio.run(main()) == "echo: hello there"
    span = llm_span(traced)
    assert output_text(span) == "echo: hello there"
    assert span.end_time is not None


def test_async_streamed_create(traced: Spans, aclient: Any) -> None:
    async def main() -> list[str]:
        stream = await aclient.messages.create(
            model="claude-test", max_tokens=64, messages=HELLO, stream=True
        )
        return [event.type async for event in stream]

    assert asyncio.run(main())[-1] == "message_stop"
    assert llm_span(traced).attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3


def test_tool_use_round_trip(traced: Spans, client: Any) -> None:
    conversation: list[Any] = [{"role": "user", "content": "weather in SF?"}]
    first = client.messages.create(
        model="tool-model", max_tokens=64, messages=conversation, tools=[WEATHER_TOOL]
    )
    assert first.stop_reason == "tool_use"
    tool_use = first.content[1]
    conversation += [
        {"role": "assistant", "content": first.content},  # the SDK's own blocks, passed back
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "sunny"}],
        },
    ]
    second = client.messages.create(
        model="tool-model", max_tokens=64, messages=conversation, tools=[WEATHER_TOOL]
    )
    assert second.content[0].text == "It is sunny in San Francisco."

    asked, answered = llm_spans(traced)
    assert asked.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
    assert loaded(asked, semconv.GEN_AI_TOOL_DEFINITIONS) == [WEATHER_TOOL]
    [reply] = loaded(asked, semconv.GEN_AI_OUTPUT_MESSAGES)
    assert reply["parts"][1] == {
        "type": "tool_call",
        "id": "toolu_weather_1",
        "name": "get_weather",
        "arguments": {"city": "San Francisco"},
    }
    inputs = loaded(answered, semconv.GEN_AI_INPUT_MESSAGES)
    assert inputs[1]["role"] == "assistant"
    assert inputs[1]["parts"][1]["type"] == "tool_call"
    assert inputs[2]["parts"] == [
        {"type": "tool_call_response", "id": "toolu_weather_1", "response": "sunny"}
    ]


def test_streamed_tool_use_is_reassembled(traced: Spans, client: Any) -> None:
    with client.messages.stream(
        model="tool-model",
        max_tokens=64,
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
    ) as stream:
        final = stream.get_final_message()
    assert final.content[1].input == {"city": "San Francisco"}
    [reply] = loaded(llm_span(traced), semconv.GEN_AI_OUTPUT_MESSAGES)
    assert reply["parts"] == [
        {"type": "text", "content": "Let me check the weather."},
        {
            "type": "tool_call",
            "id": "toolu_weather_1",
            "name": "get_weather",
            "arguments": {"city": "San Francisco"},
        },
    ]
    assert reply["finish_reason"] == "tool_use"


def test_images_are_references_not_payloads(traced: Spans, client: Any) -> None:
    payload = "iVBORw0KGgo" + "A" * 5000
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": payload}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
        {"type": "text", "text": "hello there"},
    ]
    client.messages.create(
        model="claude-test", max_tokens=64, messages=[{"role": "user", "content": content}]
    )
    span = llm_span(traced)
    [message] = loaded(span, semconv.GEN_AI_INPUT_MESSAGES)
    assert message["parts"] == [
        {
            "type": "uri",
            "modality": "image",
            "uri": "data:image/png;base64,<5011 characters omitted>",
        },
        {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
        {"type": "text", "content": "hello there"},
    ]
    assert all(payload not in str(value) for value in span.attributes.values())


def test_extended_thinking(traced: Spans, client: Any) -> None:
    message = client.messages.create(
        model="claude-test",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=HELLO,
    )
    assert message.content[0].type == "thinking"
    span = llm_span(traced)
    [reply] = loaded(span, semconv.GEN_AI_OUTPUT_MESSAGES)
    assert reply["parts"][0] == {"type": "reasoning", "content": "The user said: hello there"}
    assert loaded(span, semconv.LLM_MODEL_PARAMETERS)["thinking"] == {
        "type": "enabled",
        "budget_tokens": 1024,
    }
    assert span.attributes[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 5


def test_streamed_thinking(traced: Spans, client: Any) -> None:
    with client.messages.stream(model="thinking-model", max_tokens=64, messages=HELLO) as stream:
        stream.until_done()
    [reply] = loaded(llm_span(traced), semconv.GEN_AI_OUTPUT_MESSAGES)
    assert reply["parts"] == [
        {"type": "reasoning", "content": "The user said: hello there"},
        {"type": "text", "content": "echo: hello there"},
    ]


def test_count_tokens_is_a_plain_span_without_usage(traced: Spans, client: Any) -> None:
    counted = client.messages.count_tokens(model="claude-test", messages=HELLO, system="Short.")
    assert counted.input_tokens == 7
    [span] = traced.all()
    assert span.name == "count_tokens claude-test"
    a = span.attributes
    assert a[semconv.SPAN_TYPE] == "span"
    assert a[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert a[semconv.ANTHROPIC_COUNT_TOKENS_INPUT_TOKENS] == 7
    assert usage_spans(traced) == []
    assert loaded(span, semconv.GEN_AI_INPUT_MESSAGES)[0]["parts"][0]["content"] == "hello there"


def test_with_raw_response(traced: Spans, client: Any, aclient: Any) -> None:
    raw = client.messages.with_raw_response.create(
        model="claude-test", max_tokens=64, messages=HELLO
    )
    assert raw.headers["request-id"] == "req_test_200"
    assert raw.parse().content[0].text == "echo: hello there"

    async def main() -> Any:
        response = await aclient.messages.with_raw_response.create(
            model="claude-test", max_tokens=64, messages=HELLO
        )
        parsed = response.parse()  # 0.x: the legacy raw response parses synchronously
        return await parsed if inspect.isawaitable(parsed) else parsed

    assert asyncio.run(main()).id == "msg_test_1"
    for span in llm_spans(traced):
        assert output_text(span) == "echo: hello there"
        assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == HELLO_INPUT_TOKENS


def test_streamed_call_through_with_streaming_response(traced: Spans, client: Any) -> None:
    with client.messages.with_streaming_response.create(
        model="claude-test", max_tokens=64, messages=HELLO, stream=True
    ) as response:
        assert traced.all() == []
        events = [event.type for event in response.parse()]
    assert events[-1] == "message_stop"
    span = llm_span(traced)
    assert output_text(span) == "echo: hello there"
    assert semconv.LLM_STREAM_PARTIAL not in span.attributes


def test_early_break_then_abandon_ends_span_once_as_partial(traced: Spans, client: Any) -> None:
    stream = client.messages.create(model="slow-stream", max_tokens=64, messages=HELLO, stream=True)
    for _ in stream:
        break
    assert traced.all() == []  # still open: the caller holds the stream
    del stream
    gc.collect()
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes[semconv.GEN_AI_RESPONSE_ID] == "msg_test_2"
    # message_start's output count is a placeholder: a stream cut before message_delta has none.
    assert semconv.GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes


def test_stream_helper_left_early_ends_span_at_exit(traced: Spans, client: Any) -> None:
    with client.messages.stream(model="claude-test", max_tokens=64, messages=HELLO) as stream:
        for _ in stream:
            break
        assert traced.all() == []
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.end_time is not None


def test_close_ends_span_once(traced: Spans, client: Any) -> None:
    stream = client.messages.create(model="claude-test", max_tokens=64, messages=HELLO, stream=True)
    next(iter(stream))
    stream.close()
    stream.close()  # a second close changes nothing
    assert llm_span(traced).attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_error_event_mid_stream(traced: Spans, client: Any) -> None:
    received: list[str] = []

    def consume() -> None:
        with client.messages.stream(model="stream-error", max_tokens=64, messages=HELLO) as s:
            received.extend(s.text_stream)

    with pytest.raises(anthropic.APIStatusError) as raised:
        consume()
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__name__
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert exceptions(span) == 1
    assert output_text(span) == "".join(received)


def test_stream_cut_midway_raises_to_caller(traced: Spans, client: Any) -> None:
    with pytest.raises(Exception) as raised:  # whatever the HTTP stack raises
        for _ in client.messages.create(
            model="cut-stream", max_tokens=64, messages=HELLO, stream=True
        ):
            pass
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__qualname__
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert exceptions(span) == 1


@pytest.mark.parametrize(
    ("model", "error", "status"),
    [
        ("error-429", "RateLimitError", 429),
        ("error-500", "InternalServerError", 500),
        ("error-529", "OverloadedError", 529),
    ],
)
def test_api_errors(traced: Spans, client: Any, model: str, error: str, status: int) -> None:
    with pytest.raises(anthropic.APIStatusError) as raised:
        client.messages.create(model=model, max_tokens=64, messages=HELLO)
    assert raised.value.status_code == status
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__name__
    assert type(raised.value).__name__ in (error, "APIStatusError")
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == status
    assert exceptions(span) == 1


def test_connection_error_is_the_same_object(traced: Spans) -> None:
    dead = anthropic.Anthropic(api_key=API_KEY, base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(anthropic.APIConnectionError) as raised:
        dead.messages.create(model="claude-test", max_tokens=64, messages=HELLO)
    span = llm_span(traced)
    assert span.attributes[semconv.ERROR_TYPE] == "APIConnectionError"
    assert raised.value.__traceback__ is not None


def test_content_switch(traced: Spans, client: Any, settings_override: Any) -> None:
    settings_override(capture_content=False)
    client.messages.create(
        model="tool-model",
        max_tokens=64,
        system="Secret system prompt.",
        messages=[{"role": "user", "content": "weather in SF?"}],
        tools=[WEATHER_TOOL],
    )
    with client.messages.stream(model="claude-test", max_tokens=64, messages=HELLO) as stream:
        stream.until_done()
    client.messages.count_tokens(model="claude-test", messages=HELLO)
    traced.assert_no_content()
    first = llm_spans(traced)[0].attributes
    assert semconv.GEN_AI_SYSTEM_INSTRUCTIONS not in first
    assert first[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 13  # 3 words + 5, + 2 + 3 cached
    assert first[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
    assert semconv.GEN_AI_TOOL_DEFINITIONS in first  # schemas are code, not content
    for span in traced.all():
        assert all("San Francisco" not in str(v) for v in span.attributes.values())
        assert all("Secret system" not in str(v) for v in span.attributes.values())


def test_nests_under_observe(traced: Spans, client: Any) -> None:
    @observe(type="agent")
    def agent() -> str:
        return (
            client.messages.create(model="claude-test", max_tokens=64, messages=HELLO)
            .content[0]
            .text
        )

    with using_attributes(session_id="nest"):
        agent()
    outer = traced.one("agent")
    inner = llm_span(traced)
    assert parent_of(inner) == span_id(outer)
    assert inner.attributes[semconv.SESSION_ID] == "nest"


def test_bedrock_client(traced: Spans, anthropic_server: AnthropicServer) -> None:
    bedrock = anthropic.AnthropicBedrock(
        api_key=API_KEY, aws_region="us-east-1", base_url=anthropic_server.url, max_retries=0
    )
    message = bedrock.messages.create(
        model="anthropic.claude-test-v1:0", max_tokens=64, messages=HELLO
    )
    assert message.content[0].text == "echo: hello there"
    assert anthropic_server.requests[0].path == "/model/anthropic.claude-test-v1:0/invoke"
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "anthropic.claude-test-v1:0"
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == HELLO_INPUT_TOKENS
    assert [s.name for s in traced.all()] == ["chat anthropic.claude-test-v1:0"]


def test_vertex_client_create_and_stream(traced: Spans, anthropic_server: AnthropicServer) -> None:
    vertex = anthropic.AnthropicVertex(
        access_token="vertex-token",
        project_id="proj",
        region="us-east5",
        base_url=anthropic_server.url,
        max_retries=0,
    )
    message = vertex.messages.create(model="claude-test@1", max_tokens=64, messages=HELLO)
    assert message.content[0].text == "echo: hello there"
    with vertex.messages.stream(model="claude-test@1", max_tokens=64, messages=HELLO) as stream:
        assert "".join(stream.text_stream) == "echo: hello there"
    assert anthropic_server.requests[1].path.endswith("/models/claude-test@1:streamRawPredict")
    plain, streamed = llm_spans(traced)
    for span in (plain, streamed):
        assert span.attributes[semconv.GEN_AI_PROVIDER_NAME] == "gcp.vertex_ai"
        assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "claude-test@1"
        assert output_text(span) == "echo: hello there"
    assert streamed.attributes[semconv.GEN_AI_REQUEST_STREAM] is True


def test_beta_tool_runner_one_llm_span_per_turn(traced: Spans, client: Any) -> None:
    @anthropic.beta_tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    with using_attributes(session_id="runner"):
        runner = client.beta.messages.tool_runner(
            model="tool-model",
            max_tokens=64,
            messages=[{"role": "user", "content": "weather in SF?"}],
            tools=[get_weather],
        )
        turns = list(runner)
    assert turns[-1].content[0].text == "It is sunny in San Francisco."
    asked, answered = llm_spans(traced)
    assert asked.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
    result = loaded(answered, semconv.GEN_AI_INPUT_MESSAGES)[-1]["parts"][0]
    assert result["type"] == "tool_call_response"
    assert result["response"] == "sunny in San Francisco"
    assert usage_spans(traced) == [asked, answered]
    assert {s.attributes[semconv.SESSION_ID] for s in traced.all()} == {"runner"}
    # The 2.x SDK's own runner and tool spans stay, and the model calls nest under the runner's.
    runner_spans = [s for s in traced.all() if s.name == "anthropic.messages.tool_runner"]
    assert len(runner_spans) == (1 if SDK_TRACES else 0)
    for span in runner_spans:
        assert span.attributes[semconv.SPAN_TYPE] == "agent"
        assert parent_of(asked) == span_id(span)
    tool_spans = [s for s in traced.all() if s.attributes.get(semconv.SPAN_TYPE) == "tool"]
    assert len(tool_spans) == len(runner_spans)  # 2.x: one, with its content; 0.x: none
    for span in tool_spans:
        assert span.attributes[semconv.GEN_AI_TOOL_NAME] == "get_weather"
        assert span.attributes[semconv.GEN_AI_TOOL_CALL_RESULT] == "sunny in San Francisco"
        assert json.loads(span.attributes[semconv.GEN_AI_TOOL_CALL_ARGUMENTS]) == {
            "city": "San Francisco"
        }


def test_tool_runner_tool_spans_without_content(
    traced: Spans, client: Any, settings_override: Any
) -> None:
    settings_override(capture_content=False)

    @anthropic.beta_tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    runner = client.beta.messages.tool_runner(
        model="tool-model",
        max_tokens=64,
        messages=[{"role": "user", "content": "weather in SF?"}],
        tools=[get_weather],
    )
    assert list(runner)[-1].stop_reason == "end_turn"
    traced.assert_no_content()
    for span in traced.all():
        assert all("sunny" not in str(value) for value in span.attributes.values())


def test_sdk_own_spans_return_after_uninstrument(spans: Spans, client: Any) -> None:
    from anthropic import _base_client

    originals = (
        _base_client.SyncAPIClient.__dict__["request"],
        _base_client.AsyncAPIClient.__dict__["request"],
        getattr(_base_client, "start_api_call_span", None),
    )
    traceroot.instrument(integrations=["anthropic"])
    assert _base_client.SyncAPIClient.__dict__["request"] is not originals[0]
    traceroot.uninstrument()
    assert (
        _base_client.SyncAPIClient.__dict__["request"],
        _base_client.AsyncAPIClient.__dict__["request"],
        getattr(_base_client, "start_api_call_span", None),
    ) == originals
    client.messages.create(model="claude-test", max_tokens=64, messages=HELLO)
    scopes = [s.instrumentation_scope.name for s in spans.all() if s.instrumentation_scope]
    assert scopes == ([SDK_SCOPE] if SDK_TRACES else [])


def test_instrument_twice_gives_one_span(traced: Spans, client: Any) -> None:
    traceroot.instrument(integrations=["anthropic"])
    traceroot.instrument()
    client.messages.create(model="claude-test", max_tokens=64, messages=HELLO)
    assert len(traced.all()) == 1


def test_internal_error_is_contained(
    traced: Spans, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.anthropic import messages

    def broken(*args: Any) -> None:
        raise RuntimeError("bug in traceroot")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(messages.MessagesEndpoint, "record_response", broken)
    monkeypatch.setattr(messages.MessagesEndpoint, "record_request", broken)
    monkeypatch.setattr(messages.MessageStream, "add", broken)
    result = client.messages.create(model="claude-test", max_tokens=64, messages=HELLO)
    assert result.content[0].text == "echo: hello there"
    with client.messages.stream(model="claude-test", max_tokens=64, messages=HELLO) as stream:
        assert "".join(stream.text_stream) == "echo: hello there"
    assert all(span.end_time is not None for span in llm_spans(traced))
    assert len(llm_spans(traced)) == 2


def test_user_exception_inside_stream_propagates_unchanged(traced: Spans, client: Any) -> None:
    class StopError(Exception):
        pass

    stop = StopError()

    def consume() -> None:
        with client.messages.stream(model="claude-test", max_tokens=64, messages=HELLO) as stream:
            for _ in stream:
                raise stop

    with pytest.raises(StopError) as raised:
        consume()
    assert raised.value is stop
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.end_time is not None


def test_other_endpoints_pass_through(traced: Spans, client: Any) -> None:
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-test")
    assert [s for s in traced.all() if s.instrumentation_scope.name == "traceroot"] == []
