"""The real ``mistralai`` client against the local scripted Mistral server, instrumented by
traceroot."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from ..conftest import required

required("mistralai")

from mistralai.client import Mistral, errors, models  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402

import traceroot  # noqa: E402
from traceroot import observe, semconv, using_attributes  # noqa: E402

from ..conftest import Spans, parent_of, run_script, span_id  # noqa: E402
from .conftest import API_KEY  # noqa: E402
from .mistral_server import MistralServer, start_mistral_server  # noqa: E402

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
    "id": "wQ3a9xYz1",
    "name": "get_weather",
    "arguments": {"city": "Paris"},
}


@pytest.fixture(scope="module")
def _mistral_server() -> Iterator[tuple[MistralServer, ThreadingHTTPServer]]:
    found, server = start_mistral_server()
    yield found, server
    server.shutdown()


@pytest.fixture
def mistral_server(_mistral_server: tuple[MistralServer, ThreadingHTTPServer]) -> MistralServer:
    found, _ = _mistral_server
    found.requests.clear()
    return found


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["mistral"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture
def client(mistral_server: MistralServer) -> Mistral:
    return Mistral(api_key=API_KEY, server_url=mistral_server.url)


def llm_span(spans: Spans) -> ReadableSpan:
    found = [s for s in spans.all() if s.attributes.get(semconv.SPAN_TYPE) == "llm"]
    assert len(found) == 1, [s.name for s in spans.all()]
    return found[0]


def messages(span: ReadableSpan, key: str) -> Any:
    return json.loads(span.attributes[key])


def test_chat_complete_span_shape(
    traced: Spans, client: Mistral, mistral_server: MistralServer
) -> None:
    with using_attributes(session_id="mistral-s", user_id="ada"):
        result = client.chat.complete(
            model="mistral-small-latest",
            messages=MESSAGES,
            temperature=0.3,
            top_p=0.9,
            max_tokens=50,
            random_seed=7,
            stop=["END"],
            response_format={"type": "text"},
            safe_prompt=True,
        )
    assert result.choices[0].message.content == "echo: hello there"
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "chat mistral-small-latest"
    assert span.parent is None
    assert a[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert a[semconv.GEN_AI_PROVIDER_NAME] == "mistral_ai"
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "mistral-small-latest"
    assert a[semconv.GEN_AI_RESPONSE_MODEL] == "mistral-small-latest-2507"
    assert a[semconv.GEN_AI_RESPONSE_ID] == "cmpl-mistral-1"
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert a[semconv.GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 50
    assert a[semconv.GEN_AI_REQUEST_SEED] == 7
    assert a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert a[semconv.GEN_AI_OUTPUT_TYPE] == "text"
    assert a[semconv.GEN_AI_REQUEST_STREAM] is False
    parameters = json.loads(a[semconv.LLM_MODEL_PARAMETERS])
    assert (parameters["safe_prompt"], parameters["seed"]) == (True, 7)
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert a[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert isinstance(a[semconv.SERVER_PORT], int)
    assert (a[semconv.SESSION_ID], a[semconv.USER_ID]) == ("mistral-s", "ada")
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
    assert mistral_server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_server_url_is_parsed_once_and_per_call_url_wins(
    traced: Spans, client: Mistral, mistral_server: MistralServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.mistral import wrappers

    parsed: list[str] = []
    real_urlsplit = wrappers.urlsplit
    monkeypatch.setattr(wrappers, "_SERVERS", {}, raising=False)
    monkeypatch.setattr(wrappers, "urlsplit", lambda url: parsed.append(url) or real_urlsplit(url))
    port = int(mistral_server.url.rpartition(":")[2].rstrip("/"))
    for _ in range(3):
        client.chat.complete(model="mistral-small-latest", messages=MESSAGES)
    client.chat.complete(
        model="mistral-small-latest",
        messages=MESSAGES,
        server_url=f"http://localhost:{port}",
    )
    assert parsed == [mistral_server.url, f"http://localhost:{port}"]
    servers = [
        (s.attributes[semconv.SERVER_ADDRESS], s.attributes[semconv.SERVER_PORT])
        for s in sorted(traced.all(), key=lambda s: s.start_time or 0)
    ]
    assert servers == [("127.0.0.1", port)] * 3 + [("localhost", port)]


def test_default_server_is_mistral_api() -> None:
    from traceroot.integrations.mistral.wrappers import _server

    assert _server(Mistral(api_key=API_KEY), None) == {
        semconv.SERVER_ADDRESS: "api.mistral.ai",
        semconv.SERVER_PORT: 443,
    }


def test_sdk_message_objects_and_content_chunks(traced: Spans, client: Mistral) -> None:
    client.chat.complete(
        model="mistral-small-latest",
        messages=[
            models.SystemMessage(content="Be brief."),
            models.UserMessage(
                content=[
                    models.TextChunk(text="what is this?"),
                    models.ImageURLChunk(image_url="https://example.com/cat.png"),
                ]
            ),
        ],
    )
    assert messages(llm_span(traced), semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "what is this?"},
                {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
            ],
        },
    ]


def test_async_complete(traced: Spans, client: Mistral) -> None:
    async def main() -> Any:
        with using_attributes(session_id="async-s"):
            result = await client.chat.complete_async(model="mistral-small", messages=MESSAGES)
        return result.choices[0].message.content

    assert asyncio.run(main()) == "echo: hello there"
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert span.attributes[semconv.SESSION_ID] == "async-s"


def test_stream_records_chunks_usage_and_first_chunk_time(traced: Spans, client: Mistral) -> None:
    with using_attributes(session_id="stream-s"):
        stream = client.chat.stream(model="mistral-small", messages=MESSAGES)
    events = list(stream)
    text = "".join(str(event.data.choices[0].delta.content or "") for event in events)
    assert text == "echo: hello there "
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "chat mistral-small"
    assert a[semconv.GEN_AI_REQUEST_STREAM] is True
    assert a[semconv.GEN_AI_RESPONSE_ID] == "cmpl-mistral-2"
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[semconv.LLM_TIME_TO_FIRST_CHUNK] > 0
    assert a[semconv.SESSION_ID] == "stream-s"
    assert semconv.LLM_STREAM_PARTIAL not in a
    assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "echo: hello there "}],
            "finish_reason": "stop",
        }
    ]


def test_async_stream(traced: Spans, client: Mistral) -> None:
    async def main() -> str:
        stream = await client.chat.stream_async(model="mistral-small", messages=MESSAGES)
        return "".join([str(e.data.choices[0].delta.content or "") async for e in stream])

    assert asyncio.run(main()) == "echo: hello there "
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert semconv.LLM_STREAM_PARTIAL not in span.attributes


def test_early_break_then_abandon_ends_span_once_as_partial(traced: Spans, client: Mistral) -> None:
    stream = client.chat.stream(model="slow-stream", messages=MESSAGES)
    for _ in stream:
        break
    assert traced.all() == []  # still open: the caller holds the stream
    del stream
    gc.collect()
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.status.status_code is StatusCode.UNSET


def test_close_and_with_block_end_the_span(traced: Spans, client: Mistral) -> None:
    stream = client.chat.stream(model="mistral-small", messages=MESSAGES)
    next(iter(stream))
    stream.close()
    stream.close()  # a second close changes nothing
    with client.chat.stream(model="mistral-small", messages=MESSAGES) as stream:
        for _ in stream:
            break
    closed, exited = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert closed.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert exited.attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_async_early_close(traced: Spans, client: Mistral) -> None:
    async def main() -> None:
        stream = await client.chat.stream_async(model="mistral-small", messages=MESSAGES)
        async for _ in stream:
            break
        await stream.close()

    asyncio.run(main())
    assert llm_span(traced).attributes[semconv.LLM_STREAM_PARTIAL] is True


def test_stream_cut_midway_raises_and_keeps_what_arrived(traced: Spans, client: Mistral) -> None:
    received: list[str] = []

    def consume() -> None:
        for event in client.chat.stream(model="cut-stream", messages=MESSAGES):
            received.append(str(event.data.choices[0].delta.content or ""))

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
def test_api_errors(traced: Spans, client: Mistral, model: str, status: int) -> None:
    with pytest.raises(errors.SDKError) as raised:
        client.chat.complete(model=model, messages=MESSAGES)
    assert raised.value.status_code == status
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == "SDKError"
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == status
    assert len([e for e in span.events if e.name == "exception"]) == 1
    assert raised.value.__traceback__ is not None


def test_stream_api_error(traced: Spans, client: Mistral) -> None:
    with pytest.raises(errors.SDKError):
        client.chat.stream(model="error-429", messages=MESSAGES)
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == 429
    assert len([e for e in span.events if e.name == "exception"]) == 1


def test_tool_call_round_trip(traced: Spans, client: Mistral) -> None:
    conversation: list[Any] = [{"role": "user", "content": "weather in Paris?"}]
    first = client.chat.complete(model="tool-model", messages=conversation, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    conversation.append(first.choices[0].message)
    conversation.append(
        {"role": "tool", "tool_call_id": call.id, "name": "get_weather", "content": "sunny"}
    )
    second = client.chat.complete(model="tool-model", messages=conversation, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "Sunny in Paris."
    asked, answered = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert asked.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert messages(asked, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [WEATHER_PART]
    assert json.loads(asked.attributes[semconv.GEN_AI_TOOL_DEFINITIONS]) == [WEATHER_TOOL]
    history = messages(answered, semconv.GEN_AI_INPUT_MESSAGES)
    assert history[1] == {"role": "assistant", "parts": [WEATHER_PART]}
    assert history[2] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "wQ3a9xYz1", "response": "sunny"}],
    }


def test_streamed_tool_call(traced: Spans, client: Mistral) -> None:
    list(client.chat.stream(model="tool-model", messages=MESSAGES, tools=[WEATHER_TOOL]))
    output = messages(llm_span(traced), semconv.GEN_AI_OUTPUT_MESSAGES)[0]
    assert output["parts"] == [WEATHER_PART]
    assert output["finish_reason"] == "tool_calls"


def test_agents_complete_and_stream(traced: Spans, client: Mistral) -> None:
    client.agents.complete(agent_id="ag_weather", messages=MESSAGES)
    list(client.agents.stream(agent_id="ag_weather", messages=MESSAGES))
    plain, streamed = sorted(traced.all(), key=lambda s: s.start_time or 0)
    for span in (plain, streamed):
        assert span.name == "chat"
        assert span.attributes[semconv.GEN_AI_AGENT_ID] == "ag_weather"
        assert span.attributes[semconv.GEN_AI_RESPONSE_MODEL] == "agent-model-2507"
        assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
        assert messages(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [WEATHER_PART]


def test_embeddings(traced: Spans, client: Mistral) -> None:
    result = client.embeddings.create(model="mistral-embed", inputs=["a cat", "a dog"])
    assert len(result.data) == 2

    async def main() -> None:
        await client.embeddings.create_async(model="mistral-embed", inputs="one")

    asyncio.run(main())
    pair, single = sorted(traced.all(), key=lambda s: s.start_time or 0)
    a = pair.attributes
    assert pair.name == "embeddings mistral-embed"
    assert a[semconv.SPAN_TYPE] == "llm"
    assert a[semconv.GEN_AI_OPERATION_NAME] == "embeddings"
    assert a[semconv.LLM_INPUT_COUNT] == 2
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 8
    assert a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 3
    assert json.loads(a[semconv.SPAN_INPUT]) == ["a cat", "a dog"]
    assert all("0.125" not in str(value) for value in a.values())  # never the vectors
    assert single.attributes[semconv.LLM_INPUT_COUNT] == 1


def test_content_off(traced: Spans, client: Mistral, settings_override: Any) -> None:
    settings_override(capture_content=False)
    client.chat.complete(model="tool-model", messages=MESSAGES, tools=[WEATHER_TOOL])
    list(client.chat.stream(model="mistral-small", messages=MESSAGES))
    client.embeddings.create(model="mistral-embed", inputs=["hello there"])
    traced.assert_no_content()
    plain, streamed, _ = sorted(traced.all(), key=lambda s: s.start_time or 0)
    assert plain.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert plain.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert streamed.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    for span in traced.all():
        assert all("hello there" not in str(v) for v in span.attributes.values())


def test_nests_under_observe(traced: Spans, client: Mistral) -> None:
    @observe(type="agent")
    def agent() -> None:
        client.chat.complete(model="mistral-small", messages=MESSAGES)

    agent()
    assert parent_of(llm_span(traced)) == span_id(traced.one("agent"))


def test_sdk_telemetry_switched_on_still_gives_one_llm_span(
    traced: Spans, client: Mistral, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the SDK's own telemetry on too, its span nests under traceroot's and is the llm one."""
    monkeypatch.setenv("MISTRAL_SDK_TELEMETRY", "global")
    telemetry_client = Mistral(api_key=API_KEY, server_url=client.sdk_configuration.server_url)
    with using_attributes(session_id="sdk-s"):
        telemetry_client.chat.complete(model="mistral-small", messages=MESSAGES)
    ours = [s for s in traced.all() if s.attributes.get(semconv.GEN_AI_PROVIDER_NAME)]
    assert len(ours) == 2, [s.name for s in traced.all()]
    llm = llm_span(traced)
    outer = next(s for s in ours if s is not llm)
    assert parent_of(llm) == span_id(outer)
    assert outer.attributes[semconv.SPAN_TYPE] == "span"
    assert outer.instrumentation_scope.name == "traceroot"  # type: ignore[union-attr]
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in outer.attributes
    assert llm.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert llm.attributes[semconv.SESSION_ID] == "sdk-s"


