"""The scripted Anthropic server speaks the wire format that the real clients parse.

The real ``anthropic`` client (sync and async) and ``langchain_anthropic.ChatAnthropic`` run
against it: create, both kinds of stream, a tool round trip, thinking, count_tokens and errors.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ..conftest import required
from .anthropic_server import AnthropicServer
from .conftest import API_KEY

anthropic = required("anthropic")

HELLO = [{"role": "user", "content": "hello there"}]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
# input: "hello there" is 2 words + 5; output: "echo: hello there" is 3 words.
HELLO_USAGE = {
    "input_tokens": 7,
    "output_tokens": 3,
    "cache_read_input_tokens": 2,
    "cache_creation_input_tokens": 3,
}


def _client(server: AnthropicServer, **options: Any) -> Any:
    return anthropic.Anthropic(base_url=server.url, api_key=API_KEY, max_retries=0, **options)


def _async_client(server: AnthropicServer) -> Any:
    return anthropic.AsyncAnthropic(base_url=server.url, api_key=API_KEY, max_retries=0)


def _usage(message: Any) -> dict[str, int]:
    return {key: getattr(message.usage, key) for key in HELLO_USAGE}


def test_create_echoes_with_usage(anthropic_server: AnthropicServer) -> None:
    message = _client(anthropic_server).messages.create(
        model="claude-test", max_tokens=64, system="Be terse.", messages=HELLO
    )

    assert [(b.type, b.text) for b in message.content] == [("text", "echo: hello there")]
    assert (message.id, message.model, message.role) == (
        "msg_test_1",
        "claude-test-2026",
        "assistant",
    )
    assert message.stop_reason == "end_turn"
    assert _usage(message) == HELLO_USAGE
    assert message.usage.cache_creation.ephemeral_5m_input_tokens == 3
    [request] = anthropic_server.requests
    assert request.path == "/v1/messages"
    assert request.body["system"] == "Be terse."
    assert API_KEY in request.headers.get("x-api-key", "") + request.headers.get(
        "authorization", ""
    )


def test_stream_helper_accumulates_text_and_usage(anthropic_server: AnthropicServer) -> None:
    client = _client(anthropic_server)
    with client.messages.stream(model="claude-test", max_tokens=64, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert text == "echo: hello there"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert _usage(final) == HELLO_USAGE
    assert anthropic_server.requests[0].body["stream"] is True


def test_create_stream_sends_the_api_event_sequence(anthropic_server: AnthropicServer) -> None:
    events = list(
        _client(anthropic_server).messages.create(
            model="claude-test", max_tokens=64, messages=HELLO, stream=True
        )
    )

    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == "echo: hello there"
    start, delta = events[0], events[-2]
    assert start.message.stop_reason is None
    assert start.message.usage.cache_read_input_tokens == 2
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.output_tokens == 3
    assert delta.usage.input_tokens == 7


def test_async_create_and_stream(anthropic_server: AnthropicServer) -> None:
    async def run() -> tuple[Any, str, Any]:
        client = _async_client(anthropic_server)
        created = await client.messages.create(model="claude-test", max_tokens=64, messages=HELLO)
        async with client.messages.stream(
            model="claude-test", max_tokens=64, messages=HELLO
        ) as stream:
            text = "".join([piece async for piece in stream.text_stream])
            final = await stream.get_final_message()
        return created, text, final

    created, text, final = asyncio.run(run())

    assert created.content[0].text == text == "echo: hello there"
    assert _usage(created) == _usage(final) == HELLO_USAGE


def test_tool_use_round_trip(anthropic_server: AnthropicServer) -> None:
    client = _client(anthropic_server)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "weather in SF?"}]

    first = client.messages.create(
        model="tool-model", max_tokens=64, tools=[WEATHER_TOOL], messages=messages
    )
    assert first.stop_reason == "tool_use"
    assert [b.type for b in first.content] == ["text", "tool_use"]
    call = first.content[1]
    assert (call.id, call.name, call.input) == (
        "toolu_weather_1",
        "get_weather",
        {"city": "San Francisco"},
    )

    messages += [
        {"role": "assistant", "content": first.content},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}],
        },
    ]
    second = client.messages.create(
        model="tool-model", max_tokens=64, tools=[WEATHER_TOOL], messages=messages
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "It is sunny in San Francisco."


def test_streamed_tool_use_arrives_as_input_json_deltas(anthropic_server: AnthropicServer) -> None:
    client = _client(anthropic_server)
    with client.messages.stream(
        model="tool-model", max_tokens=64, tools=[WEATHER_TOOL], messages=HELLO
    ) as stream:
        kinds = [e.delta.type for e in stream if e.type == "content_block_delta"]
        final = stream.get_final_message()

    assert "input_json_delta" in kinds
    assert final.stop_reason == "tool_use"
    assert final.content[1].input == {"city": "San Francisco"}


def test_thinking_block_comes_before_the_text(anthropic_server: AnthropicServer) -> None:
    client = _client(anthropic_server)
    created = client.messages.create(model="thinking-model", max_tokens=64, messages=HELLO)
    with client.messages.stream(model="thinking-model", max_tokens=64, messages=HELLO) as stream:
        thinking = "".join(e.thinking for e in stream if e.type == "thinking")
        final = stream.get_final_message()

    for message in (created, final):
        assert [b.type for b in message.content] == ["thinking", "text"]
        assert message.content[0].signature == "sig_test_1"
        assert message.usage.output_tokens_details.thinking_tokens > 0
    assert thinking == created.content[0].thinking == "The user said: hello there"


def test_count_tokens_matches_create(anthropic_server: AnthropicServer) -> None:
    counted = _client(anthropic_server).messages.count_tokens(model="claude-test", messages=HELLO)

    assert counted.input_tokens == HELLO_USAGE["input_tokens"]
    assert anthropic_server.requests[0].path == "/v1/messages/count_tokens"


def test_errors_carry_the_anthropic_error_body(anthropic_server: AnthropicServer) -> None:
    client = _client(anthropic_server)
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.create(model="error-429", max_tokens=8, messages=HELLO)
    assert (limited.value.status_code, limited.value.type) == (429, "rate_limit_error")
    assert limited.value.request_id == "req_test_429"

    # retry-after-ms keeps the retries of a 500 fast.
    with pytest.raises(anthropic.InternalServerError) as failed:
        client.with_options(max_retries=2).messages.create(
            model="error-500", max_tokens=8, messages=HELLO
        )
    assert failed.value.type == "api_error"
    assert len(anthropic_server.requests) == 1 + 3


def test_error_event_mid_stream_raises(anthropic_server: AnthropicServer) -> None:
    stream = _client(anthropic_server).messages.create(
        model="stream-error", max_tokens=8, messages=HELLO, stream=True
    )
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        seen.extend(event.type for event in stream)
    assert "content_block_delta" in seen


def test_chat_anthropic_invoke_and_stream(anthropic_server: AnthropicServer) -> None:
    langchain_anthropic = pytest.importorskip("langchain_anthropic")
    chat = langchain_anthropic.ChatAnthropic(
        model="claude-test", api_key=API_KEY, base_url=anthropic_server.url, max_retries=0
    )

    reply = chat.invoke("hello there")
    chunks = list(chat.stream("hello there"))

    assert reply.content == "echo: hello there"
    assert "".join(c.text for c in chunks) == "echo: hello there"
    streamed = chunks[0]
    for chunk in chunks[1:]:
        streamed += chunk
    # LangChain adds the cache reads and writes to the input tokens: 7 + 2 + 3.
    for usage in (reply.usage_metadata, streamed.usage_metadata):
        assert usage is not None
        assert (usage["input_tokens"], usage["output_tokens"]) == (12, 3)
        assert usage["input_token_details"]["cache_read"] == 2
    assert [r.body.get("stream", False) for r in anthropic_server.requests] == [False, True]


def test_chat_anthropic_tool_call(anthropic_server: AnthropicServer) -> None:
    langchain_anthropic = pytest.importorskip("langchain_anthropic")
    chat = langchain_anthropic.ChatAnthropic(
        model="tool-model", api_key=API_KEY, base_url=anthropic_server.url, max_retries=0
    ).bind_tools([WEATHER_TOOL])

    reply = chat.invoke("weather in SF?")

    [call] = reply.tool_calls
    assert (call["id"], call["name"], call["args"]) == (
        "toolu_weather_1",
        "get_weather",
        {"city": "San Francisco"},
    )
