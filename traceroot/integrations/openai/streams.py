"""Transparent proxies for streamed responses: the caller gets the same chunks, in order.

The span ends exactly once: when the stream is exhausted, raises, is closed, leaves its ``with``
block, or is garbage-collected unfinished. A stream that stopped early is marked partial and keeps
what arrived. The ``stream()`` helpers wrap the raw stream we return, so they are covered too.
"""

from __future__ import annotations

import inspect
import threading
import time
from typing import Any

import wrapt
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.guard import contained
from traceroot.integrations.openai.endpoint import StreamAccumulator

_accumulating = contained("openai.stream.chunk")
_recording = contained("openai.stream.end")


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
        # The stream() helpers close the stream through its HTTP response; hear that too.
        return _ClosingResponse(self.__wrapped__.response, self._self_recorder)


class SyncStream(_StreamProxy):
    """Stands in for ``openai.Stream``."""

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
    """Stands in for ``openai.AsyncStream``."""

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


class StreamingResponse(wrapt.ObjectProxy):  # type: ignore[type-arg,misc,unused-ignore]
    """The response of a streamed call made through ``with_streaming_response`` or
    ``with_raw_response`` (the OpenAI Agents SDK makes its streamed calls so): the event stream its
    ``parse()`` returns is proxied like a plain stream, and from then on that proxy ends the span,
    since callers often keep the stream and drop the response (``...create(...).parse()``).
    Closing the response ends the span too; dropping it ends the span only if it was never parsed.
    """

    def __init__(self, wrapped: Any, recorder: StreamRecorder) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder
        self._self_parsed = False

    def __del__(self) -> None:
        if not self._self_parsed:
            _abandon(self._self_recorder)

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        parsed = self.__wrapped__.parse(*args, **kwargs)
        # By the result, not the client: the async client's raw response parses synchronously.
        if inspect.isawaitable(parsed):
            return self._self_parsed_async(parsed)
        return self._self_proxy(parsed)

    async def _self_parsed_async(self, parsing: Any) -> Any:
        return self._self_proxy(await parsing)

    def _self_proxy(self, parsed: Any) -> Any:
        if hasattr(parsed, "__anext__"):
            self._self_parsed = True
            return AsyncStream(parsed, self._self_recorder)
        if hasattr(parsed, "__next__"):
            self._self_parsed = True
            return SyncStream(parsed, self._self_recorder)
        return parsed

    def close(self) -> Any:
        # The body is closed: nothing more can arrive, whoever holds the stream.
        try:
            return self.__wrapped__.close()
        finally:
            self._self_recorder.finish()


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
