"""``TRACEROOT_EXPORTER=console``: print each finished trace as a readable tree."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import IO, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from traceroot import render
from traceroot.records import stored

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
        stream = self._stream or sys.stdout
        for trace_spans in finished:
            stream.write(render.tree([stored(span) for span in trace_spans]))
        stream.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            leftovers, self._pending = list(self._pending.values()), {}
        stream = self._stream or sys.stdout
        for trace_spans in leftovers:
            stream.write(render.tree([stored(span) for span in trace_spans]))

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
