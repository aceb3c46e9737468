"""Send stored spans to an OTLP/HTTP endpoint, so a local history can be uploaded later."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from traceroot import semconv
from traceroot.records import StoredSpan

_BATCH: Final = 500
_STATUS: Final = {"ERROR": StatusCode.ERROR, "OK": StatusCode.OK}


def replay(
    spans: Sequence[StoredSpan], *, endpoint: str, headers: Mapping[str, str] | None = None
) -> tuple[int, int]:
    """Export ``spans`` in batches; returns (sent, failed) span counts."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    exporter = OTLPSpanExporter(endpoint=endpoint, headers=dict(headers or {}))
    sent = failed = 0
    try:
        for start in range(0, len(spans), _BATCH):
            batch = [readable(span) for span in spans[start : start + _BATCH]]
            if exporter.export(batch) is SpanExportResult.SUCCESS:
                sent += len(batch)
            else:
                failed += len(batch)
    finally:
        exporter.shutdown()  # type: ignore[no-untyped-call]
    return sent, failed


def readable(span: StoredSpan) -> ReadableSpan:
    """A stored span as the OpenTelemetry SDK's exporters take it."""
    context = _context(span.trace_id, span.span_id)
    parent = _context(span.trace_id, span.parent_id) if span.parent_id else None
    resource = Resource({semconv.SERVICE_NAME: span.service_name or "unknown_service"})
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=resource,
        attributes=_attributes(span.attributes),
        events=[
            Event(str(e.get("name")), _attributes(e.get("attributes") or {}), e.get("timestamp"))
            for e in span.events
        ],
        kind=SpanKind.INTERNAL,
        status=Status(_STATUS.get(span.status, StatusCode.UNSET), span.status_message),
        start_time=span.start_ns,
        end_time=span.end_ns,
    )


def _context(trace_id: str, span_id: str) -> SpanContext:
    return SpanContext(
        int(trace_id, 16),
        int(span_id, 16),
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes read back from JSON: lists become the sequences OpenTelemetry accepts."""
    return {
        key: tuple(value) if isinstance(value, list) else value for key, value in values.items()
    }
