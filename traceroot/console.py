"""``TRACEROOT_EXPORTER=console``: print each finished trace as a readable tree."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import IO, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from traceroot import render
from traceroot.guard import contained
from traceroot.records import stored

_printing = contained("console.print_trace")

_MAX_PENDING_TRACES: Final = 1_000


class ConsoleTreeExporter(SpanExporter):
    """Holds a trace's spans until its local root ends, then prints the tree in one piece."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._pending: dict[int, list[ReadableSpan]] = {}

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        finished: list[list[ReadableSpan]] = []
        with self._lock:
            for span in spans:
                context = span.get_span_context()
                if context is None:
                    continue
                trace_spans = self._pending.setdefault(context.trace_id, [])
                trace_spans.append(span)
                if span.parent is None or span.parent.is_remote:
                    finished.append(self._pending.pop(context.trace_id))
            while len(self._pending) > _MAX_PENDING_TRACES:
                # Roots that never end must not grow this without bound: print the oldest as is.
                finished.append(self._pending.pop(next(iter(self._pending))))
        for trace_spans in finished:
            self._print(trace_spans)
        with _printing:
            (self._stream or sys.stdout).flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            leftovers, self._pending = list(self._pending.values()), {}
        for trace_spans in leftovers:
            self._print(trace_spans)

    def _print(self, trace_spans: list[ReadableSpan]) -> None:
        # One trace that cannot be printed (a closed stream, a span that cannot be read) is
        # logged once, and the others still print.
        with _printing:
            (self._stream or sys.stdout).write(render.tree([stored(s) for s in trace_spans]))

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
