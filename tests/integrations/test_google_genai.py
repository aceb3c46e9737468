"""The real ``google-genai`` client against the local scripted Gemini server, instrumented."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from ..conftest import required

genai_sdk = required("google.genai")

from google.genai import errors, types  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402

import traceroot  # noqa: E402
from traceroot import observe, semconv, using_attributes  # noqa: E402

from ..conftest import Spans, parent_of, span_id  # noqa: E402
from .conftest import API_KEY  # noqa: E402
from .google_genai_server import GeminiServer, start_gemini_server  # noqa: E402

WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "OBJECT", "properties": {"city": {"type": "STRING"}}},
)


@pytest.fixture(scope="module")
def _gemini_server() -> Iterator[tuple[GeminiServer, ThreadingHTTPServer]]:
    found, server = start_gemini_server()
    yield found, server
    server.shutdown()


@pytest.fixture
def gemini_server(_gemini_server: tuple[GeminiServer, ThreadingHTTPServer]) -> GeminiServer:
    found, _ = _gemini_server
    found.requests.clear()
    return found


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["google_genai"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture(scope="module")
def _client(_gemini_server: tuple[GeminiServer, ThreadingHTTPServer]) -> Any:
    # One for the module: making a client loads its TLS context, a few hundred milliseconds.
    return genai_sdk.Client(
        api_key=API_KEY, http_options=types.HttpOptions(base_url=_gemini_server[0].url)
    )


@pytest.fixture
def client(_client: Any, gemini_server: GeminiServer) -> Any:
    return _client


def llm_spans(spans: Spans) -> list[ReadableSpan]:
    return [s for s in spans.all() if s.attributes.get(semconv.SPAN_TYPE) == "llm"]


def llm_span(spans: Spans) -> ReadableSpan:
    found = llm_spans(spans)
    assert len(found) == 1, [s.name for s in spans.all()]
    return found[0]


def loaded(span: ReadableSpan, key: str) -> Any:
    return json.loads(span.attributes[key])


def exceptions(span: ReadableSpan) -> int:
    return len([e for e in span.events if e.name == "exception"])


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "content": value}


def test_generate_content_span_shape(
    traced: Spans, client: Any, gemini_server: GeminiServer
) -> None:
    config = types.GenerateContentConfig(
        system_instruction="You are terse.",
        temperature=0.3,
        top_p=0.9,
        top_k=20,
        max_output_tokens=50,
        seed=7,
        stop_sequences=["END"],
        response_mime_type="text/plain",
        tools=[types.Tool(function_declarations=[WEATHER])],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.NONE
            )
        ),
    )
    with using_attributes(session_id="gem-s", user_id="ada"):
        result = client.models.generate_content(
            model="gemini-test", contents="hello there", config=config
        )
    assert result.text == "echo: hello there"
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "generate_content gemini-test"
    assert a[semconv.GEN_AI_OPERATION_NAME] == "generate_content"
    assert a[semconv.GEN_AI_PROVIDER_NAME] == "gcp.gemini"
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "gemini-test"
    assert a[semconv.GEN_AI_RESPONSE_MODEL] == "gemini-test-001"
    assert a[semconv.GEN_AI_RESPONSE_ID] == "resp-test-1"
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert a[semconv.GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[semconv.GEN_AI_REQUEST_TOP_K] == 20
    assert a[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 50
    assert a[semconv.GEN_AI_REQUEST_SEED] == 7
    assert a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert a[semconv.GEN_AI_OUTPUT_TYPE] == "text"
    assert a[semconv.GEN_AI_REQUEST_STREAM] is False
    assert loaded(span, semconv.LLM_MODEL_PARAMETERS)["response_mime_type"] == "text/plain"
    # prompt 2 words + 5; output: the 3 reply words plus 1 thinking token
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 4
    assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 1
    assert a[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert isinstance(a[semconv.SERVER_PORT], int)
    assert (a[semconv.SESSION_ID], a[semconv.USER_ID]) == ("gem-s", "ada")
    assert loaded(span, semconv.GEN_AI_SYSTEM_INSTRUCTIONS) == [text("You are terse.")]
    assert loaded(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [text("hello there")]},
    ]
    assert loaded(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [text("echo: hello there")], "finish_reason": "stop"}
    ]
    assert loaded(span, semconv.GEN_AI_TOOL_DEFINITIONS) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}},
        }
    ]
    assert span.status.status_code is StatusCode.UNSET
    assert parent_of(span) is None
    assert gemini_server.requests[0].headers["x-goog-api-key"] == API_KEY


def test_async_generate_content(traced: Spans, client: Any) -> None:
    async def main() -> Any:
        return await client.aio.models.generate_content(model="gemini-test", contents="hi async")

    assert asyncio.run(main()).text == "echo: hi async"
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert loaded(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [text("hi async")]}
    ]


def test_stream_passes_the_same_chunks_and_records_the_whole_reply(
    traced: Spans, client: Any
) -> None:
    chunks = [
        chunk.text
        for chunk in client.models.generate_content_stream(
            model="gemini-test", contents="one two three"
        )
    ]
    assert chunks == ["echo: ", "one ", "two ", "three"]
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "generate_content gemini-test"
    assert a[semconv.GEN_AI_REQUEST_STREAM] is True
    assert semconv.LLM_STREAM_PARTIAL not in a
    assert a[semconv.LLM_TIME_TO_FIRST_CHUNK] >= 0
    assert a[semconv.GEN_AI_RESPONSE_ID] == "resp-test-2"
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 8
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert loaded(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [text("echo: one two three")], "finish_reason": "stop"}
    ]


def test_async_stream(traced: Spans, client: Any) -> None:
    async def main() -> list[str]:
        stream = await client.aio.models.generate_content_stream(
            model="gemini-test", contents="x y"
        )
        return [chunk.text async for chunk in stream]

    assert asyncio.run(main()) == ["echo: ", "x ", "y"]
    span = llm_span(traced)
    assert semconv.LLM_STREAM_PARTIAL not in span.attributes
    assert loaded(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [text("echo: x y")]


def test_early_break_then_abandon_ends_span_once_as_partial(traced: Spans, client: Any) -> None:
    stream = client.models.generate_content_stream(model="slow-stream", contents="a b c d")
    for _ in stream:
        break
    assert traced.all() == []  # still open: the caller holds the stream
    del stream
    gc.collect()
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.status.status_code is StatusCode.UNSET
    assert exceptions(span) == 0
    assert loaded(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [text("echo: ")]


def test_break_out_of_the_loop_ends_span_at_once(traced: Spans, client: Any) -> None:
    for _ in client.models.generate_content_stream(model="slow-stream", contents="a b c d"):
        break
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_close_ends_span(traced: Spans, client: Any) -> None:
    stream = client.models.generate_content_stream(model="gemini-test", contents="a b c")
    next(stream)
    stream.close()
    stream.close()  # a second close changes nothing
    assert llm_span(traced).attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_async_early_break_ends_span(traced: Spans, client: Any) -> None:
    async def main() -> None:
        stream = await client.aio.models.generate_content_stream(
            model="slow-stream", contents="a b c d"
        )
        async for _ in stream:
            break
        await stream.aclose()

    asyncio.run(main())
    gc.collect()
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert exceptions(span) == 0


def test_stream_cut_midway_raises_to_caller_and_keeps_what_arrived(
    traced: Spans, client: Any
) -> None:
    received: list[str] = []

    def consume() -> None:
        for chunk in client.models.generate_content_stream(model="cut-stream", contents="a b c"):
            received.append(chunk.text)

    with pytest.raises(Exception) as raised:  # whatever the HTTP stack raises
        consume()
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__name__
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert exceptions(span) == 1
    output = loaded(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"]
    assert output == "".join(received) == "echo: a "


def test_error_mid_stream(traced: Spans, client: Any) -> None:
    with pytest.raises(errors.ServerError) as raised:
        for _ in client.models.generate_content_stream(model="stream-error", contents="a b"):
            pass
    assert raised.value.code == 503
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == "ServerError"
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == 503
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert exceptions(span) == 1


@pytest.mark.parametrize(
    ("model", "error_type", "status"),
    [
        ("error-400", errors.ClientError, 400),
        ("error-429", errors.ClientError, 429),
        ("error-500", errors.ServerError, 500),
    ],
)
def test_api_errors(
    traced: Spans, client: Any, model: str, error_type: type[Exception], status: int
) -> None:
    with pytest.raises(error_type) as raised:
        client.models.generate_content(model=model, contents="x")
    assert raised.value.code == status  # type: ignore[attr-defined]
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == error_type.__name__
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == status
    assert exceptions(span) == 1
    event = next(e for e in span.events if e.name == "exception")
    assert event.attributes is not None
    assert event.attributes["exception.type"].endswith(error_type.__name__)


def test_api_error_before_the_first_chunk(traced: Spans, client: Any) -> None:
    async def main() -> None:
        stream = await client.aio.models.generate_content_stream(model="error-429", contents="x")
        async for _ in stream:
            pass

    with pytest.raises(errors.ClientError):
        for _ in client.models.generate_content_stream(model="error-429", contents="x"):
            pass
    with pytest.raises(errors.ClientError):
        asyncio.run(main())
    found = llm_spans(traced)
    assert len(found) == 2
    for span in found:
        assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == 429
        assert exceptions(span) == 1


def test_function_calling_two_rounds(traced: Spans, client: Any) -> None:
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])])
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text="weather in SF?")])]
    first = client.models.generate_content(model="tool-model", contents=contents, config=config)
    call = first.function_calls[0]
    assert (call.name, call.args) == ("get_weather", {"city": "San Francisco"})
    contents.append(first.candidates[0].content)
    contents.append(
        types.Content(
            role="user",
            parts=[types.Part.from_function_response(name="get_weather", response={"t": "sun"})],
        )
    )
    second = client.models.generate_content(model="tool-model", contents=contents, config=config)
    assert second.text == "It is sunny in San Francisco."
    one, two = llm_spans(traced)
    assert loaded(one, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [
                text("Let me check the weather."),
                {
                    "type": "tool_call",
                    "id": None,
                    "name": "get_weather",
                    "arguments": {"city": "San Francisco"},
                },
            ],
            "finish_reason": "stop",
        }
    ]
    answered = loaded(one, semconv.GEN_AI_OUTPUT_MESSAGES)[0]
    del answered["finish_reason"]
    assert loaded(two, semconv.GEN_AI_INPUT_MESSAGES)[1:] == [
        answered,
        {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": None,
                    "response": {"t": "sun"},
                    "name": "get_weather",
                }
            ],
        },
    ]


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def test_automatic_function_calling_is_two_model_calls_and_a_tool_call(
    traced: Spans, client: Any
) -> None:
    @observe(type="agent")
    def agent() -> Any:
        return client.models.generate_content(
            model="tool-model",
            contents="weather in SF?",
            config=types.GenerateContentConfig(tools=[get_weather]),
        )

    assert agent().text == "It is sunny in San Francisco."
    root = traced.one("agent")
    first, second = llm_spans(traced)
    tool = traced.one("get_weather")
    assert [parent_of(s) for s in (first, tool, second)] == [span_id(root)] * 3
    assert first.end_time <= tool.start_time
    assert tool.end_time <= second.start_time
    assert tool.attributes[semconv.SPAN_TYPE] == "tool"
    assert tool.attributes[semconv.GEN_AI_TOOL_NAME] == "get_weather"
    assert loaded(tool, semconv.GEN_AI_TOOL_CALL_ARGUMENTS) == {"city": "San Francisco"}
    assert loaded(tool, semconv.GEN_AI_TOOL_CALL_RESULT) == "sunny in San Francisco"
    # each model call carries its own usage
    assert first.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert second.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 8
    assert loaded(second, semconv.GEN_AI_INPUT_MESSAGES)[-1]["role"] == "tool"


def test_automatic_function_calling_tool_error_recorded_once(traced: Spans, client: Any) -> None:
    def get_weather(city: str) -> str:
        """Weather for a city."""
        raise ValueError("no weather today")

    client.models.generate_content(
        model="tool-model",
        contents="weather in SF?",
        config=types.GenerateContentConfig(tools=[get_weather]),
    )
    tool = traced.one("get_weather")
    assert tool.status.status_code is StatusCode.ERROR
    # what leaves the SDK's helper: its FunctionInvocationError, naming the function's error
    assert tool.attributes[semconv.ERROR_TYPE] == "FunctionInvocationError"
    assert "no weather today" in tool.status.description
    assert exceptions(tool) == 1
    response = loaded(llm_spans(traced)[1], semconv.GEN_AI_INPUT_MESSAGES)[-1]["parts"][0]
    assert "no weather today" in response["response"]["error"]


def test_async_automatic_function_calling(traced: Spans, client: Any) -> None:
    async def main() -> Any:
        return await client.aio.models.generate_content(
            model="tool-model",
            contents="weather in SF?",
            config=types.GenerateContentConfig(tools=[get_weather]),
        )

    assert asyncio.run(main()).text == "It is sunny in San Francisco."
    assert len(llm_spans(traced)) == 2
    assert traced.one("get_weather").attributes[semconv.SPAN_TYPE] == "tool"


def test_chat_session(traced: Spans, client: Any) -> None:
    chat = client.chats.create(
        model="gemini-test", config=types.GenerateContentConfig(system_instruction="Be brief.")
    )
    assert chat.send_message("hi").text == "echo: hi"
    assert "".join(c.text for c in chat.send_message_stream("again")) == "echo: again"
    _, two = llm_spans(traced)
    assert two.attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert loaded(two, semconv.GEN_AI_SYSTEM_INSTRUCTIONS) == [text("Be brief.")]
    assert loaded(two, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [text("hi")]},
        {"role": "assistant", "parts": [text("echo: hi")]},
        {"role": "user", "parts": [text("again")]},
    ]


def test_thinking_is_a_reasoning_part(traced: Spans, client: Any) -> None:
    client.models.generate_content(model="thinking-model", contents="why")
    span = llm_span(traced)
    assert loaded(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "reasoning", "content": "The user said: why"},
        text("echo: why"),
    ]
    assert span.attributes[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 1


def test_embed_content(traced: Spans, client: Any) -> None:
    result = client.models.embed_content(model="text-embedding-004", contents=["x", "y z"])
    assert len(result.embeddings) == 2
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "embeddings text-embedding-004"
    assert a[semconv.GEN_AI_OPERATION_NAME] == "embeddings"
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "text-embedding-004"
    assert a[semconv.LLM_INPUT_COUNT] == 2
    assert a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 3
    assert loaded(span, semconv.SPAN_INPUT) == ["x", "y z"]


def test_non_model_requests_pass_through(traced: Spans, client: Any) -> None:
    assert client.models.count_tokens(model="gemini-test", contents="a b").total_tokens == 7
    assert traced.all() == []


def test_content_switch(traced: Spans, client: Any, settings_override: Any) -> None:
    settings_override(capture_content=False)
    client.models.generate_content(
        model="tool-model",
        contents="weather in SF?",
        config=types.GenerateContentConfig(
            system_instruction="secret instructions", tools=[get_weather]
        ),
    )
    for _ in client.models.generate_content_stream(model="gemini-test", contents="x y"):
        pass
    client.models.embed_content(model="text-embedding-004", contents=["x"])
    traced.assert_no_content()
    first = llm_spans(traced)[0].attributes
    assert first[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 8
    assert first[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert all("San Francisco" not in str(v) for s in traced.all() for v in s.attributes.values())
    assert all("secret" not in str(v) for s in traced.all() for v in s.attributes.values())
    assert semconv.GEN_AI_SYSTEM_INSTRUCTIONS not in first


def test_vertex_provider_name(traced: Spans, gemini_server: GeminiServer) -> None:
    from google.oauth2.credentials import Credentials

    client = genai_sdk.Client(
        vertexai=True,
        project="p",
        location="us-central1",
        credentials=Credentials(token="vertex-token"),
        http_options=types.HttpOptions(base_url=gemini_server.url),
    )
    client.models.generate_content(model="gemini-test", contents="hi")
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_PROVIDER_NAME] == "gcp.vertex_ai"
    assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gemini-test"
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 6


def test_uninstrument_restores_and_stops_spans(spans: Spans, client: Any) -> None:
    from google.genai import _api_client, _extra_utils

    names = ("request", "request_streamed", "async_request", "async_request_streamed")
    originals = [_api_client.BaseApiClient.__dict__[name] for name in names]
    invoke = _extra_utils.invoke_function_from_dict_args
    traceroot.instrument(integrations=["google_genai"])
    assert _api_client.BaseApiClient.__dict__["request"] is not originals[0]
    assert _extra_utils.invoke_function_from_dict_args is not invoke
    traceroot.uninstrument()
    assert [_api_client.BaseApiClient.__dict__[name] for name in names] == originals
    assert _extra_utils.invoke_function_from_dict_args is invoke
    client.models.generate_content(model="gemini-test", contents="hi")
    assert spans.all() == []


def test_instrument_twice_gives_one_span(traced: Spans, client: Any) -> None:
    traceroot.instrument(integrations=["google_genai"])
    traceroot.instrument()
    client.models.generate_content(model="gemini-test", contents="hi")
    assert len(traced.all()) == 1


def test_internal_error_is_contained(
    traced: Spans, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.google_genai import wire

    def broken(*args: Any) -> None:
        raise RuntimeError("bug in traceroot")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(wire, "record_request", broken)
    monkeypatch.setattr(wire, "record_response", broken)
    assert client.models.generate_content(model="gemini-test", contents="hi").text == "echo: hi"
    chunks = [c.text for c in client.models.generate_content_stream(model="x", contents="hi")]
    assert chunks == ["echo: ", "hi"]
    assert all(span.end_time is not None for span in llm_spans(traced))
    assert len(llm_spans(traced)) == 2


def test_user_exception_in_the_loop_propagates_and_ends_span(traced: Spans, client: Any) -> None:
    class StopError(Exception):
        pass

    def consume() -> None:
        for _ in client.models.generate_content_stream(model="gemini-test", contents="a b"):
            raise StopError

    with pytest.raises(StopError):
        consume()
    gc.collect()
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.status.status_code is StatusCode.UNSET


def test_nests_under_observe(traced: Spans, client: Any) -> None:
    @observe(type="agent")
    def agent() -> None:
        client.models.generate_content(model="gemini-test", contents="hi")
        for _ in client.models.generate_content_stream(model="gemini-test", contents="hi"):
            pass

    agent()
    root = span_id(traced.one("agent"))
    assert [parent_of(s) for s in llm_spans(traced)] == [root, root]


def test_the_extra_installs_the_supported_range() -> None:
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    from traceroot.integrations.google_genai import GoogleGenAIIntegration

    found = [
        Requirement(text)
        for text in metadata.requires("traceroot") or []
        if "google-genai" in str(Requirement(text).marker or "")
    ]
    assert [r.name for r in found] == ["google-genai"]
    assert found[0].specifier == SpecifierSet(GoogleGenAIIntegration.supported)
