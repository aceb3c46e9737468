"""The one-llm-span-per-call protocol: exactly one usage-carrying ``llm`` span per model call,
whoever made the spans.

A model call is often seen by several layers at once: a framework's model span (a LangChain chat
model, a LlamaIndex LLM), a provider integration's span, another instrumentation wrapping the same
client (OpenInference, OpenTelemetry's openai-v2), a provider SDK's own telemetry. The rule:

- the innermost model span of a call is the ``llm`` span and carries the usage;
- every model span that encloses another is a plain ``span`` with no usage, but keeps its input
  and output, so the reply is always on some span of the call.

The context processor sees every span start, whichever tracer made it, and reports each model
span here (:meth:`ModelCalls.started`). A model span that starts while another is open above it
in its trace makes that one *enclosing*. An enclosing span of traceroot's applies the verdict to
itself when it ends (:meth:`ModelCalls.settle`); one of another tracer's is retyped at once, while
it is still open, and the reader of foreign spans drops its usage from the copy it exports.

A framework call that returns a stream is special: its provider call starts when the caller reads
the stream, after the framework span stopped being current. Such spans wait here, per trace and
oldest first, for the next provider call of their trace, which nests under the oldest.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import Any, Final

from opentelemetry.trace import Span

from traceroot import semconv
from traceroot.trace_state import open_traces

# How far above a starting model span to look for an enclosing one, through spans that are not
# model calls (an agent step, a retry wrapper). Bounded: a model span starts once per call, but a
# deep agent should not pay for a walk to its root.
_MAX_WALK: Final = 16
# Model spans another tracer started and never ended (a stream it dropped unread) stay open here
# forever: past this many, the oldest are forgotten.
_MAX_OPEN: Final = 10_000
# When model spans started, for the last traces: for the spans other tracers type only when they
# end (see started_between).
_MAX_TRACES_LOGGED: Final = 2_048
_MAX_STARTS_PER_TRACE: Final = 256

USAGE_PREFIXES: Final = (semconv.GEN_AI_USAGE_PREFIX, semconv.OPENINFERENCE_TOKEN_COUNT_PREFIX)


class _ModelSpan:
    __slots__ = ("enclosing", "foreign", "held", "span")

    def __init__(self, span: Span, foreign: bool) -> None:
        self.span = span
        self.foreign = foreign
        self.enclosing = False
        self.held: dict[str, Any] | None = None  # usage given before the span ends


class ModelCalls:
    """Open model spans by span id, and whether a model span started under each."""

    def __init__(self) -> None:
        # Re-entrant: a stream dropped unread ends its span from a finalizer, which the garbage
        # collector may run in this thread while it holds the lock.
        self._lock = threading.RLock()
        # started() and ended() run for every model span: one dict operation each, atomic on its
        # own, so no lock. Streams (rare, and a list to edit) take the lock.
        self._open: dict[int, _ModelSpan] = {}
        self._streams: dict[int, list[Span]] = {}  # trace id -> spans that returned a stream
        self._starts: dict[int, list[int]] = {}  # trace id -> start times of its model spans

    def started(self, span: Any, *, foreign: bool) -> None:
        """A model span started: register it, and mark the nearest open model span above it (or
        the framework call whose returned stream is being read, if it has none)."""
        context = span.get_span_context()
        enclosing = self._nearest_open_model(span)
        if enclosing is None and self._streams:
            enclosing = self._reading_stream(context.trace_id)
        spans = self._open
        if len(spans) >= _MAX_OPEN:
            spans.pop(next(iter(spans)), None)
        spans[context.span_id] = _ModelSpan(span, foreign)
        self._log_start(context.trace_id, getattr(span, "start_time", None))
        if enclosing is None:
            return
        enclosing.enclosing = True
        if enclosing.foreign:
            # Another tracer's span: retype it now, while it can still be written to. Its usage,
            # recorded when it ends, is left out of what traceroot exports.
            enclosing.span.set_attribute(semconv.SPAN_TYPE, semconv.TYPE_SPAN)
        if self._streams:
            with self._lock:
                self._forget_stream(enclosing.span.get_span_context().span_id)

    def _reading_stream(self, trace_id: int) -> _ModelSpan | None:
        framework = self.stream_parent(trace_id)
        return self._open.get(framework.get_span_context().span_id) if framework else None

    def _log_start(self, trace_id: int, start_ns: int | None) -> None:
        if start_ns is None:
            return
        starts = self._starts.get(trace_id)
        if starts is None:
            if len(self._starts) >= _MAX_TRACES_LOGGED:
                self._starts.pop(next(iter(self._starts)), None)
            starts = self._starts.setdefault(trace_id, [])
        if len(starts) < _MAX_STARTS_PER_TRACE:
            starts.append(start_ns)

    def started_between(self, trace_id: int, start_ns: int, end_ns: int) -> bool:
        """Whether a model span that took part in this protocol started in ``trace_id`` between
        the two times. For another tracer's span typed only when it ended (OpenInference's
        LangChain spans), which no model span could be seen to start under."""
        starts = self._starts.get(trace_id, ())
        return any(start_ns <= start <= end_ns for start in list(starts))

    def _nearest_open_model(self, span: Any) -> _ModelSpan | None:
        parent = getattr(span, "parent", None)
        for _ in range(_MAX_WALK):
            if parent is None:
                return None
            found = self._open.get(parent.span_id)
            if found is not None:
                return found
            ancestor = open_traces.span(parent.trace_id, parent.span_id)
            parent = getattr(ancestor, "parent", None)
        return None

    def ended(self, span_id: int) -> None:
        """A span ended (the processor says so for every model span): forget it."""
        self._open.pop(span_id, None)

    def settle(self, span: Span, attributes: MutableMapping[str, Any]) -> bool:
        """Apply the verdict to a model span of traceroot's about to end, through the attributes
        it is about to set: if a model span ran under it, it becomes a plain span and drops its
        usage (its input and output stay). ``True`` if it encloses another."""
        span_id = span.get_span_context().span_id
        if self._streams:
            with self._lock:
                self._forget_stream(span_id)
        record = self._open.pop(span_id, None)
        if record is None:
            return False
        if not record.enclosing:
            if record.held:
                attributes.update(record.held)
            return False
        attributes[semconv.SPAN_TYPE] = semconv.TYPE_SPAN
        for key in [key for key in attributes if key.startswith(USAGE_PREFIXES)]:
            del attributes[key]
        return True

    def is_open_model(self, span_id: int) -> bool:
        return span_id in self._open

    def hold_usage(self, span: Span, usage: dict[str, Any]) -> bool:
        """Keep ``usage`` given to an open model span of traceroot's (``update_current_span``)
        until :meth:`settle` decides whether it is this span's; ``False`` if it is not one."""
        record = self._open.get(span.get_span_context().span_id)
        if record is None or record.foreign:
            return False
        record.held = {**(record.held or {}), **usage}
        return True

    # -- Streams returned by framework calls -------------------------------------------------------
    def watch_stream(self, span: Span) -> None:
        """``span`` returned a stream: its provider call will start outside it."""
        context = span.get_span_context()
        with self._lock:
            if context.span_id in self._open:
                self._streams.setdefault(context.trace_id, []).append(span)

    @property
    def streams_watched(self) -> bool:
        """Whether any framework call's returned stream is being read; lock-free."""
        return bool(self._streams)

    def stream_parent(self, trace_id: int) -> Span | None:
        """The framework span a provider call starting now in ``trace_id`` belongs under."""
        if trace_id not in self._streams:  # unlocked read first: nearly always empty
            return None
        with self._lock:
            pending = self._streams.get(trace_id)
            return pending[0] if pending else None

    def _forget_stream(self, span_id: int) -> None:
        for trace_id, pending in list(self._streams.items()):
            remaining = [s for s in pending if s.get_span_context().span_id != span_id]
            if len(remaining) != len(pending):
                if remaining:
                    self._streams[trace_id] = remaining
                else:
                    del self._streams[trace_id]

    def __len__(self) -> int:
        return len(self._open)


model_calls = ModelCalls()


def is_usage(key: str) -> bool:
    """Whether an attribute holds token usage, in the GenAI or the OpenInference conventions."""
    return key.startswith(USAGE_PREFIXES)