def test_uninstrument_restores_and_stops_spans(spans: Spans, client: Mistral) -> None:
    from mistralai.client.agents import Agents
    from mistralai.client.chat import Chat
    from mistralai.client.embeddings import Embeddings

    names = ("complete", "complete_async", "stream", "stream_async")
    originals = [vars(owner)[name] for owner in (Chat, Agents) for name in names]
    embedding_originals = (vars(Embeddings)["create"], vars(Embeddings)["create_async"])
    traceroot.instrument(integrations=["mistral"])
    assert vars(Chat)["complete"] is not originals[0]
    traceroot.uninstrument()
    assert [vars(owner)[name] for owner in (Chat, Agents) for name in names] == originals
    assert (vars(Embeddings)["create"], vars(Embeddings)["create_async"]) == embedding_originals
    client.chat.complete(model="mistral-small", messages=MESSAGES)
    assert spans.all() == []


def test_instrument_twice_gives_one_span(traced: Spans, client: Mistral) -> None:
    traceroot.instrument(integrations=["mistral"])
    client.chat.complete(model="mistral-small", messages=MESSAGES)
    assert len(traced.all()) == 1


def test_internal_error_is_contained(
    traced: Spans, client: Mistral, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations import chat_completions

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug in traceroot")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(chat_completions, "record_request", broken)
    monkeypatch.setattr(chat_completions, "record_response", broken)
    result = client.chat.complete(model="mistral-small", messages=MESSAGES)
    assert result.choices[0].message.content == "echo: hello there"
    assert llm_span(traced).end_time is not None


def test_instrument_before_the_sdk_is_imported(mistral_server: MistralServer) -> None:
    """The usual order: ``instrument()`` first, the app imports ``mistralai`` afterwards."""
    result = run_script(
        f"""
        import sys
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import traceroot

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        traceroot.instrument(exporter="none", integrations=["mistral"])
        assert "mistralai.client" not in sys.modules
        from mistralai.client import Mistral

        client = Mistral(api_key="k", server_url={mistral_server.url!r})
        client.chat.complete(model="late-import", messages=[{{"role": "user", "content": "hi"}}])
        print([span.name for span in exporter.get_finished_spans()])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['chat late-import']"
