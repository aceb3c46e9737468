"""Wrappers for the API client's four request methods, the one place every model request of the
``google-genai`` client passes (``client.models``, ``client.aio.models``, chat sessions, and each
round of automatic function calling or automatic continuation, all alike).

The request is read as the client sends it (the REST JSON body, after the SDK turned the
caller's arguments into it) and the response as it arrives (JSON text), so the one reader in
:mod:`traceroot.integrations.google_genai.wire` covers every way of calling. Pre-call and
post-call work are guarded on their own; the user's call itself is never inside a guard.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.google_genai import wire
from traceroot.integrations.google_genai.streams import (
    AsyncStream,
    StreamRecorder,
    SyncStream,
    record_status_code,
)

GEMINI: Final = semconv.PROVIDER_GCP_GEMINI
VERTEX_AI: Final = semconv.PROVIDER_GCP_VERTEX_AI


class _Method(NamedTuple):
    operation: str
    embeds: bool


# The REST methods that are model calls, by the name after the colon of the request path.
METHODS: Final = {
    "generateContent": _Method(semconv.OPERATION_GENERATE_CONTENT, False),
    "streamGenerateContent": _Method(semconv.OPERATION_GENERATE_CONTENT, False),
    "batchEmbedContents": _Method(semconv.OPERATION_EMBEDDINGS, True),
    "embedContent": _Method(semconv.OPERATION_EMBEDDINGS, True),
}

_starting = contained("google_genai.start")
_reading_request = contained("google_genai.request")
_reading_response = contained("google_genai.response")


class _Call:
    __slots__ = ("context", "method", "span", "started")

    def __init__(self, span: Span, method: _Method) -> None:
        self.span = span
        self.method = method
        self.started = time.monotonic()
        self.context = trace.set_span_in_context(span)


def _begin(
    client: Any, args: tuple[Any, ...], kwargs: dict[str, Any], stream: bool
) -> _Call | None:
    path = args[1] if len(args) > 1 else kwargs.get("path")
    if not isinstance(path, str):
        return None
    method = METHODS.get(path.partition("?")[0].rpartition(":")[2])
    if method is None:
        return None
    body = args[2] if len(args) > 2 else kwargs.get("request_dict")
    attributes: dict[str, Any] = {semconv.GEN_AI_REQUEST_STREAM: stream}
    with _reading_request:
        attributes.update(_server(client))
        if isinstance(body, Mapping):
            if method.embeds:
                _record_embedding_request(attributes, body)
            else:
                wire.record_request(attributes, body)
    with _starting:
        span = genai.start_llm_span(
            method.operation,
            wire.model_of(path),
            provider=VERTEX_AI if getattr(client, "vertexai", False) else GEMINI,
            attributes=attributes,
        )
        return _Call(span, method)
    return None


_SERVERS: dict[str, dict[str, Any]] = {}


def _server(client: Any) -> dict[str, Any]:
    base_url = getattr(getattr(client, "_http_options", None), "base_url", None)
    if not isinstance(base_url, str):
        return {}
    found = _SERVERS.get(base_url)
    if found is None:
        found = {}
        parts = urlsplit(base_url)
        if parts.hostname:
            found[semconv.SERVER_ADDRESS] = parts.hostname
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
        if port is not None:
            found[semconv.SERVER_PORT] = port
        if len(_SERVERS) < 64:  # a handful of endpoints per process
            _SERVERS[base_url] = found
    return found


def _record_embedding_request(attributes: dict[str, Any], body: Mapping[str, Any]) -> None:
    """How many inputs and, as content, their text; never the vectors."""
    requests = body.get("requests")
    contents = (
        [r.get("content") for r in requests if isinstance(r, dict)]
        if isinstance(requests, list)
        else [body.get("content")]
    )
    attributes[semconv.LLM_INPUT_COUNT] = len(contents)
    texts = [
        " ".join(genai.texts(p.get("text") for p in c.get("parts") or () if isinstance(p, dict)))
        for c in contents
        if isinstance(c, dict)
    ]
    genai.set_content(attributes, semconv.SPAN_INPUT, texts)


def _record_embedding_response(attributes: dict[str, Any], response: Mapping[str, Any]) -> None:
    embeddings = response.get("embeddings")
    first = embeddings[0] if isinstance(embeddings, list) and embeddings else None
    first = first or response.get("embedding")
    values = first.get("values") if isinstance(first, dict) else None
    if isinstance(values, list):
        attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(values)
    usage = response.get("usageMetadata")
    if isinstance(usage, dict):
        genai.set_usage(attributes, input_tokens=usage.get("promptTokenCount"))


def _fail(call: _Call, error: BaseException) -> None:
    genai.set_final(call.span, {})
    with _reading_response:
        genai.record_error(call.span, error)
        record_status_code(call.span, error)
    call.span.end()


def _succeed(call: _Call, result: Any) -> None:
    attributes: dict[str, Any] = {}
    with _reading_response:
        response = wire.loads(result)
        if response is not None:
            if call.method.embeds:
                _record_embedding_response(attributes, response)
            else:
                wire.record_response(attributes, response)
    genai.set_final(call.span, attributes)
    call.span.end()


def request(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, args, kwargs, stream=False)
        if call is None:
            return wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as error:
            otel_context.detach(token)
            _fail(call, error)
            raise
        otel_context.detach(token)
        _succeed(call, result)
        return result

    return wrapper


def async_request(integration: BaseIntegration) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, args, kwargs, stream=False)
        if call is None:
            return await wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as error:
            otel_context.detach(token)
            _fail(call, error)
            raise
        otel_context.detach(token)
        _succeed(call, result)
        return result

    return wrapper


def request_streamed(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, args, kwargs, stream=True)
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **kwargs)  # a generator: nothing is sent before it is read
        except BaseException as error:
            _fail(call, error)
            raise
        with _reading_response:
            return SyncStream(result, StreamRecorder(call.span, call.context, call.started))
        _fail_quietly(call)
        return result

    return wrapper


def async_request_streamed(integration: BaseIntegration) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, args, kwargs, stream=True)
        if call is None:
            return await wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as error:
            otel_context.detach(token)
            _fail(call, error)
            raise
        otel_context.detach(token)
        with _reading_response:
            return AsyncStream(result, StreamRecorder(call.span, call.context, call.started))
        _fail_quietly(call)
        return result

    return wrapper


def _fail_quietly(call: _Call) -> None:
    """The stream could not be proxied (an internal error, contained): end the span now rather
    than leave it open."""
    genai.set_final(call.span, {semconv.LLM_STREAM_PARTIAL: True})
    call.span.end()
