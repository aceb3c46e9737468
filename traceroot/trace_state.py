"""Trace-level state: the spans of each trace still running, and values set for the whole trace.

``update_current_trace`` writes here; :mod:`traceroot.stamping` reads it for every span that
starts, and the context processor keeps the open spans up to date. Entries go when the last open
span of their trace ends.
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
        # Traces with trace-level values: while there are none (nearly always), a starting span
        # needs no lookup of its trace at all.
        self._overridden: set[int] = set()

    # opened() and closed() run for every span, so they take no lock: each step is one dict
    # operation, atomic on its own. Only dropping a trace's entry, once per trace, is locked.
    def opened(self, span: Span) -> None:
        context = span.get_span_context()
        trace_id = context.trace_id
        entry = self._traces.get(trace_id)
        if entry is None:
            entry = self._traces.setdefault(trace_id, _OpenTrace())
        entry.spans[context.span_id] = span

    def span(self, trace_id: int, span_id: int) -> Span | None:
        """The open span with this id, if it is open."""
        entry = self._traces.get(trace_id)
        return entry.spans.get(span_id) if entry is not None else None

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
                    self._overridden.discard(context.trace_id)

    def update(self, trace_id: int, attributes: Mapping[str, AttributeValue]) -> int:
        """Record trace-level ``attributes`` and set them on the trace's open spans; count them."""
        with self._lock:
            entry = self._traces.get(trace_id)
            if entry is None:
                return 0
            entry.overrides.update(attributes)
            self._overridden.add(trace_id)
            spans = list(entry.spans.values())  # a copy: other threads may open and close spans
        for span in spans:
            span.set_attributes(attributes)
        return len(spans)

    def overrides(self, trace_id: int) -> dict[str, AttributeValue]:
        with self._lock:
            entry = self._traces.get(trace_id)
            return dict(entry.overrides) if entry is not None else {}

    @property
    def has_overrides(self) -> bool:
        """Whether any open trace has trace-level values; lock-free, read for every span."""
        return bool(self._overridden)

    def overrides_of(self, trace_id: int) -> dict[str, AttributeValue]:
        """The trace-level values of ``trace_id`` (shared: do not change); lock-free."""
        entry = self._traces.get(trace_id)
        return entry.overrides if entry is not None else {}

    def has_override(self, trace_id: int, key: str) -> bool:
        """Whether ``key`` was set for the whole trace; lock-free, for per-step checks."""
        entry = self._traces.get(trace_id)
        return entry is not None and key in entry.overrides

    def __len__(self) -> int:
        with self._lock:
            return len(self._traces)


open_traces = OpenTraces()
