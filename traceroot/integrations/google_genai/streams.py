"""Transparent proxies for the client's streamed responses: the SDK gets the same chunks, in order.

The span ends exactly once: when the stream is exhausted, raises (an HTTP error before the first
chunk, an error object mid-stream, a connection cut), is closed, or is garbage-collected
unfinished, which is what happens when the caller breaks out of ``generate_content_stream``:
the SDK's generators drop the stream they read from. A stream that stopped early is marked
partial and keeps what arrived.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import wrapt
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.guard import contained
from traceroot.integrations.google_genai.wire import StreamedResponse

_accumulating = contained("google_genai.stream.chunk")
_recording = contained("google_genai.stream.end")


class StreamRecorder:
    """Collects one stream's chunks and ends its span once."""

    __slots__ = ("_done", "_started", "chunks", "context", "exhausted", "first_chunk_after", "span")

    def __init__(self, span: Span, context: Context, started: float) -> None:
        self.span = span
        self.context = context
        self.chunks = StreamedResponse()
        self._started = started
        self._done = threading.Lock()
        self.first_chunk_after: float | None = None
        self.exhausted = False

    def chunk(self, chunk: Any) -> None:
        try:
            if self.first_chunk_after is None:
                self.first_chunk_after = time.monotonic() - self._started
            self.chunks.add(chunk)
        except Exception as error:  # noqa: BLE001 - once per chunk: no with-block on this path
            _accumulating.failed(error)

    def finish(self, error: BaseException | None = None) -> None:
        if not self._done.acquire(blocking=False):
            return  # already ended
        attributes: dict[str, Any] = {}
        with _recording:
            if self.first_chunk_after is not None:
                attributes[semconv.LLM_TIME_TO_FIRST_CHUNK] = self.first_chunk_after
            if not self.exhausted:
                attributes[semconv.LLM_STREAM_PARTIAL] = True
            self.chunks.record(attributes)
        genai.set_final(self.span, attributes)
        with _recording:
            if error is not None and not isinstance(error, GeneratorExit):
                genai.record_error(self.span, error)
                record_status_code(self.span, error)
        self.span.end()


def record_status_code(span: Span, error: BaseException) -> None:
    """``google.genai.errors.APIError`` carries the HTTP status as ``code``."""
    code = getattr(error, "code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        span.set_attribute(semconv.HTTP_RESPONSE_STATUS_CODE, code)


def _abandon(recorder: StreamRecorder) -> None:
    """From ``__del__``: never let an error escape into the garbage collector."""
    try:
        recorder.finish()
    except Exception:  # noqa: BLE001 - nothing can be reported safely from here
        pass


class SyncStream(wrapt.ObjectProxy):  # type: ignore[type-arg,misc,unused-ignore]
    """Stands in for the generator ``BaseApiClient.request_streamed`` returns. That generator
    sends the HTTP request on its first step, so the span is current until the first chunk."""

    def __init__(self, wrapped: Any, recorder: StreamRecorder) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder

    def __del__(self) -> None:
        _abandon(self._self_recorder)

    def __iter__(self) -> SyncStream:
        return self

    def __next__(self) -> Any:
        recorder = self._self_recorder
        token = None
        if recorder.first_chunk_after is None:
            token = otel_context.attach(recorder.context)
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            if token is not None:
                otel_context.detach(token)
            recorder.exhausted = True
            recorder.finish()
            raise
        except BaseException as error:
            if token is not None:
                otel_context.detach(token)
            recorder.finish(error)
            raise
        if token is not None:
            otel_context.detach(token)
        recorder.chunk(chunk)
        return chunk

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_recorder.finish()


class AsyncStream(wrapt.ObjectProxy):  # type: ignore[type-arg,misc,unused-ignore]
    """Stands in for the async generator ``BaseApiClient.async_request_streamed`` returns (its
    HTTP request was sent while the call was awaited)."""

    def __init__(self, wrapped: Any, recorder: StreamRecorder) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder

    def __del__(self) -> None:
        _abandon(self._self_recorder)

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> Any:
        recorder = self._self_recorder
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            recorder.exhausted = True
            recorder.finish()
            raise
        except BaseException as error:
            recorder.finish(error)
            raise
        recorder.chunk(chunk)
        return chunk

    async def aclose(self) -> None:
        try:
            await self.__wrapped__.aclose()
        finally:
            self._self_recorder.finish()
