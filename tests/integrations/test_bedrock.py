"""The real ``boto3`` ``bedrock-runtime`` client against the local scripted Bedrock server,
instrumented by traceroot."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from ..conftest import required

boto3 = required("boto3")

import botocore.client  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, EventStreamError  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402

import traceroot  # noqa: E402
from traceroot import observe, semconv, using_attributes  # noqa: E402

from ..conftest import Spans, parent_of, run_script, span_id  # noqa: E402
from .bedrock_server import (  # noqa: E402
    CACHE_READ_TOKENS,
    CACHE_WRITE_TOKENS,
    REQUEST_ID,
    BedrockServer,
    start_bedrock_server,
)

ACCESS_KEY = "AKIDTEST"
SECRET_KEY = "secret-AWS-KEY-0123456789"
SESSION_TOKEN = "session-TOKEN-0123456789"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
TITAN = "amazon.titan-text-express-v1"
NOVA = "amazon.nova-lite-v1:0"
EMBED = "amazon.titan-embed-text-v2:0"
EMBED_IMAGE = "amazon.titan-embed-image-v1"
IMAGE = "stability.stable-diffusion-xl-v1"
TITAN_IMAGE = "amazon.titan-image-generator-v2:0"
COHERE = "cohere.command-r-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "hello there"}]}]
WEATHER_TOOL = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Weather for a city",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }
}


def _knows_cache_tokens() -> bool:
    """Whether this botocore's Converse API has prompt caching (cache points, cache token
    counts): botocore drops what its service model does not know, so older ones cannot."""
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    return "cacheReadInputTokens" in model.shape_for("TokenUsage").members


CACHE_FIELDS = _knows_cache_tokens()
CACHE_POINT = [{"cachePoint": {"type": "default"}}] if CACHE_FIELDS else []


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[BedrockServer, ThreadingHTTPServer]]:
    found, server = start_bedrock_server()
    yield found, server
    server.shutdown()


@pytest.fixture
def bedrock_server(_server: tuple[BedrockServer, ThreadingHTTPServer]) -> BedrockServer:
    found, _ = _server
    found.requests.clear()
    return found


def make_client(server: BedrockServer, service: str = "bedrock-runtime") -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def client(bedrock_server: BedrockServer) -> Any:
    return make_client(bedrock_server)


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["bedrock"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture(autouse=True)
def _no_credentials_in_any_span(spans: Spans) -> Iterator[None]:
    """Every test also proves that no credential, signature or auth header reached a span."""
    yield
    for span in spans.all():
        recorded = [*dict(span.attributes or {}).values(), span.name]
        recorded += [v for event in span.events for v in dict(event.attributes or {}).values()]
        for secret in (SECRET_KEY, SESSION_TOKEN, ACCESS_KEY, "AWS4-HMAC-SHA256", "Signature="):
            assert not any(secret in str(value) for value in recorded), (span.name, secret)


def llm_span(spans: Spans) -> ReadableSpan:
    found = [s for s in spans.all() if s.attributes.get(semconv.SPAN_TYPE) == "llm"]
    assert len(found) == 1, [s.name for s in spans.all()]
    return found[0]


def by_start(spans: Spans) -> list[ReadableSpan]:
    return sorted(spans.all(), key=lambda s: s.start_time or 0)


def loads(span: ReadableSpan, key: str) -> Any:
    return json.loads(span.attributes[key])


def exceptions(span: ReadableSpan) -> int:
    return len([e for e in span.events if e.name == "exception"])


def anthropic_body(**extra: Any) -> str:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": "hi claude"}],
        **extra,
    }
    return json.dumps(body)


# -- Converse ---------------------------------------------------------------------------------------
def test_converse_span_shape(traced: Spans, client: Any, bedrock_server: BedrockServer) -> None:
    with using_attributes(session_id="bedrock-s", user_id="ada"):
        result = client.converse(
            modelId="m1",
            messages=MESSAGES,
            system=[{"text": "You are terse."}, *CACHE_POINT],
            inferenceConfig={
                "maxTokens": 50,
                "temperature": 0.3,
                "topP": 0.9,
                "stopSequences": ["END"],
            },
            additionalModelRequestFields={"top_k": 40},
        )
    assert result["output"]["message"]["content"] == [{"text": "echo: hello there"}]
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "chat m1"
    assert a[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert a[semconv.GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "m1"
    assert a[semconv.GEN_AI_REQUEST_STREAM] is False
    assert a[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 50
    assert a[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert a[semconv.GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[semconv.GEN_AI_REQUEST_TOP_K] == 40
    assert a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    # The GenAI input counts all input: Bedrock's count leaves out the cached part.
    cached = CACHE_READ_TOKENS + CACHE_WRITE_TOKENS if CACHE_FIELDS else 0
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7 + cached
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    if CACHE_FIELDS:
        assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == CACHE_READ_TOKENS
        assert a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == CACHE_WRITE_TOKENS
    assert a[semconv.AWS_REQUEST_ID] == REQUEST_ID
    assert a[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert isinstance(a[semconv.SERVER_PORT], int)
    assert (a[semconv.SESSION_ID], a[semconv.USER_ID]) == ("bedrock-s", "ada")
    assert loads(span, semconv.GEN_AI_SYSTEM_INSTRUCTIONS) == [
        {"type": "text", "content": "You are terse."}
    ]
    assert loads(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "hello there"}]}
    ]
    assert loads(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "echo: hello there"}],
            "finish_reason": "end_turn",
        }
    ]
    assert span.status.status_code is StatusCode.UNSET
    assert bedrock_server.requests[0].path == "/model/m1/converse"
    assert "authorization" in bedrock_server.requests[0].headers  # signed, yet in no span


def test_converse_tool_round_trip(traced: Spans, client: Any) -> None:
    conversation: list[Any] = [{"role": "user", "content": [{"text": "weather in SF?"}]}]
    tools = {"tools": [WEATHER_TOOL], "toolChoice": {"auto": {}}}
    first = client.converse(modelId="tool-model", messages=conversation, toolConfig=tools)
    use = first["output"]["message"]["content"][1]["toolUse"]
    conversation.append(first["output"]["message"])
    result = {"toolUseId": use["toolUseId"], "content": [{"json": {"sky": "sunny"}}]}
    conversation.append({"role": "user", "content": [{"toolResult": result}]})
    second = client.converse(modelId="tool-model", messages=conversation, toolConfig=tools)
    assert second["stopReason"] == "end_turn"
    asked, answered = by_start(traced)
    assert asked.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
    assert loads(asked, semconv.GEN_AI_TOOL_DEFINITIONS) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    assert loads(asked, semconv.LLM_MODEL_PARAMETERS) == {"tool_choice": {"auto": {}}}
    call = {
        "type": "tool_call",
        "id": "tooluse_weather_1",
        "name": "get_weather",
        "arguments": {"city": "San Francisco"},
    }
    assert loads(asked, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "Let me check the weather."},
        call,
    ]
    inputs = loads(answered, semconv.GEN_AI_INPUT_MESSAGES)
    assert inputs[1]["parts"][1] == call
    assert inputs[2] == {
        "role": "tool",
        "parts": [
            {"type": "tool_call_response", "id": "tooluse_weather_1", "response": {"sky": "sunny"}}
        ],
    }


def test_converse_stream_passes_the_same_events(traced: Spans, client: Any) -> None:
    traceroot.uninstrument()
    plain = list(client.converse_stream(modelId="m1", messages=MESSAGES)["stream"])
    traceroot.instrument(integrations=["bedrock"])
    response = client.converse_stream(modelId="m1", messages=MESSAGES, system=[{"text": "Be."}])
    events = list(response["stream"])
    assert events == plain
    span = llm_span(traced)
    a = span.attributes
    assert span.name == "chat m1"
    assert a[semconv.GEN_AI_REQUEST_STREAM] is True
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    cached = CACHE_READ_TOKENS + CACHE_WRITE_TOKENS if CACHE_FIELDS else 0
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7 + cached
    if CACHE_FIELDS:
        assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == CACHE_READ_TOKENS
        assert a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == CACHE_WRITE_TOKENS
    assert a[semconv.AWS_REQUEST_ID] == REQUEST_ID
    assert a[semconv.LLM_TIME_TO_FIRST_CHUNK] >= 0
    assert semconv.LLM_STREAM_PARTIAL not in a
    assert loads(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "echo: hello there"}],
            "finish_reason": "end_turn",
        }
    ]
    assert span.status.status_code is StatusCode.UNSET


def test_streamed_tool_use_is_reassembled(traced: Spans, client: Any) -> None:
    response = client.converse_stream(
        modelId="tool-model", messages=MESSAGES, toolConfig={"tools": [WEATHER_TOOL]}
    )
    for _ in response["stream"]:
        pass
    span = llm_span(traced)
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
    assert loads(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "Let me check the weather."},
        {
            "type": "tool_call",
            "id": "tooluse_weather_1",
            "name": "get_weather",
            "arguments": {"city": "San Francisco"},
        },
    ]


def test_error_event_mid_stream_raises_to_caller_and_keeps_what_arrived(
    traced: Spans, client: Any
) -> None:
    received: list[Any] = []

    def consume() -> None:
        for event in client.converse_stream(modelId="stream-error", messages=MESSAGES)["stream"]:
            received.append(event)

    with pytest.raises(EventStreamError) as raised:
        consume()
    assert raised.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert len(received) == 2
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == "modelStreamErrorException"
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert exceptions(span) == 1
    assert loads(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "echo: "}
    ]


def test_early_break_then_abandon_ends_span_once_as_partial(traced: Spans, client: Any) -> None:
    response = client.converse_stream(modelId="m1", messages=MESSAGES)
    for _ in response["stream"]:
        break
    assert traced.all() == []  # still open: the caller holds the stream
    del response
    gc.collect()
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes


def test_close_ends_span(traced: Spans, client: Any) -> None:
    stream = client.converse_stream(modelId="m1", messages=MESSAGES)["stream"]
    next(iter(stream))
    stream.close()
    stream.close()  # a second close changes nothing
    span = llm_span(traced)
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert loads(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["role"] == "assistant"


def test_stream_cut_midway_raises_to_caller(traced: Spans, client: Any) -> None:
    with pytest.raises(Exception) as raised:  # whatever the HTTP stack raises
        for _ in client.converse_stream(modelId="cut-stream", messages=MESSAGES)["stream"]:
            pass
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__name__
    assert span.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert exceptions(span) == 1


@pytest.mark.parametrize(
    ("model", "code", "status"),
    [("error-400", "ValidationException", 400), ("error-429", "ThrottlingException", 429)],
)
@pytest.mark.parametrize("streamed", [False, True])
def test_api_errors(
    traced: Spans, client: Any, model: str, code: str, status: int, streamed: bool
) -> None:
    call = client.converse_stream if streamed else client.converse
    with pytest.raises(ClientError) as raised:
        call(modelId=model, messages=MESSAGES)
    assert type(raised.value).__name__ == code
    assert raised.value.__traceback__ is not None
    span = llm_span(traced)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == code
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == status
    assert span.attributes[semconv.AWS_REQUEST_ID] == REQUEST_ID
    assert exceptions(span) == 1
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes


# -- InvokeModel ------------------------------------------------------------------------------------
def test_invoke_model_anthropic(traced: Spans, client: Any) -> None:
    body = anthropic_body(temperature=0.2, top_k=5)
    response = client.invoke_model(modelId=CLAUDE, body=body)
    reply = json.loads(response["body"].read())
    assert reply["content"] == [{"type": "text", "text": "echo: hi claude"}]
    span = llm_span(traced)
    a = span.attributes
    assert span.name == f"chat {CLAUDE}"
    assert a[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert a[semconv.GEN_AI_REQUEST_STREAM] is False
    assert a[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 50
    assert a[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert a[semconv.GEN_AI_REQUEST_TOP_K] == 5
    assert a[semconv.GEN_AI_RESPONSE_ID] == "msg_test_1"
    assert a[semconv.GEN_AI_RESPONSE_MODEL] == f"{CLAUDE}-2026"
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7 + 2 + 3  # uncached + cache read + write
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 3
    assert loads(span, semconv.GEN_AI_SYSTEM_INSTRUCTIONS) == [
        {"type": "text", "content": "You are terse."}
    ]
    assert loads(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "hi claude"}]}
    ]
    assert loads(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "echo: hi claude"}],
            "finish_reason": "end_turn",
        }
    ]


def test_invoke_model_body_reads_like_the_original(traced: Spans, client: Any) -> None:
    traceroot.uninstrument()
    plain = client.invoke_model(modelId=CLAUDE, body=anthropic_body())
    traceroot.instrument(integrations=["bedrock"])
    response = client.invoke_model(modelId=CLAUDE, body=anthropic_body().encode())
    assert type(response["body"]) is type(plain["body"])
    assert list(response["body"].iter_chunks(16)) == list(plain["body"].iter_chunks(16))
    assert response["contentType"] == plain["contentType"] == "application/json"
    assert llm_span(traced).end_time is not None


def test_invoke_model_text_format(traced: Spans, client: Any) -> None:
    body = {"inputText": "say hi", "textGenerationConfig": {"maxTokenCount": 20, "topP": 0.5}}
    response = client.invoke_model(modelId=TITAN, body=json.dumps(body))
    assert json.loads(response["body"].read())["results"][0]["outputText"] == "echo: say hi"
    span = llm_span(traced)
    a = span.attributes
    assert span.name == f"text_completion {TITAN}"
    assert a[semconv.GEN_AI_OPERATION_NAME] == "text_completion"
    assert a[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 20
    assert a[semconv.GEN_AI_REQUEST_TOP_P] == 0.5
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("FINISH",)
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 2  # from the body
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3  # from x-amzn-bedrock-output-token-count
    assert loads(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "say hi"}]}
    ]
    assert loads(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "echo: say hi"}
    ]


def test_invoke_model_nova_format(traced: Spans, client: Any) -> None:
    body = json.dumps(
        {
            "schemaVersion": "messages-v1",
            "system": [{"text": "Be brief."}],
            "messages": MESSAGES,
            "inferenceConfig": {"maxTokens": 30, "temperature": 0.1},
        }
    )
    client.invoke_model(modelId=NOVA, body=body)["body"].read()
    for _ in client.invoke_model_with_response_stream(modelId=NOVA, body=body)["body"]:
        pass
    for span in by_start(traced):
        a = span.attributes
        assert span.name == f"chat {NOVA}"
        assert a[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 30
        assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
        # Nova's cacheReadInputTokenCount / cacheWriteInputTokenCount, counted in the input too
        assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7 + CACHE_READ_TOKENS + CACHE_WRITE_TOKENS
        assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == CACHE_READ_TOKENS
        assert a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == CACHE_WRITE_TOKENS
        assert loads(span, semconv.GEN_AI_SYSTEM_INSTRUCTIONS) == [
            {"type": "text", "content": "Be brief."}
        ]
        assert loads(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
            {"type": "text", "content": "echo: hello there"}
        ]


def test_invoke_model_embeddings_keep_no_vectors(traced: Spans, client: Any) -> None:
    response = client.invoke_model(modelId=EMBED, body=json.dumps({"inputText": "a b c"}))
    assert json.loads(response["body"].read())["embedding"] == [0.125] * 4
    span = llm_span(traced)
    assert span.name == f"embeddings {EMBED}"
    assert span.attributes[semconv.GEN_AI_OPERATION_NAME] == "embeddings"
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 3 + 10  # the header's count
    assert semconv.GEN_AI_OUTPUT_MESSAGES not in span.attributes
    assert all("0.125" not in str(value) for value in span.attributes.values())


def _unread_original(body: Any) -> bool:
    """Whether ``body`` is botocore's own ``StreamingBody`` over the connection, not yet read."""
    raw = body._raw_stream
    return type(raw).__name__ == "HTTPResponse" and body._amount_read == 0


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (EMBED, {"inputText": "a b c"}),
        (IMAGE, {"text_prompts": [{"text": "a lighthouse"}], "cfg_scale": 7}),
        (TITAN_IMAGE, {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a lighthouse"}}),
    ],
)
def test_embedding_and_image_replies_are_left_unread(
    traced: Spans, client: Any, model: str, body: dict[str, Any]
) -> None:
    """Vectors and images are not read, parsed or copied: the caller gets botocore's own body,
    over the connection (``set_socket_timeout`` works), and the usage comes from the headers."""
    response = client.invoke_model(modelId=model, body=json.dumps(body))
    assert _unread_original(response["body"])
    response["body"].set_socket_timeout(5)
    assert json.loads(response["body"].read())
    a = llm_span(traced).attributes
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == int(headers["x-amzn-bedrock-input-token-count"])
    assert semconv.GEN_AI_OUTPUT_MESSAGES not in a


