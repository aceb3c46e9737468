"""Wrappers for the ``request`` method of a Stainless-generated client (``openai``, ``anthropic``,
``groq``), the one place every API call of such a client passes.

The call itself, its context and its outcome (an error, a stream proxy, or the response read and
recorded) are handled here once; a provider supplies only what differs, as a
:class:`StainlessClient` subclass: which URLs are model endpoints, how the span starts, how a raw
response is read. Pre-call work (reading the request) and post-call work (reading the response)
are guarded on their own; the user's call itself is never inside a guard, so its result,
exception and traceback reach the caller untouched.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.genai import Attributes
from traceroot.guard import contained
from traceroot.integrations.base import Wrapper
from traceroot.integrations.streaming import (
    AsyncStream,
    StreamAccumulator,
    StreamingResponse,
    StreamRecorder,
    SyncStream,
)


class Endpoint(Protocol):
    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None: ...

    def record_response(self, attributes: Attributes, response: Any) -> None: ...

    def accumulator(self) -> StreamAccumulator: ...


class Call:
    """One model call in flight: its span and what its outcome is read with."""

    __slots__ = ("context", "endpoint", "span", "started", "stream")

    def __init__(self, span: Span, endpoint: Endpoint, stream: bool) -> None:
        self.span = span
        self.endpoint = endpoint
        self.stream = stream
        self.started = time.monotonic()
        self.context = trace.set_span_in_context(span)


class StainlessClient:
    """What one provider's client supplies to the shared wrappers: override :meth:`endpoint`,
    :meth:`start` and, where its raw responses differ, :meth:`parsed`::

        class _Groq(StainlessClient):
            def endpoint(self, url): ...
            def start(self, endpoint, model, client, attributes): ...
    """

    # The SDK's placeholders for an argument not given, dropped from the request body.
    omitted: ClassVar[tuple[type, ...]] = ()
    # Whether :meth:`parsed` may give a coroutine on the async client.
    awaits_parse: ClassVar[bool] = False

    def __init__(self, name: str) -> None:
        self.starting = contained(f"{name}.start")
        self.reading_request = contained(f"{name}.request")
        self.reading_response = contained(f"{name}.response")

    def endpoint(self, url: Any) -> Endpoint | None:
        """The model endpoint a request's URL names, or ``None`` to pass the request through."""
        raise NotImplementedError

    def start(
        self, endpoint: Endpoint, model: str | None, client: Any, attributes: Attributes
    ) -> Span:
        """Start the call's ``llm`` span."""
        raise NotImplementedError

    def parsed(self, result: Any) -> Any:
        """The response to record, or ``None`` to record none."""
        return result

    def handed_over(self, call: Call, result: Any, *, is_async: bool) -> Any:
        """The proxy that will end the span once the caller reads the body, or ``None`` if the
        span ends now. Streams by the client's kind, not the result's: another instrumentation's
        stream proxy (one traceroot wraps when it patched the client first) may offer both
        protocols."""
        if call.stream and not is_async and hasattr(result, "__next__"):
            return SyncStream(result, recorder(call))
        if call.stream and is_async and hasattr(result, "__anext__"):
            return AsyncStream(result, recorder(call))
        if call.stream and hasattr(result, "http_response") and hasattr(result, "parse"):
            return StreamingResponse(result, recorder(call))
        return None

    def begin(self, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
        options = args[1] if len(args) > 1 else kwargs.get("options")
        endpoint = self.endpoint(getattr(options, "url", None))
        if endpoint is None:
            return None
        json_data = getattr(options, "json_data", None)
        omitted = self.omitted
        body: Mapping[str, Any] = (
            (
                {key: value for key, value in json_data.items() if not isinstance(value, omitted)}
                if omitted
                else json_data
            )
            if isinstance(json_data, Mapping)
            else {}
        )
        stream = bool(kwargs.get("stream", False))
        attributes: dict[str, Any] = {semconv.GEN_AI_REQUEST_STREAM: stream}
        # Guarded inline rather than with with-blocks: two calls fewer each, on every request.
        try:
            attributes.update(server(client))
            endpoint.record_request(attributes, body)
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            self.reading_request.failed(error)
        try:
            model = body.get("model")
            span = self.start(
                endpoint, model if isinstance(model, str) else None, client, attributes
            )
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            self.starting.failed(error)
            return None
        return Call(span, endpoint, stream)

    def fail(self, call: Call, error: BaseException) -> None:
        genai.set_final(call.span, {})
        with self.reading_response:
            genai.record_error(call.span, error)
        call.span.end()

    def end(self, call: Call, parsed: Any) -> None:
        """Record the parsed response (if any) and end the span."""
        attributes: dict[str, Any] = {}
        with self.reading_response:
            if parsed is not None:
                call.endpoint.record_response(attributes, parsed)
        genai.set_final(call.span, attributes)
        call.span.end()


def server(client: Any) -> dict[str, Any]:
    url = getattr(client, "base_url", None)
    host, port = getattr(url, "host", None), getattr(url, "port", None)
    attributes: dict[str, Any] = {}
    if isinstance(host, str) and host:
        attributes[semconv.SERVER_ADDRESS] = host
    if isinstance(port, int):
        attributes[semconv.SERVER_PORT] = port
    return attributes


def recorder(call: Call) -> StreamRecorder:
    return StreamRecorder(call.span, call.endpoint.accumulator(), call.started)


def sync_request(provider: StainlessClient) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = provider.begin(instance, args, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as error:
            otel_context.detach(token)
            provider.fail(call, error)
            raise
        otel_context.detach(token)
        attributes: dict[str, Any] = {}
        try:
            proxy = provider.handed_over(call, result, is_async=False)
            if proxy is not None:
                return proxy
            parsed = provider.parsed(result)
            if parsed is not None:
                call.endpoint.record_response(attributes, parsed)
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            provider.reading_response.failed(error)
        genai.set_final(call.span, attributes)
        call.span.end()
        return result

    return wrapper


def async_request(provider: StainlessClient) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = provider.begin(instance, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as error:
            otel_context.detach(token)
            provider.fail(call, error)
            raise
        otel_context.detach(token)
        attributes: dict[str, Any] = {}
        with provider.reading_response:
            proxy = provider.handed_over(call, result, is_async=True)
            if proxy is not None:
                return proxy
            parsed = provider.parsed(result)
            if provider.awaits_parse and inspect.isawaitable(parsed):
                parsed = await parsed
            if parsed is not None:
                call.endpoint.record_response(attributes, parsed)
        genai.set_final(call.span, attributes)
        call.span.end()
        return result

    return wrapper
