"""Transparent proxies for the streams of provider SDKs: the caller gets the same chunks, in order.

For any SDK stream object that iterates chunks and has ``close()`` and a ``response`` (the
Stainless ``Stream`` / ``AsyncStream`` of Groq, Speakeasy's ``EventStream`` of Mistral). The span
ends exactly once: when the stream is exhausted, raises, is closed, leaves its ``with`` block, or
is garbage-collected unfinished. A stream that stopped early is marked partial and keeps what
arrived; a stream broken by an error records it.

Provider-neutral; the OpenAI integration keeps its own copy in ``openai/streams.py`` (which also
proxies ``with_streaming_response``) until the two are one module.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

import wrapt
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.genai import Attributes
from traceroot.guard import contained

_accumulating = contained("stream.chunk")
_recording = contained("stream.end")


class StreamAccumulator(Protocol):
    """Gathers a stream's chunks; records what arrived when the stream ends, however it ends."""

    def add(self, chunk: Any) -> None: ...

    def record(self, attributes: Attributes) -> None: ...


class StreamRecorder:
    """Collects one stream's chunks into its span and ends the span once."""

    __slots__ = ("_done", "_started", "accumulator", "exhausted", "first_chunk_after", "span")

    def __init__(self, span: Span, accumulator: StreamAccumulator, started: float) -> None:
        self.span = span
        self.accumulator = accumulator
        self._started = started
        self._done = threading.Lock()
        self.first_chunk_after: float | None = None
        self.exhausted = False

    def chunk(self, chunk: Any) -> None:
        try:
            if self.first_chunk_after is None:
                self.first_chunk_after = time.monotonic() - self._started
            self.accumulator.add(chunk)
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
            self.accumulator.record(attributes)
        genai.set_final(self.span, attributes)
        with _recording:
            if error is not None and not isinstance(error, GeneratorExit):
                genai.record_error(self.span, error)
        self.span.end()


def _abandon(recorder: StreamRecorder) -> None:
    """From ``__del__``: never let an error escape into the garbage collector."""
    try:
        recorder.finish()
    except Exception:  # noqa: BLE001 - nothing can be reported safely from here
        pass


class _StreamProxy(wrapt.ObjectProxy):  # type: ignore[type-arg,misc,unused-ignore]
    """What the sync and async stream proxies share: the recorder, the end on being dropped, and
    the HTTP response whose closing ends the span."""

    def __init__(self, wrapped: Any, recorder: StreamRecorder) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder

    def __del__(self) -> None:
        # Dropped unfinished (an early break, an exception in the caller): end the span now.
        _abandon(self._self_recorder)

    @property
    def response(self) -> Any:
        # Helpers close the stream through its HTTP response; hear that too.
        return _ClosingResponse(self.__wrapped__.response, self._self_recorder)


class SyncStream(_StreamProxy):
    """Stands in for a synchronous SDK stream."""

    def __iter__(self) -> SyncStream:
        return self

    def __next__(self) -> Any:
        recorder = self._self_recorder
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            recorder.exhausted = True
            recorder.finish()
            raise
        except BaseException as error:
            recorder.finish(error)
            raise
        recorder.chunk(chunk)
        return chunk

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_recorder.finish()

    def __enter__(self) -> SyncStream:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, exc_type: Any, error: BaseException | None, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, error, tb)
        finally:
            self._self_recorder.finish(error)


class AsyncStream(_StreamProxy):
    """Stands in for an asynchronous SDK stream."""

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

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._self_recorder.finish()

    async def __aenter__(self) -> AsyncStream:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, error: BaseException | None, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, error, tb)
        finally:
            self._self_recorder.finish(error)


class _ClosingResponse(wrapt.ObjectProxy):  # type: ignore[type-arg,misc,unused-ignore]
    """The stream's HTTP response; closing it ends the stream's span."""

    def __init__(self, wrapped: Any, recorder: StreamRecorder) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_recorder.finish()

    async def aclose(self) -> None:
        try:
            await self.__wrapped__.aclose()
        finally:
            self._self_recorder.finish()