def test_text_replies_are_read_for_the_span(traced: Spans, client: Any) -> None:
    response = client.invoke_model(modelId=TITAN, body=json.dumps({"inputText": "say hi"}))
    assert not _unread_original(response["body"])  # read, and an equal body put in its place
    assert json.loads(response["body"].read())["results"][0]["outputText"] == "echo: say hi"
    assert semconv.GEN_AI_OUTPUT_MESSAGES in llm_span(traced).attributes


def test_header_and_metric_counts_include_cached_tokens(traced: Spans, client: Any) -> None:
    model = "amazon.titan-embed-cached-v1"
    client.invoke_model(modelId=model, body=json.dumps({"inputText": "a b c"}))["body"].read()
    stream = client.invoke_model_with_response_stream(
        modelId="amazon.titan-text-cached-v1", body=json.dumps({"inputText": "say hi"})
    )
    for _ in stream["body"]:
        pass
    from_headers, from_metrics = by_start(traced)
    for span, uncached in ((from_headers, 3 + 10), (from_metrics, 2)):
        a = span.attributes
        assert (
            a[semconv.GEN_AI_USAGE_INPUT_TOKENS]
            == uncached + CACHE_READ_TOKENS + CACHE_WRITE_TOKENS
        )
        assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == CACHE_READ_TOKENS
        assert a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == CACHE_WRITE_TOKENS


