"""Wrappers for the Groq client's ``request`` method, the one place every Groq API call passes.

Pre-call work (reading the request) and post-call work (reading the response) are guarded on
their own; the user's call itself is never inside a guard, so its result, exception and traceback
reach the caller untouched.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.guard import contained
from traceroot.integrations import chat_completions
from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.streaming import (
    AsyncStream,
    StreamingResponse,
    StreamRecorder,
    SyncStream,
)

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
    _end(call, parsed)
    return result


def _end(call: _Call, parsed: Any) -> None:
    attributes: dict[str, Any] = {}
    with _reading_response:
        if parsed is not None:
            chat_completions.record_response(attributes, parsed)
    genai.set_final(call.span, attributes)
    call.span.end()


def _handed_over(call: _Call, result: Any, *, is_async: bool) -> Any:
    """The proxy that will end the span once the caller reads the body, or ``None`` if the span
    ends now. Streams by the client's kind, not the result's: another instrumentation's proxy may
    offer both protocols."""
    if call.stream and not is_async and hasattr(result, "__next__"):
        return SyncStream(result, _recorder(call))
    if call.stream and is_async and hasattr(result, "__anext__"):
        return AsyncStream(result, _recorder(call))
    if call.stream and _raw(result):
        return StreamingResponse(result, _recorder(call))
    if _raw(result) and not _read_body(result):
        return UnreadResponse(result, call)
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
    """``with_raw_response`` (body read, unless streamed) or ``with_streaming_response`` (body
    unread): the HTTP response, whose ``parse()`` is cached, so the caller's own gets the same
    object."""
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
            proxy = _handed_over(call, result, is_async=False)
            if proxy is not None:
                return proxy
            parsed = result.parse() if _raw(result) else result
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
            proxy = _handed_over(call, result, is_async=True)
            if proxy is not None:
                return proxy
            parsed = await result.parse() if _raw(result) else result
        return _succeed(call, result, parsed)

    return wrapper


class UnreadResponse(wrapt.ObjectProxy):  # type: ignore[type-arg,misc,unused-ignore]
    """The response of an unstreamed call made through ``with_streaming_response``: its body is
    the caller's to read, so the span stays open until the caller parses it, and then records the
    completion and ends. Closed (leaving the ``with`` block) or dropped unparsed, or read another
    way (``read()``, ``json()``, ``iter_lines()``), it ends without the response.
    """

    def __init__(self, wrapped: Any, call: _Call) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_done = threading.Lock()

    def __del__(self) -> None:
        try:
            self._self_end(None)
        except Exception:  # noqa: BLE001 - from the garbage collector: nothing to report to
            pass

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        # Only the default parse is a chat completion; ``parse(to=...)`` may be anything.
        default = not args and kwargs.get("to") is None
        try:
            parsed = self.__wrapped__.parse(*args, **kwargs)
        except BaseException as error:
            self._self_fail(error)
            raise
        # By the result, not the client: parse() is a coroutine on the async client only.
        if inspect.isawaitable(parsed):
            return self._self_parse_async(parsed, default)
        self._self_end(parsed if default else None)
        return parsed

    async def _self_parse_async(self, parsing: Any, default: bool) -> Any:
        try:
            parsed = await parsing
        except BaseException as error:
            self._self_fail(error)
            raise
        self._self_end(parsed if default else None)
        return parsed

    def close(self) -> Any:
        try:
            closing = self.__wrapped__.close()
        except BaseException:
            self._self_end(None)
            raise
        if inspect.isawaitable(closing):
            return self._self_close_async(closing)
        self._self_end(None)
        return closing

    async def _self_close_async(self, closing: Any) -> Any:
        try:
            return await closing
        finally:
            self._self_end(None)

    def _self_end(self, parsed: Any) -> None:
        if self._self_done.acquire(blocking=False):
            _end(self._self_call, parsed)

    def _self_fail(self, error: BaseException) -> None:
        if self._self_done.acquire(blocking=False):
            _fail(self._self_call, error)
