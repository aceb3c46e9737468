"""``TRACEROOT_EXPORTER=console``: print each finished trace as a readable tree."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import IO, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode

from traceroot import semconv

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
            stream.write(render_tree(trace_spans))
        stream.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            leftovers, self._pending = list(self._pending.values()), {}
        stream = self._stream or sys.stdout
        for trace_spans in leftovers:
            stream.write(render_tree(trace_spans))

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def render_tree(spans: Sequence[ReadableSpan]) -> str:
    """The spans of one trace as an indented tree, children under parents, in start order."""
    by_id = {span.context.span_id: span for span in spans if span.context is not None}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent if parent in by_id else None, []).append(span)
    first = spans[0].context
    lines = [f"trace {first.trace_id:032x}" if first is not None else "trace"]

    def walk(parent: int | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s.start_time or 0):
            lines.append("  " * (depth + 1) + _describe(span))
            if span.context is not None:
                walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return "\n".join(lines) + "\n"


def _describe(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    kind = attributes.get(semconv.SPAN_TYPE) or "otel"
    duration = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    parts = [f"[{kind}] {span.name}", f"{duration:.1f} ms"]
    model = attributes.get(semconv.GEN_AI_RESPONSE_MODEL) or attributes.get(
        semconv.GEN_AI_REQUEST_MODEL
    )
    if model:
        parts.append(f"model={model}")
    tokens_in = attributes.get(semconv.GEN_AI_USAGE_INPUT_TOKENS)
    tokens_out = attributes.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS)
    if tokens_in is not None or tokens_out is not None:
        parts.append(f"tokens={tokens_in or 0}+{tokens_out or 0}")
    session = attributes.get(semconv.SESSION_ID)
    if session:
        parts.append(f"session={session}")
    if span.status.status_code is StatusCode.ERROR:
        parts.append(
            f"ERROR {attributes.get(semconv.ERROR_TYPE) or span.status.description or ''}".rstrip()
        )
    return "  ".join(parts)