def test_invoke_model_error(traced: Spans, client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        client.invoke_model(modelId="error-429", body=anthropic_body())
    assert type(raised.value).__name__ == "ThrottlingException"
    span = llm_span(traced)
    assert span.attributes[semconv.ERROR_TYPE] == "ThrottlingException"
    assert exceptions(span) == 1


def test_invoke_model_with_response_stream_anthropic(traced: Spans, client: Any) -> None:
    response = client.invoke_model_with_response_stream(modelId=CLAUDE, body=anthropic_body())
    chunks = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
    assert chunks[0]["type"] == "message_start"
    text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    assert text == "echo: hi claude"
    span = llm_span(traced)
    a = span.attributes
    assert a[semconv.GEN_AI_REQUEST_STREAM] is True
    assert a[semconv.GEN_AI_RESPONSE_ID] == "msg_test_2"
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7 + 2 + 3
    assert a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert semconv.LLM_STREAM_PARTIAL not in a
    assert loads(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "echo: hi claude"}],
            "finish_reason": "end_turn",
        }
    ]


def test_invoke_model_with_response_stream_text_and_early_close(traced: Spans, client: Any) -> None:
    body = json.dumps({"inputText": "say hi"})
    for _ in client.invoke_model_with_response_stream(modelId=TITAN, body=body)["body"]:
        pass
    stream = client.invoke_model_with_response_stream(modelId=TITAN, body=body)["body"]
    next(iter(stream))
    stream.close()
    whole, closed = by_start(traced)
    assert whole.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 2  # invocation metrics
    assert whole.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert loads(whole, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "echo: say hi"}
    ]
    assert closed.attributes[semconv.LLM_STREAM_PARTIAL] is True
    assert closed.end_time is not None


