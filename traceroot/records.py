"""The stored-span record: one finished span as plain values, for the store and its readers.

The store writes records, and the console exporter, ``traceroot show``, the test plugin's tree
and ``traceroot export`` read them. Making one needs only the span: no store, no I/O.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from traceroot import semconv


class StoredSpan(NamedTuple):
    """One span as the store holds it."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    status_message: str | None
    session_id: str | None
    user_id: str | None
    service_name: str | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def stored(span: ReadableSpan) -> StoredSpan:
    """A finished span as the store holds it."""
    context = span.get_span_context()
    assert context is not None
    attributes = {
        key: list(v) if isinstance(v, tuple) else v for key, v in (span.attributes or {}).items()
    }
    parent = span.parent
    status = span.status.status_code
    return StoredSpan(
        trace_id=format(context.trace_id, "032x"),
        span_id=format(context.span_id, "016x"),
        parent_id=format(parent.span_id, "016x") if parent is not None else None,
        name=span.name,
        kind=str(attributes.get(semconv.SPAN_TYPE) or span.kind.name.lower()),
        start_ns=span.start_time or 0,
        end_ns=span.end_time or span.start_time or 0,
        status="ERROR"
        if status is StatusCode.ERROR
        else "OK"
        if status is StatusCode.OK
        else "UNSET",
        status_message=span.status.description,
        session_id=_text(attributes.get(semconv.SESSION_ID)),
        user_id=_text(attributes.get(semconv.USER_ID)),
        service_name=_text(span.resource.attributes.get(semconv.SERVICE_NAME)),
        model=_text(
            attributes.get(semconv.GEN_AI_RESPONSE_MODEL)
            or attributes.get(semconv.GEN_AI_REQUEST_MODEL)
        ),
        input_tokens=_int(attributes.get(semconv.GEN_AI_USAGE_INPUT_TOKENS)),
        output_tokens=_int(attributes.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS)),
        attributes=attributes,
        events=[
            {
                "name": event.name,
                "timestamp": event.timestamp,
                "attributes": dict(event.attributes or {}),
            }
            for event in span.events
        ],
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
