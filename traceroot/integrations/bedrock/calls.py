"""One Bedrock model call: start its ``llm`` span, run the call, record the reply or the error.

Pre-call work (reading the request) and post-call work (reading the reply) are guarded on their
own; the user's call itself is never inside a guard, so its result, exception and traceback reach
the caller untouched. Credentials and headers are never read: only the operation's parameters
and the reply's body, request id and token-count headers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.genai import Attributes
from traceroot.guard import contained
from traceroot.integrations.bedrock.converse import Converse
from traceroot.integrations.bedrock.invoke import Invoke
from traceroot.integrations.bedrock.streams import (
    EventStream,
    StreamAccumulator,
    StreamRecorder,
    read_body,
    record_error,
)


class ModelCall(Protocol):
    """What an operation module provides: the operation name (known once the request is read),
    whether the reply's body must be read for the span (known then too), the request's and the
    reply's attributes, and a stream's accumulator."""

    operation: str

    @property
    def reads_body(self) -> bool: ...

    def record_request(self, attributes: Attributes, params: Mapping[str, Any]) -> None: ...

    def record_response(
        self, attributes: Attributes, response: Any, body: bytes | None
    ) -> None: ...

    def accumulator(self) -> StreamAccumulator: ...


OPERATIONS: Final[dict[str, Callable[[], ModelCall]]] = {
    "Converse": Converse,
    "ConverseStream": Converse,
    "InvokeModel": Invoke,
    "InvokeModelWithResponseStream": Invoke,
}
# The reply's key holding the event stream, for the streamed operations.
STREAM_KEYS: Final = {"ConverseStream": "stream", "InvokeModelWithResponseStream": "body"}

_starting = contained("bedrock.start")
_reading_request = contained("bedrock.request")
_reading_response = contained("bedrock.response")


class _Call:
    __slots__ = ("context", "model_call", "operation", "span", "started")

    def __init__(self, span: Span, model_call: ModelCall, operation: str) -> None:
        self.span = span
        self.model_call = model_call
        self.operation = operation
        self.started = time.monotonic()
        self.context = trace.set_span_in_context(span)


def traced(
    wrapped: Callable[..., Any],
    client: Any,
    operation: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    call = _begin(client, operation, args, kwargs)
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


def _begin(
    client: Any, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> _Call | None:
    params = args[1] if len(args) > 1 else kwargs.get("api_params")
    if not isinstance(params, Mapping):
        params = {}
    model_call = OPERATIONS[operation]()
    attributes: Attributes = {semconv.GEN_AI_REQUEST_STREAM: operation in STREAM_KEYS}
    with _reading_request:
        attributes.update(_server(client))
        model_call.record_request(attributes, params)
    with _starting:
        model = params.get("modelId")
        span = genai.start_llm_span(
            model_call.operation,
            model if isinstance(model, str) else None,
            provider=semconv.PROVIDER_AWS_BEDROCK,
            attributes=attributes,
        )
        return _Call(span, model_call, operation)
    return None


def _server(client: Any) -> Attributes:
    url = urlsplit(client.meta.endpoint_url)
    server: Attributes = {}
    if url.hostname:
        server[semconv.SERVER_ADDRESS] = url.hostname
    if url.port is not None:
        server[semconv.SERVER_PORT] = url.port
    return server


def _metadata(response: object) -> Mapping[str, Any]:
    metadata = response.get("ResponseMetadata") if isinstance(response, Mapping) else None
    return metadata if isinstance(metadata, Mapping) else {}


def _fail(call: _Call, error: BaseException) -> None:
    attributes: Attributes = {}
    with _reading_response:
        # botocore's ClientError: the parsed error reply, with the request id and HTTP status.
        metadata = _metadata(getattr(error, "response", None))
        genai.set_if(attributes, semconv.AWS_REQUEST_ID, metadata.get("RequestId"))
        genai.set_if(attributes, semconv.HTTP_RESPONSE_STATUS_CODE, metadata.get("HTTPStatusCode"))
    genai.set_final(call.span, attributes)
    with _reading_response:
        record_error(call.span, error)
    call.span.end()


def _succeed(call: _Call, result: Any) -> Any:
    """Record the reply and end the span, or put a stream proxy in the reply that will."""
    attributes: Attributes = {}
    failed: BaseException | None = None
    with _reading_response:
        genai.set_if(attributes, semconv.AWS_REQUEST_ID, _metadata(result).get("RequestId"))
        key = STREAM_KEYS.get(call.operation)
        if key is not None and isinstance(result, dict) and result.get(key) is not None:
            accumulator = call.model_call.accumulator()
            recorder = StreamRecorder(call.span, accumulator, call.started, attributes)
            result[key] = EventStream(result[key], recorder)
            return result
        body = None
        if call.model_call.reads_body and isinstance(result, dict):
            body, failed = read_body(result)
        call.model_call.record_response(attributes, result, body)
    genai.set_final(call.span, attributes)
    if failed is not None:
        with _reading_response:
            record_error(call.span, failed)
    call.span.end()
    return result