def test_invoke_stream_error_event(traced: Spans, client: Any) -> None:
    with pytest.raises(EventStreamError):
        for _ in client.invoke_model_with_response_stream(
            modelId="stream-error", body=json.dumps({"inputText": "x"})
        )["body"]:
            pass
    span = llm_span(traced)
    assert span.attributes[semconv.ERROR_TYPE] == "modelStreamErrorException"
    assert exceptions(span) == 1


# -- Across calls -------------------------------------------------------------------------------
def test_content_switch(traced: Spans, client: Any, settings_override: Any) -> None:
    settings_override(capture_content=False)
    client.converse(
        modelId="tool-model",
        messages=MESSAGES,
        system=[{"text": "You are terse."}],
        toolConfig={"tools": [WEATHER_TOOL]},
    )
    for _ in client.converse_stream(modelId="m1", messages=MESSAGES)["stream"]:
        pass
    client.invoke_model(modelId=CLAUDE, body=anthropic_body())["body"].read()
    traced.assert_no_content()
    for span in traced.all():
        assert semconv.GEN_AI_SYSTEM_INSTRUCTIONS not in span.attributes
        assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert semconv.GEN_AI_TOOL_DEFINITIONS in by_start(traced)[0].attributes  # code, not content


SECRET = "SECRET-7f3a"  # in every field of the bodies below that may hold the user's content


