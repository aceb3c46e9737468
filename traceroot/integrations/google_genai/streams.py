"""The client's streamed responses behind the shared stream proxies
(:mod:`traceroot.integrations.streaming`): the SDK gets the same chunks, in order.

The span ends exactly once: when the stream is exhausted, raises (an HTTP error before the first
chunk, an error object mid-stream, a connection cut), is closed, or is garbage-collected
unfinished, which is what happens when the caller breaks out of ``generate_content_stream``:
the SDK's generators drop the stream they read from. A stream that stopped early is marked
partial and keeps what arrived.

``SyncStream`` stands in for the generator ``BaseApiClient.request_streamed`` returns, which
sends the HTTP request on its first step, so the span is current until the first chunk;
``AsyncStream`` for the async generator ``BaseApiClient.async_request_streamed`` returns (its
HTTP request was sent while the call was awaited).
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.integrations import streaming
from traceroot.integrations.google_genai.wire import StreamedResponse
from traceroot.integrations.streaming import AsyncGeneratorStream as AsyncStream
from traceroot.integrations.streaming import SyncStream

__all__ = ["AsyncStream", "StreamRecorder", "SyncStream", "record_status_code"]


class StreamRecorder(streaming.StreamRecorder):
    """Collects one stream's chunks (read from the wire JSON) and ends its span once."""

    __slots__ = ()

    def __init__(self, span: Span, context: Context, started: float) -> None:
        super().__init__(
            span, StreamedResponse(), started, context=context, record_error=_record_error
        )


def _record_error(span: Span, error: BaseException) -> None:
    genai.record_error(span, error)
    record_status_code(span, error)


def record_status_code(span: Span, error: BaseException) -> None:
    """``google.genai.errors.APIError`` carries the HTTP status as ``code``."""
    code = getattr(error, "code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        span.set_attribute(semconv.HTTP_RESPONSE_STATUS_CODE, code)
