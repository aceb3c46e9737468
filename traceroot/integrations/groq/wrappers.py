"""Wrappers for the Groq client's ``request`` method, the one place every Groq API call passes.

Pre-call work (reading the request) and post-call work (reading the response) are guarded on
their own; the user's call itself is never inside a guard, so its result, exception and traceback
reach the caller untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.guard import contained
from traceroot.integrations import chat_completions
from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.streaming import AsyncStream, StreamRecorder, SyncStream

CHAT_PATH: Final = "/openai/v1/chat/completions"
# What Groq's chat endpoint takes besides model, messages and tools.
PARAMETERS: Final = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "response_format",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning_effort",
    "reasoning_format",
    "service_tier",
)

_starting = contained("groq.start")
_reading_request = contained("groq.request")
_reading_response = contained("groq.response")


class _Call:
    __slots__ = ("context", "span", "started", "stream")

    def __init__(self, span: Span, stream: bool) -> None:
        self.span = span
        self.stream = stream
        self.started = time.monotonic()
        self.context = trace.set_span_in_context(span)


def _begin(client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | None:
    options = args[1] if len(args) > 1 else kwargs.get("options")
    if getattr(options, "url", None) != CHAT_PATH:
        return None
    json_data = getattr(options, "json_data", None)
    body: Mapping[str, Any] = json_data if isinstance(json_data, Mapping) else {}
    stream = bool(kwargs.get("stream", False))
    attributes: dict[str, Any] = {semconv.GEN_AI_REQUEST_STREAM: stream}
    with _reading_request:
        attributes.update(_server(client))
        chat_completions.record_request(attributes, body, PARAMETERS)
    with _starting:
        model = body.get("model")
        span = genai.start_llm_span(
            semconv.OPERATION_CHAT,
            model if isinstance(model, str) else None,
            provider=semconv.PROVIDER_GROQ,
            attributes=attributes,
        )
        return _Call(span, stream)
    return None


def _server(client: Any) -> dict[str, Any]:
    url = getattr(client, "base_url", None)
    host, port = getattr(url, "host", None), getattr(url, "port", None)
    server: dict[str, Any] = {}
    if isinstance(host, str) and host:
        server[semconv.SERVER_ADDRESS] = host
    if isinstance(port, int):
        server[semconv.SERVER_PORT] = port
    return server


def _fail(call: _Call, error: BaseException) -> None:
    genai.set_final(call.span, {})
    with _reading_response:
        genai.record_error(call.span, error)
    call.span.end()


def _succeed(call: _Call, result: Any, parsed: Any) -> Any:
    """Record the parsed response (if any) and end the span."""
    attributes: dict[str, Any] = {}
    with _reading_response:
        if parsed is not None:
            chat_completions.record_response(attributes, parsed)
    genai.set_final(call.span, attributes)
    call.span.end()
    return result


def _stream_proxy(call: _Call, result: Any, *, is_async: bool) -> Any:
    """The proxy that ends a streamed call's span, or ``None`` if the result is no stream. By
    the client's kind, not the result's: another instrumentation's proxy may offer both."""
    if call.stream and not is_async and hasattr(result, "__next__"):
        return SyncStream(result, _recorder(call))
    if call.stream and is_async and hasattr(result, "__anext__"):
        return AsyncStream(result, _recorder(call))
    return None


def _recorder(call: _Call) -> StreamRecorder:
    return StreamRecorder(call.span, GroqChatStream(), call.started)


class GroqChatStream(chat_completions.ChatStream):
    """A streamed Groq chat completion: the usage comes in the last chunk's ``x_groq``."""

    def add(self, chunk: Any) -> None:
        super().add(chunk)
        usage = getattr(getattr(chunk, "x_groq", None), "usage", None)
        if usage is not None:
            self.usage = usage


def _raw(result: Any) -> bool:
    """``with_raw_response`` (body read) or ``with_streaming_response`` (body unread): the HTTP
    response, whose ``parse()`` is cached, so the caller's own gets the same object."""
    return hasattr(result, "http_response") and hasattr(result, "parse")


def _read_body(result: Any) -> bool:
    # A body still streaming belongs to the caller: reading it here would consume it.
    return bool(getattr(result.http_response, "is_closed", False))


def sync_request(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, args, kwargs)
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
        parsed = None
        with _reading_response:
            proxy = _stream_proxy(call, result, is_async=False)
            if proxy is not None:
                return proxy
            parsed = (result.parse() if _read_body(result) else None) if _raw(result) else result
        return _succeed(call, result, parsed)

    return wrapper


def async_request(integration: BaseIntegration) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(instance, args, kwargs)
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
        parsed = None
        with _reading_response:
            proxy = _stream_proxy(call, result, is_async=True)
            if proxy is not None:
                return proxy
            if not _raw(result):
                parsed = result
            elif _read_body(result):
                parsed = await result.parse()
        return _succeed(call, result, parsed)

    return wrapper