def _bodies_with_content() -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            COHERE,
            {
                "message": f"hi {SECRET}",
                "chat_history": [{"role": "USER", "message": f"earlier {SECRET}"}],
                "preamble": f"You are {SECRET}",
                "documents": [{"title": SECRET, "snippet": SECRET}],
                "temperature": 0.3,
                "max_tokens": 20,
            },
        ),
        (
            IMAGE,
            {
                "text_prompts": [{"text": f"a {SECRET} lighthouse", "weight": 1}],
                "init_image": f"{SECRET}-base64-image",
                "style_preset": SECRET,
                "cfg_scale": 7,
                "seed": 42,
            },
        ),
        (
            TITAN_IMAGE,
            {
                "taskType": "IMAGE_VARIATION",
                "imageVariationParams": {"text": SECRET, "images": [f"{SECRET}-base64"]},
                "imageGenerationConfig": {"numberOfImages": 1, "cfgScale": 8.0},
            },
        ),
        (EMBED_IMAGE, {"inputText": SECRET, "inputImage": f"{SECRET}-base64-image"}),
    ]


def _recorded(span: ReadableSpan) -> str:
    return " ".join(str(value) for value in dict(span.attributes or {}).values())


def test_content_off_keeps_body_fields_out_of_parameters(
    traced: Spans, client: Any, settings_override: Any
) -> None:
    """A body's fields beyond the prompt (Cohere's history, preamble and documents, Stability's
    prompts and image, Titan's images) and a Converse call's extra fields may be content: with
    content off only their numbers and flags are kept."""
    settings_override(capture_content=False)
    for model, body in _bodies_with_content():
        client.invoke_model(modelId=model, body=json.dumps(body))["body"].read()
    client.converse(
        modelId="m1",
        messages=MESSAGES,
        additionalModelRequestFields={
            "top_k": 40,
            "reasoning": True,
            "promptVariant": SECRET,
            "documents": [SECRET],
            "guidance": {"text": SECRET},
        },
    )
    traced.assert_no_content()
    cohere, image, titan_image, embed_image, converse = by_start(traced)
    for span in by_start(traced):
        assert SECRET not in _recorded(span), span.name
    assert cohere.attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert cohere.attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 20
    assert loads(image, semconv.LLM_MODEL_PARAMETERS) == {"cfg_scale": 7, "seed": 42}
    assert loads(titan_image, semconv.LLM_MODEL_PARAMETERS) == {
        "numberOfImages": 1,
        "cfgScale": 8.0,
    }
    assert semconv.LLM_MODEL_PARAMETERS not in embed_image.attributes
    assert converse.attributes[semconv.GEN_AI_REQUEST_TOP_K] == 40
    assert loads(converse, semconv.LLM_MODEL_PARAMETERS) == {"top_k": 40, "reasoning": True}


