"""Wrappers for the client's ``request`` method, the one place every OpenAI API call passes.

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
from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.openai.chat import ChatEndpoint
from traceroot.integrations.openai.embeddings import CompletionsEndpoint, EmbeddingsEndpoint
from traceroot.integrations.openai.endpoint import Endpoint
from traceroot.integrations.openai.responses import ResponsesEndpoint
from traceroot.integrations.streaming import (
    AsyncStream,
    StreamingResponse,
    StreamRecorder,
    SyncStream,
)

ENDPOINTS: Final[dict[str, Endpoint]] = {
    "/chat/completions": ChatEndpoint(),
    "/responses": ResponsesEndpoint(),
    "/embeddings": EmbeddingsEndpoint(),
    "/completions": CompletionsEndpoint(),
}

_starting = contained("openai.start")
_reading_request = contained("openai.request")
_reading_response = contained("openai.response")


class _Call:
    __slots__ = ("context", "endpoint", "span", "started", "stream")

    def __init__(self, span: Span, endpoint: Endpoint, stream: bool) -> None:
        self.span = span
        self.endpoint = endpoint
        self.stream = stream
        self.started = time.monotonic()
        self.context = trace.set_span_in_context(span)


def _begin(client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | None:
    options = args[1] if len(args) > 1 else kwargs.get("options")
    endpoint = ENDPOINTS.get(getattr(options, "url", None))  # type: ignore[arg-type]
    if endpoint is None:
        return None
    json_data = getattr(options, "json_data", None)
    body: Mapping[str, Any] = json_data if isinstance(json_data, Mapping) else {}
    stream = bool(kwargs.get("stream", False))
    attributes: dict[str, Any] = {semconv.GEN_AI_REQUEST_STREAM: stream}
    with _reading_request:
        attributes.update(_server(client))
        endpoint.record_request(attributes, body)
    with _starting:
        model = body.get("model")
        span = genai.start_llm_span(
            endpoint.operation,
            model if isinstance(model, str) else None,
            provider=_provider(client),
            attributes=attributes,
        )
        return _Call(span, endpoint, stream)
    return None


def _provider(client: Any) -> str:
    return semconv.PROVIDER_AZURE_OPENAI if "Azure" in type(client).__name__ else "openai"


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


def _succeed(call: _Call, result: Any, *, is_async: bool) -> Any:
    """Record the response and end the span, or hand back a stream proxy that will."""
    attributes: dict[str, Any] = {}
    with _reading_response:
        # By the client's kind, not the result's: another instrumentation's stream proxy (one
        # traceroot wraps when it patched the client first) may offer both protocols.
        if call.stream and not is_async and hasattr(result, "__next__"):
            return SyncStream(result, _recorder(call))
        if call.stream and is_async and hasattr(result, "__anext__"):
            return AsyncStream(result, _recorder(call))
        if call.stream and hasattr(result, "http_response") and hasattr(result, "parse"):
            return StreamingResponse(result, _recorder(call))
        parsed = _parsed(result)
        if parsed is not None:
            call.endpoint.record_response(attributes, parsed)
    genai.set_final(call.span, attributes)
    call.span.end()
    return result


def _recorder(call: _Call) -> StreamRecorder:
    return StreamRecorder(call.span, call.endpoint.accumulator(), call.started)


def _parsed(result: Any) -> Any:
    """The response model, also for ``with_raw_response`` (whose ``parse()`` is cached, so the
    caller's own ``parse()`` gets the same object). Streaming raw responses are left unread."""
    from openai._legacy_response import LegacyAPIResponse

    if isinstance(result, LegacyAPIResponse):
        return None if getattr(result, "_stream", False) else result.parse()
    if hasattr(result, "http_response") and hasattr(result, "parse"):
        return None  # with_streaming_response: reading it here would consume the caller's body
    return result


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
        return _succeed(call, result, is_async=False)

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
        return _succeed(call, result, is_async=True)

    return wrapper
