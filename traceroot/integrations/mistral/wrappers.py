"""Wrappers for the ``mistralai`` client's completion methods (``Chat`` and ``Agents``).

Their keyword arguments are the request body; they return the parsed completion, or an event
stream whose events carry Chat Completions chunks in ``data``. Pre-call work (reading the
request) and post-call work (reading the response) are guarded on their own; the user's call
itself is never inside a guard, so its result, exception and traceback reach the caller untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.genai import Attributes, field
from traceroot.guard import contained
from traceroot.integrations import chat_completions
from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.streaming import AsyncStream, StreamRecorder, SyncStream

PARAMETERS: Final = (
    "temperature",
    "top_p",
    "max_tokens",
    "random_seed",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "response_format",
    "tool_choice",
    "parallel_tool_calls",
    "prompt_mode",
    "safe_prompt",
    "reasoning_effort",
)
RENAMED: Final = {"random_seed": "seed"}

_starting = contained("mistral.start")
_reading_request = contained("mistral.request")
_reading_response = contained("mistral.response")


class _Call:
    __slots__ = ("context", "embeddings", "span", "started")

    def __init__(self, span: Span, embeddings: bool) -> None:
        self.span = span
        self.embeddings = embeddings
        self.started = time.monotonic()
        self.context = trace.set_span_in_context(span)


def _begin(
    sdk: Any, body: Mapping[str, Any], stream: bool, embeddings: bool = False
) -> _Call | None:
    attributes: dict[str, Any] = {semconv.GEN_AI_REQUEST_STREAM: stream}
    with _reading_request:
        attributes.update(_server(sdk, body.get("server_url")))
        if embeddings:
            _embeddings_request(attributes, body)
        else:
            chat_completions.record_request(attributes, body, PARAMETERS, renamed=RENAMED)
            genai.set_if(attributes, semconv.GEN_AI_AGENT_ID, body.get("agent_id"))
    with _starting:
        model = body.get("model")
        span = genai.start_llm_span(
            semconv.OPERATION_EMBEDDINGS if embeddings else semconv.OPERATION_CHAT,
            model if isinstance(model, str) else None,
            provider=semconv.PROVIDER_MISTRAL,
            attributes=attributes,
        )
        return _Call(span, embeddings)
    return None


def _embeddings_request(attributes: Attributes, body: Mapping[str, Any]) -> None:
    """Model, input count and dimensions; the texts as input content, never the vectors."""
    inputs = body.get("inputs")
    texts = [inputs] if isinstance(inputs, str) else list(inputs or ())
    attributes[semconv.LLM_INPUT_COUNT] = len(texts)
    genai.set_if(
        attributes, semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, body.get("output_dimension")
    )
    encoding = body.get("encoding_format")
    if isinstance(encoding, str):
        attributes[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
    genai.set_content(attributes, semconv.SPAN_INPUT, genai.texts(texts))


def _embeddings_response(attributes: Attributes, response: Any) -> None:
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, field(response, "id"))
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, field(response, "model"))
    genai.set_usage(attributes, input_tokens=field(field(response, "usage"), "prompt_tokens"))
    data = field(response, "data") or []
    vector = field(data[0], "embedding") if data else None
    if isinstance(vector, (list, tuple)):
        attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)


# Parsed server attributes by server URL: a handful of endpoints per process.
_SERVERS: dict[str, dict[str, Any]] = {}


def _server(sdk: Any, server_url: object) -> dict[str, Any]:
    if not isinstance(server_url, str):
        config = sdk.sdk_configuration
        # A client made with ``server_url`` names it; only the named servers need resolving.
        server_url = getattr(config, "server_url", None) or config.get_server_details()[0]
    url = str(server_url)
    found = _SERVERS.get(url)
    if found is None:
        found = {}
        parts = urlsplit(url)
        if parts.hostname:
            found[semconv.SERVER_ADDRESS] = parts.hostname
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
        if port:
            found[semconv.SERVER_PORT] = port
        if len(_SERVERS) < 64:
            _SERVERS[url] = found
    return found


def _fail(call: _Call, error: BaseException) -> None:
    genai.set_final(call.span, {})
    with _reading_response:
        genai.record_error(call.span, error)
    call.span.end()


def _succeed(call: _Call, result: Any) -> Any:
    attributes: dict[str, Any] = {}
    with _reading_response:
        if call.embeddings:
            _embeddings_response(attributes, result)
        else:
            chat_completions.record_response(attributes, result)
    genai.set_final(call.span, attributes)
    call.span.end()
    return result


def _recorder(call: _Call) -> StreamRecorder:
    return StreamRecorder(call.span, MistralChatStream(), call.started)


class MistralChatStream(chat_completions.ChatStream):
    """A streamed completion: each event holds a Chat Completions chunk in ``data``."""

    def add(self, chunk: Any) -> None:
        super().add(getattr(chunk, "data", chunk))


def complete(integration: BaseIntegration) -> Wrapper:
    return _sync(embeddings=False)


def complete_async(integration: BaseIntegration) -> Wrapper:
    return _async(embeddings=False)


def embeddings_create(integration: BaseIntegration) -> Wrapper:
    return _sync(embeddings=True)


def embeddings_create_async(integration: BaseIntegration) -> Wrapper:
    return _async(embeddings=True)


def _sync(*, embeddings: bool) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, kwargs, False, embeddings)
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
        return _succeed(call, result)

    return wrapper


def _async(*, embeddings: bool) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, kwargs, False, embeddings)
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
        return _succeed(call, result)

    return wrapper


def stream(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, kwargs, True)
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
        with _reading_response:
            return SyncStream(result, _recorder(call))
        genai.set_final(call.span, {})  # the proxy could not be made: end the span now
        call.span.end()
        return result

    return wrapper


def stream_async(integration: BaseIntegration) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, kwargs, True)
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
            return AsyncStream(result, _recorder(call))
        genai.set_final(call.span, {})  # the proxy could not be made: end the span now
        call.span.end()
        return result

    return wrapper