def test_content_on_keeps_body_fields_but_never_images(traced: Spans, client: Any) -> None:
    for model, body in _bodies_with_content():
        client.invoke_model(modelId=model, body=json.dumps(body))["body"].read()
    cohere, image, titan_image, embed_image = by_start(traced)
    parameters = loads(cohere, semconv.LLM_MODEL_PARAMETERS)
    assert parameters["chat_history"] == [{"role": "USER", "message": f"earlier {SECRET}"}]
    assert parameters["preamble"] == f"You are {SECRET}"
    assert loads(cohere, semconv.GEN_AI_INPUT_MESSAGES)[0]["parts"][0]["content"] == f"hi {SECRET}"
    # Stability's prompts are the prompt; its image is never recorded
    assert loads(image, semconv.GEN_AI_INPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": f"a {SECRET} lighthouse"}
    ]
    assert loads(image, semconv.LLM_MODEL_PARAMETERS) == {
        "style_preset": SECRET,
        "cfg_scale": 7,
        "seed": 42,
    }
    assert "base64-image" not in _recorded(image) + _recorded(embed_image)
    assert loads(titan_image, semconv.LLM_MODEL_PARAMETERS)["taskType"] == "IMAGE_VARIATION"


def test_nests_under_observe(traced: Spans, client: Any) -> None:
    @observe(name="agent step")
    def step() -> str:
        return str(client.converse(modelId="m1", messages=MESSAGES)["stopReason"])

    assert step() == "end_turn"
    outer = traced.one("agent step")
    assert parent_of(llm_span(traced)) == span_id(outer)


