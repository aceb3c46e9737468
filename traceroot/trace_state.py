"""Trace-level state: the spans of each trace still running, and values set for the whole trace.

``update_current_trace`` writes here; the context processor reads it when a span starts and keeps
the open spans up to date. Entries go when the last open span of their trace ends.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from opentelemetry.trace import Span, SpanContext
from opentelemetry.util.types import AttributeValue


class _OpenTrace:
    __slots__ = ("overrides", "spans")

    def __init__(self) -> None:
        self.spans: dict[int, Span] = {}
        self.overrides: dict[str, AttributeValue] = {}


class OpenTraces:
    """The spans of each trace that have started and not yet ended, and trace-level values."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._traces: dict[int, _OpenTrace] = {}

    # opened() and closed() run for every span, so they take no lock: each step is one dict
    # operation, atomic on its own. Only dropping a trace's entry, once per trace, is locked.
    def opened(self, span: Span) -> dict[str, AttributeValue]:
        context = span.get_span_context()
        trace_id = context.trace_id
        entry = self._traces.get(trace_id)
        if entry is None:
            entry = self._traces.setdefault(trace_id, _OpenTrace())
        entry.spans[context.span_id] = span
        return entry.overrides

    def closed(self, context: SpanContext | None) -> None:
        if context is None:
            return
        entry = self._traces.get(context.trace_id)
        if entry is None:
            return
        entry.spans.pop(context.span_id, None)
        if not entry.spans:
            with self._lock:
                if not entry.spans and self._traces.get(context.trace_id) is entry:
                    del self._traces[context.trace_id]

    def update(self, trace_id: int, attributes: Mapping[str, AttributeValue]) -> int:
        """Record trace-level ``attributes`` and set them on the trace's open spans; count them."""
        with self._lock:
            entry = self._traces.get(trace_id)
            if entry is None:
                return 0
            entry.overrides.update(attributes)
            spans = list(entry.spans.values())  # a copy: other threads may open and close spans
        for span in spans:
            span.set_attributes(attributes)
        return len(spans)

    def overrides(self, trace_id: int) -> dict[str, AttributeValue]:
        with self._lock:
            entry = self._traces.get(trace_id)
            return dict(entry.overrides) if entry is not None else {}

    def has_override(self, trace_id: int, key: str) -> bool:
        """Whether ``key`` was set for the whole trace; lock-free, for per-step checks."""
        entry = self._traces.get(trace_id)
        return entry is not None and key in entry.overrides

    def __len__(self) -> int:
        with self._lock:
            return len(self._traces)


open_traces = OpenTraces()


class ModelCalls:
    """Framework model spans (a LangChain chat model, a LlamaIndex LLM) and whether a provider's
    model-call span started under each.

    One model call must be one usage-carrying ``llm`` span. A framework span cannot know at its
    start whether the provider call it makes is instrumented; the context processor sees every
    span start, so it tells this registry when a model-call span starts under a watched one.

    A framework call that returns a stream is special: the provider reads it only when the caller
    consumes it, after the framework span stopped being current. Such spans wait here per trace
    (oldest first) for the next provider call of their trace, which nests under the oldest.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # span id -> [a provider span started under it]: a cell, so that marking it never
        # re-inserts an entry that release() took out meanwhile.
        self._watched: dict[int, list[bool]] = {}
        self._streams: dict[int, list[Span]] = {}  # trace id -> spans that returned a stream

    # watch() and release() run for every framework model call: one dict operation each, atomic
    # on its own, so no lock unless a stream is pending (rare, and a list to edit).
    def watch(self, span: Span) -> None:
        self._watched[span.get_span_context().span_id] = [False]

    def watch_stream(self, span: Span) -> None:
        """``span`` returned a stream: its provider call will start outside it."""
        context = span.get_span_context()
        with self._lock:
            if context.span_id in self._watched:
                self._streams.setdefault(context.trace_id, []).append(span)

    def stream_parent(self, trace_id: int) -> Span | None:
        """The framework span a provider call starting now in ``trace_id`` belongs under."""
        if trace_id not in self._streams:  # unlocked read first: nearly always empty
            return None
        with self._lock:
            pending = self._streams.get(trace_id)
            return pending[0] if pending else None

    def saw_model_call(self, parent_span_id: int) -> None:
        cell = self._watched.get(parent_span_id)
        if cell is None:
            return
        cell[0] = True
        if self._streams:
            with self._lock:
                self._forget_stream(parent_span_id)

    def release(self, span: Span) -> bool:
        """Stop watching ``span``; ``True`` if a provider model call ran under it."""
        span_id = span.get_span_context().span_id
        if self._streams:
            with self._lock:
                self._forget_stream(span_id)
        cell = self._watched.pop(span_id, None)
        return cell is not None and cell[0]

    def _forget_stream(self, span_id: int) -> None:
        for trace_id, pending in list(self._streams.items()):
            remaining = [s for s in pending if s.get_span_context().span_id != span_id]
            if len(remaining) != len(pending):
                if remaining:
                    self._streams[trace_id] = remaining
                else:
                    del self._streams[trace_id]

    @property
    def watching(self) -> bool:
        return bool(self._watched)


model_calls = ModelCalls()
