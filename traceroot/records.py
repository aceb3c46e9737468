"""The stored-span record: one finished span as plain values, for the store and its readers.

The store writes records, and the console exporter, ``traceroot show``, the test plugin's tree
and ``traceroot export`` read them. Making one needs only the span: no store, no I/O.

A record keeps the whole span, so ``traceroot export`` can replay it as it was: its resource and
instrumentation scope, its OpenTelemetry kind, events, links and trace state. Those fields are
``None`` (``()`` for links) in a record read from a store written before they were kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from traceroot import semconv

if TYPE_CHECKING:
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import Link


_KIND_NAMES: Final = {kind: kind.name for kind in SpanKind}  # an enum's .name is slow to read


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
    events: list[dict[str, Any]]  # each {"name", "timestamp" (ns), "attributes"}
    # Fields below came later; a record from an older store has their defaults.
    span_kind: str | None = None  # OpenTelemetry's: INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER
    resource: Mapping[str, Any] | None = None  # every resource attribute; shared, do not change
    resource_schema_url: str | None = None
    scope: Mapping[str, Any] | None = None  # {"name", "version", "schema_url", "attributes"}
    links: Sequence[Mapping[str, Any]] = ()  # each {"trace_id", "span_id", "trace_state",
    # "trace_flags", "is_remote", "attributes"}
    trace_state: str | None = None  # W3C tracestate header form; None when empty
    trace_flags: int | None = None
    parent_is_remote: bool | None = None  # the parent came from another process

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
    span_kind = _KIND_NAMES[span.kind]
    resource = span.resource
    trace_state = context.trace_state
    links = span.links  # a copy each time it is read
    return StoredSpan(
        trace_id=format(context.trace_id, "032x"),
        span_id=format(context.span_id, "016x"),
        parent_id=format(parent.span_id, "016x") if parent is not None else None,
        name=span.name,
        kind=str(attributes.get(semconv.SPAN_TYPE) or span_kind.lower()),
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
        service_name=_text(resource.attributes.get(semconv.SERVICE_NAME)),
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
        span_kind=span_kind,
        resource=resource.attributes,
        resource_schema_url=resource.schema_url or None,
        scope=scope_record(span.instrumentation_scope),
        links=[link_record(link) for link in links] if links else (),
        trace_state=trace_state.to_header() if trace_state else None,
        trace_flags=int(context.trace_flags),
        parent_is_remote=parent.is_remote if parent is not None else None,
    )


def scope_record(scope: InstrumentationScope | None) -> dict[str, Any] | None:
    """An instrumentation scope as plain values (its attributes where the SDK has them). Made
    once per scope object (one per tracer) and shared: do not change it."""
    if scope is None:
        return None
    found = _scope_records.get(id(scope))
    if found is not None and found[0] is scope:
        return found[1]
    attributes = getattr(scope, "attributes", None)  # newer SDKs only
    record = {
        "name": scope.name,
        "version": scope.version or None,
        "schema_url": scope.schema_url or None,
        "attributes": dict(attributes) if attributes else None,
    }
    if len(_scope_records) >= _SCOPES_REMEMBERED:
        _scope_records.clear()
    _scope_records[id(scope)] = (scope, record)  # the scope held, so its id is not reused
    return record


_SCOPES_REMEMBERED: Final = 1_024
_scope_records: dict[int, tuple[InstrumentationScope, dict[str, Any]]] = {}


def link_record(link: Link) -> dict[str, Any]:
    """A link as plain values: the linked span's context and the link's attributes."""
    context = link.context
    return {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "trace_state": context.trace_state.to_header() if context.trace_state else None,
        "trace_flags": int(context.trace_flags),
        "is_remote": context.is_remote,
        "attributes": {
            key: list(v) if isinstance(v, tuple) else v
            for key, v in (link.attributes or {}).items()
        },
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
