"""Send stored spans to an OTLP/HTTP endpoint, so a local history can be uploaded later."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from traceroot import semconv
from traceroot.records import StoredSpan

if TYPE_CHECKING:
    from traceroot.store import SpanStore

_BATCH: Final = 500
_STATUS: Final = {"ERROR": StatusCode.ERROR, "OK": StatusCode.OK}


def replay(
    spans: Sequence[StoredSpan], *, endpoint: str, headers: Mapping[str, str] | None = None
) -> tuple[int, int]:
    """Export ``spans`` in batches; returns (sent, failed) span counts."""
    batches = [
        [readable(span) for span in spans[start : start + _BATCH]]
        for start in range(0, len(spans), _BATCH)
    ]
    return _send(batches, endpoint=endpoint, headers=headers)


class Replayed(NamedTuple):
    """What ``traceroot export`` did: spans sent, spans the endpoint refused, rows unreadable."""

    sent: int
    failed: int
    skipped: int


def replay_store(
    store: SpanStore,
    *,
    endpoint: str,
    headers: Mapping[str, str] | None = None,
    on_skip: Callable[[str], None] | None = None,
) -> Replayed:
    """Export every span of ``store``, a page of rows at a time (a large history is never held
    whole). A row that cannot be read back as a span (corrupt JSON, a bad id) is skipped and
    counted; ``on_skip`` hears about the first one. The rest are still sent."""
    skipped = 0

    def readable_pages() -> Iterator[list[ReadableSpan]]:
        nonlocal skipped
        for rows in _pages(store):
            page = []
            for row in rows:
                try:
                    page.append(readable(_record(row)))
                except Exception as error:  # noqa: BLE001 - one bad row must not stop the rest
                    skipped += 1
                    if skipped == 1 and on_skip is not None:
                        on_skip(f"trace {row['trace_id']!r} span {row['span_id']!r}: {error}")
            if page:
                yield page

    sent, failed = _send(readable_pages(), endpoint=endpoint, headers=headers)
    return Replayed(sent, failed, skipped)


def _pages(store: SpanStore) -> Iterator[list[dict[str, Any]]]:
    """The store's rows in the order they were written, by SQLite's rowid."""
    columns = ", ".join(StoredSpan._fields)
    last = 0
    while True:
        rows = store.query(
            f"SELECT rowid AS row_number, {columns} FROM spans "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, _BATCH),
        )
        if not rows:
            return
        last = rows[-1]["row_number"]
        yield [dict(row) for row in rows]


def _record(row: dict[str, Any]) -> StoredSpan:
    values = {field: row[field] for field in StoredSpan._fields}
    values["attributes"] = json.loads(values["attributes"])
    values["events"] = json.loads(values["events"])
    if not isinstance(values["attributes"], dict) or not isinstance(values["events"], list):
        raise ValueError("attributes or events are not a JSON object and list")
    if not all(_is_int64(values[field]) for field in ("start_ns", "end_ns")):
        raise ValueError("start or end time is not a number of nanoseconds")
    return StoredSpan(**values)


def _send(
    batches: Iterator[list[ReadableSpan]] | list[list[ReadableSpan]],
    *,
    endpoint: str,
    headers: Mapping[str, str] | None,
) -> tuple[int, int]:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    exporter = OTLPSpanExporter(endpoint=endpoint, headers=dict(headers or {}))
    sent = failed = 0
    try:
        for batch in batches:
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
        _id(trace_id, 128),
        _id(span_id, 64),
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )


def _id(text: str, bits: int) -> int:
    value = int(text, 16)
    if not 0 < value < 2**bits:
        raise ValueError(f"{text!r} is not a {bits}-bit id")
    return value


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes read back from JSON: lists become the sequences OpenTelemetry accepts."""
    return {str(key): _value(value) for key, value in values.items()}


def _value(value: Any) -> Any:
    """A value OTLP can encode: a scalar, or a list of one scalar type; anything else (a JSON
    object, a null, a mixed list from a hand-edited store) as its JSON text."""
    if isinstance(value, (str, bool, float)) or _is_int64(value):
        return value
    if isinstance(value, list):
        kinds = {type(item) for item in value}
        if (
            len(kinds) <= 1
            and kinds <= {str, bool, int, float}
            and all(not isinstance(item, int) or _is_int64(item) for item in value)
        ):
            return tuple(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def _is_int64(value: Any) -> bool:
    return isinstance(value, int) and -(2**63) <= value < 2**63
