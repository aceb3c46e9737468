"""Wrappers for the client's ``request`` method, the one place every Anthropic API call passes.

Pre-call work (reading the request) and post-call work (reading the response) are guarded on
their own; the user's call itself is never inside a guard, so its result, exception and traceback
reach the caller untouched.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from anthropic import _types
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.genai import Attributes
from traceroot.guard import contained
from traceroot.integrations.anthropic.messages import CountTokensEndpoint, MessagesEndpoint
from traceroot.integrations.base import BaseIntegration, Replacer, Wrapper
from traceroot.integrations.streaming import (
    AsyncStream,
    StreamAccumulator,
    StreamingResponse,
    StreamRecorder,
    SyncStream,
)


class Endpoint(Protocol):
    def start(self, model: str | None, provider: str, attributes: Attributes) -> Span: ...

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None: ...

    def record_response(self, attributes: Attributes, response: Any) -> None: ...

    def accumulator(self) -> StreamAccumulator: ...


# By path, without the query (the beta endpoints add ``?beta=true``): as the client asks for it,
# before a Bedrock or Vertex client rewrites it for its platform.
ENDPOINTS: Final[dict[str, Endpoint]] = {
    "/v1/messages": MessagesEndpoint(),
    "/v1/messages/count_tokens": CountTokensEndpoint(),
}

# The SDK's placeholders for an argument not given (2.x leaves them in the request body).
_OMITTED: Final = tuple(
    kind for kind in (getattr(_types, "Omit", None), getattr(_types, "NotGiven", None)) if kind
)

_starting = contained("anthropic.start")
_reading_request = contained("anthropic.request")
_reading_response = contained("anthropic.response")


class _Call:
    __slots__ = ("context", "endpoint", "span", "started", "stream")

    def __init__(self, span: Span, endpoint: Endpoint, stream: bool) -> None:
        self.span = span
        self.endpoint = endpoint
        self.stream = stream
        self.started = time.monotonic()
        self.context = trace.set_span_in_context(span)


def endpoint_of(options: Any) -> Endpoint | None:
    url = getattr(options, "url", None)
    if not isinstance(url, str):
        return None
    return ENDPOINTS.get(url.partition("?")[0])


def _begin(client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | None:
    options = args[1] if len(args) > 1 else kwargs.get("options")
    endpoint = endpoint_of(options)
    if endpoint is None:
        return None
    json_data = getattr(options, "json_data", None)
    body: Mapping[str, Any] = (
        {key: value for key, value in json_data.items() if not isinstance(value, _OMITTED)}
        if isinstance(json_data, Mapping)
        else {}
    )
    stream = bool(kwargs.get("stream", False))
    attributes: dict[str, Any] = {semconv.GEN_AI_REQUEST_STREAM: stream}
    with _reading_request:
        attributes.update(_server(client))
        endpoint.record_request(attributes, body)
    with _starting:
        model = body.get("model")
        span = endpoint.start(
            model if isinstance(model, str) else None, provider(client), attributes
        )
        return _Call(span, endpoint, stream)
    return None


def provider(client: Any) -> str:
    """``gen_ai.provider.name``: the platform for the Bedrock and Vertex clients, as Anthropic's
    own telemetry names it (which 2.x clients carry), else ``anthropic``."""
    named = getattr(client, "_gen_ai_provider_name", None)
    if isinstance(named, str) and named != "anthropic":
        return named
    kind = type(client).__name__
    if "Bedrock" in kind:
        return semconv.PROVIDER_AWS_BEDROCK
    if "Vertex" in kind:
        return semconv.PROVIDER_GCP_VERTEX_AI
    return "anthropic"


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
    caller's own ``parse()`` gets the same object; an async one's decoded body instead). The
    unread body of ``with_streaming_response`` is left to the caller."""
    if not hasattr(result, "http_response") or not hasattr(result, "parse"):
        return result
    http_response = result.http_response
    if not getattr(http_response, "is_closed", False):
        return None  # reading it here would consume the caller's body
    if inspect.iscoroutinefunction(result.parse):
        return http_response.json()
    return result.parse()


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


def sdk_call_span(integration: BaseIntegration) -> Replacer:
    """Anthropic 2.x's own span of an API call, left out for the calls traceroot's span covers:
    one span per model call. Its other spans (other endpoints, the tool runner and its tool
    calls) stay."""

    def replace(original: Callable[..., Any]) -> Callable[..., Any]:
        def start_api_call_span(
            tracer: Any, base_url: Any, options: Any, *args: Any, **kwargs: Any
        ) -> Any:
            if endpoint_of(options) is not None:
                return None  # the SDK then makes the call without a span of its own
            return original(tracer, base_url, options, *args, **kwargs)

        start_api_call_span.__wrapped__ = original  # type: ignore[attr-defined]
        return start_api_call_span

    return replace