def test_other_aws_calls_make_no_span(traced: Spans, bedrock_server: BedrockServer) -> None:
    s3 = make_client(bedrock_server, "s3")
    with pytest.raises(ClientError):
        s3.list_buckets()  # the local server answers 501: still an AWS call, not a model call
    control = make_client(bedrock_server, "bedrock")
    with pytest.raises(ClientError):
        control.list_foundation_models()
    assert traced.all() == []


def test_uninstrument_restores_and_stops_spans(spans: Spans, client: Any) -> None:
    original = botocore.client.BaseClient.__dict__["_make_api_call"]
    traceroot.instrument(integrations=["bedrock"])
    assert botocore.client.BaseClient.__dict__["_make_api_call"] is not original
    traceroot.uninstrument()
    assert botocore.client.BaseClient.__dict__["_make_api_call"] is original
    client.converse(modelId="m1", messages=MESSAGES)
    assert spans.all() == []


def test_instrument_twice_gives_one_span(traced: Spans, client: Any) -> None:
    traceroot.instrument(integrations=["bedrock"])
    traceroot.instrument()
    client.converse(modelId="m1", messages=MESSAGES)
    assert len(traced.all()) == 1


def test_internal_error_is_contained(
    traced: Spans, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.bedrock import converse

    def broken(*args: Any) -> None:
        raise RuntimeError("bug in traceroot")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(converse.Converse, "record_request", broken)
    monkeypatch.setattr(converse.Converse, "record_response", broken)
    monkeypatch.setattr(converse.ConverseStream, "add", broken)
    result = client.converse(modelId="m1", messages=MESSAGES)
    assert result["stopReason"] == "end_turn"
    events = list(client.converse_stream(modelId="m1", messages=MESSAGES)["stream"])
    assert [next(iter(event)) for event in events][-2:] == ["messageStop", "metadata"]
    assert all(span.end_time is not None for span in traced.all())
    assert len(traced.all()) == 2


def test_importing_boto3_loads_no_recording_code() -> None:
    result = run_script(
        """
        import sys, traceroot
        traceroot.instrument(exporter="none")
        import boto3
        boto3.client("s3", region_name="us-east-1", aws_access_key_id="a",
                     aws_secret_access_key="b")
        import botocore.client
        assert "traceroot.integrations.bedrock.wrappers" in sys.modules
        assert "traceroot.integrations.bedrock.calls" not in sys.modules
        assert hasattr(botocore.client.BaseClient._make_api_call, "__wrapped__")
        print("ok")
        """
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_the_extra_installs_the_supported_botocore() -> None:
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    from traceroot.integrations.bedrock import BedrockIntegration

    requirements = [Requirement(text) for text in metadata.requires("traceroot") or []]
    extra = [r for r in requirements if 'extra == "bedrock"' in str(r.marker)]
    assert [r.name for r in extra] == ["botocore"]
    assert extra[0].specifier == SpecifierSet(BedrockIntegration.supported)


def test_status_shows_the_integration(traced: Spans) -> None:
    from traceroot.integrations.registry import State

    status = {entry.name: entry for entry in traceroot.integrations_status()}
    assert status["bedrock"].state is State.ACTIVE  # botocore is imported: patched now
