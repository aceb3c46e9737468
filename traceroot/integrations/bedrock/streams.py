"""What stands in for the parts of a Bedrock reply that are read after the call returns: the
event stream of ``converse_stream`` / ``invoke_model_with_response_stream``, and the body of
``invoke_model``.

The stream proxy passes the same events, in order, and ends the span exactly once: when the
stream is exhausted, raises (an exception event such as ``modelStreamErrorException`` arrives as
botocore's ``EventStreamError``), is closed, or is garbage-collected unfinished. A stream that
stopped early is marked partial and keeps what arrived.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any, Protocol

from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.genai import Attributes
from traceroot.guard import contained
from traceroot.integrations.proxies import StandIn

_accumulating = contained("bedrock.stream.event")
_recording = contained("bedrock.stream.end")


class StreamAccumulator(Protocol):
    """Gathers a stream's events; records what arrived when the stream ends, however it ends."""

    def add(self, event: Any) -> None: ...

    def record(self, attributes: Attributes) -> None: ...


class StreamRecorder:
    """Collects one stream's events into its span and ends the span once."""

    __slots__ = ("_done", "_started", "accumulator", "attributes", "exhausted", "first", "span")

    def __init__(
        self, span: Span, accumulator: StreamAccumulator, started: float, attributes: Attributes
    ) -> None:
        self.span = span
        self.accumulator = accumulator
        self.attributes = attributes  # known when the call returned (the request id)
        self._started = started
        self._done = threading.Lock()
        self.first: float | None = None
        self.exhausted = False

    def event(self, event: Any) -> None:
        try:
            if self.first is None:
                self.first = time.monotonic() - self._started
            self.accumulator.add(event)
        except Exception as error:  # noqa: BLE001 - once per event: no with-block on this path
            _accumulating.failed(error)

    def finish(self, error: BaseException | None = None) -> None:
        if not self._done.acquire(blocking=False):
            return  # already ended
        attributes = self.attributes
        with _recording:
            if self.first is not None:
                attributes[semconv.LLM_TIME_TO_FIRST_CHUNK] = self.first
            if not self.exhausted:
                attributes[semconv.LLM_STREAM_PARTIAL] = True
            self.accumulator.record(attributes)
        genai.set_final(self.span, attributes)
        if error is not None:
            with _recording:
                record_error(self.span, error)
        self.span.end()


def record_error(span: Span, error: BaseException) -> None:
    """Status, ``error.type`` and one exception event; for botocore's ``ClientError`` (and
    ``EventStreamError``, an exception event mid-stream) the type is the AWS error code
    (``ThrottlingException``, ``modelStreamErrorException``)."""
    genai.record_error(span, error)
    response = getattr(error, "response", None)
    code = (response.get("Error") or {}).get("Code") if isinstance(response, dict) else None
    if isinstance(code, str) and code:
        span.set_attribute(semconv.ERROR_TYPE, code)


class EventStream(StandIn):
    """Stands in for ``botocore.eventstream.EventStream``."""

    __slots__ = ("_self_events", "_self_recorder")

    def __init__(self, wrapped: Any, recorder: StreamRecorder) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder
        self._self_events: Any = None

    def __del__(self) -> None:
        # Dropped unfinished (an early break, an exception in the caller): end the span now.
        try:
            self._self_recorder.finish()
        except Exception:  # noqa: BLE001 - nothing can be reported safely from a finalizer
            pass

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> Any:
        recorder = self._self_recorder
        events = self._self_events
        if events is None:
            events = self._self_events = iter(self.__wrapped__)
        try:
            event = next(events)
        except StopIteration:
            recorder.exhausted = True
            recorder.finish()
            raise
        except BaseException as error:
            recorder.finish(error)
            raise
        recorder.event(event)
        return event

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_recorder.finish()


class _Failing(io.RawIOBase):
    """The raw stream of a body whose reading failed: every read raises that same error."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        raise self.error

    def readinto(self, buffer: Any) -> int:
        raise self.error


def read_body(result: dict[str, Any]) -> tuple[bytes | None, BaseException | None]:
    """Read ``invoke_model``'s body (a small JSON document) and put an equal, unread
    ``StreamingBody`` in its place. If reading fails, the caller's body raises the same error
    when read, as the original would have; the error is returned for the span."""
    from botocore.response import StreamingBody

    body: Any = result.get("body")
    if not hasattr(body, "read"):
        return None, None
    try:
        data = body.read()
    except Exception as error:  # noqa: BLE001 - handed to the caller's body, re-raised there
        result["body"] = StreamingBody(_Failing(error), None)
        return None, error
    result["body"] = StreamingBody(io.BytesIO(data), len(data))
    return data, None
