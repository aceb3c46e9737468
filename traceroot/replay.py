"""Replay stored spans as they were: to an OTLP/HTTP endpoint, or as OTLP/JSON to a file.

Each span goes out with its own resource (every attribute), instrumentation scope, kind, events,
links, status and trace state, encoded by the OpenTelemetry exporter's own encoder, so what a
collector receives from ``traceroot export`` is what it would have received from the app. A span
from a store written before those were kept goes out with ``service.name`` as its resource, no
scope, and kind INTERNAL: all that store knows.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Final, NamedTuple

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    Link,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from traceroot import semconv
from traceroot.records import StoredSpan

if TYPE_CHECKING:
    from traceroot.store import SpanStore

_BATCH: Final = 500
_STATUS: Final = {"ERROR": StatusCode.ERROR, "OK": StatusCode.OK}
_KINDS: Final = {kind.name: kind for kind in SpanKind}
_REMEMBERED: Final = 4_096  # distinct resources or scopes kept made; past it, made again


def replay(
    spans: Sequence[StoredSpan], *, endpoint: str, headers: Mapping[str, str] | None = None
) -> tuple[int, int]:
    """Export ``spans`` in batches; returns (sent, failed) span counts."""
    spans_of = _Readables()
    batches = [
        [spans_of.readable(span) for span in spans[start : start + _BATCH]]
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
    pages = _ReadablePages(store, on_skip)
    sent, failed = _send(iter(pages), endpoint=endpoint, headers=headers)
    return Replayed(sent, failed, pages.skipped)


def write_otlp_json(
    store: SpanStore, stream: IO[str], *, on_skip: Callable[[str], None] | None = None
) -> Replayed:
    """Write every span of ``store`` to ``stream`` as OTLP/JSON: one ``ExportTraceServiceRequest``
    per line (JSON Lines, as the OpenTelemetry Collector's file exporter writes and its
    ``otlpjsonfile`` receiver reads), a page of spans each. Unreadable rows as in
    :func:`replay_store`; ``sent`` counts the spans written."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    pages = _ReadablePages(store, on_skip)
    written = 0
    for page in pages:
        stream.write(json.dumps(otlp_json(encode_spans(page)), ensure_ascii=False) + "\n")
        written += len(page)
    return Replayed(written, 0, pages.skipped)


def otlp_json(request: Any) -> dict[str, Any]:
    """An ``ExportTraceServiceRequest`` in the OTLP/JSON encoding: protobuf's JSON mapping
    (lowerCamelCase keys, 64-bit integers as decimal strings) with OTLP's two departures from it,
    enums as integers and trace and span ids as hex rather than base64."""
    import importlib

    # Imported by name: protobuf ships no type stubs, and whether types-protobuf is installed
    # must not change what mypy says.
    json_format = importlib.import_module("google.protobuf.json_format")
    document: dict[str, Any] = json_format.MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in document.get("resourceSpans", ()):
        for scope_spans in resource_spans.get("scopeSpans", ()):
            for span in scope_spans.get("spans", ()):
                _hex_ids(span)
                for link in span.get("links", ()):
                    _hex_ids(link)
    return document


def _hex_ids(message: dict[str, Any]) -> None:
    for key in ("traceId", "spanId", "parentSpanId"):
        if key in message:
            message[key] = base64.b64decode(message[key]).hex()


class _ReadablePages:
    """The spans of a store as the SDK's exporters take them, a page at a time; rows that cannot
    be read are counted in ``skipped`` and the first reported to ``on_skip``."""

    def __init__(self, store: SpanStore, on_skip: Callable[[str], None] | None) -> None:
        self.store = store
        self.on_skip = on_skip
        self.skipped = 0

    def __iter__(self) -> Iterator[list[ReadableSpan]]:
        spans_of = _Readables()
        for rows in self.store.pages(_BATCH):
            page = []
            for row in rows:
                try:
                    page.append(spans_of.readable(_checked(self.store.record(row))))
                except Exception as error:  # noqa: BLE001 - one bad row must not stop the rest
                    self.skipped += 1
                    if self.skipped == 1 and self.on_skip is not None:
                        self.on_skip(f"trace {row['trace_id']!r} span {row['span_id']!r}: {error}")
            if page:
                yield page


def _checked(span: StoredSpan) -> StoredSpan:
    if not isinstance(span.attributes, dict) or not isinstance(span.events, list):
        raise ValueError("attributes or events are not a JSON object and list")
    if not all(_is_int64(value) for value in (span.start_ns, span.end_ns)):
        raise ValueError("start or end time is not a number of nanoseconds")
    if not isinstance(span.links, (list, tuple)):
        raise ValueError("links are not a JSON list")
    return span


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
    return _Readables().readable(span)


class _Readables:
    """Stored spans made readable, one ``Resource`` and ``InstrumentationScope`` object per
    distinct one (the store shares a resource's or scope's values between its spans), so the
    encoder groups spans under them without comparing their attributes span by span."""

    def __init__(self) -> None:
        # id(values) -> (values, made): the values held, so their id is not reused.
        self._resources: dict[tuple[int, str | None], tuple[object, Resource]] = {}
        self._scopes: dict[int, tuple[object, InstrumentationScope]] = {}
        self._services: dict[str, Resource] = {}

    def readable(self, span: StoredSpan) -> ReadableSpan:
        parent = None
        if span.parent_id:
            parent = _context(span.trace_id, span.parent_id, remote=bool(span.parent_is_remote))
        return ReadableSpan(
            name=span.name,
            context=_context(
                span.trace_id,
                span.span_id,
                trace_flags=span.trace_flags,
                trace_state=span.trace_state,
            ),
            parent=parent,
            resource=self._resource(span),
            attributes=_attributes(span.attributes),
            events=[
                Event(
                    str(e.get("name")), _attributes(e.get("attributes") or {}), e.get("timestamp")
                )
                for e in span.events
            ],
            links=[_link(link) for link in span.links],
            kind=_KINDS.get(span.span_kind or "", SpanKind.INTERNAL),
            instrumentation_scope=self._scope(span.scope),
            status=Status(_STATUS.get(span.status, StatusCode.UNSET), span.status_message),
            start_time=span.start_ns,
            end_time=span.end_ns,
        )

    def _resource(self, span: StoredSpan) -> Resource:
        values = span.resource
        if values is None:  # a store from before resources were kept: its service name
            service = span.service_name or "unknown_service"
            made = self._services.get(service)
            if made is None:
                made = self._services[service] = Resource({semconv.SERVICE_NAME: service})
            return made
        key = (id(values), span.resource_schema_url)
        found = self._resources.get(key)
        if found is not None and found[0] is values:
            return found[1]
        made = Resource(_attributes(values), span.resource_schema_url)
        if len(self._resources) >= _REMEMBERED:
            self._resources.clear()
        self._resources[key] = (values, made)
        return made

    def _scope(self, scope: Mapping[str, Any] | None) -> InstrumentationScope | None:
        if not scope or not scope.get("name"):
            return None
        found = self._scopes.get(id(scope))
        if found is not None and found[0] is scope:
            return found[1]
        name, version, schema_url = scope["name"], scope.get("version"), scope.get("schema_url")
        attributes = scope.get("attributes")
        made = (
            InstrumentationScope(name, version, schema_url, _attributes(attributes))
            if attributes
            else InstrumentationScope(name, version, schema_url)
        )
        if len(self._scopes) >= _REMEMBERED:
            self._scopes.clear()
        self._scopes[id(scope)] = (scope, made)
        return made


def _link(link: Mapping[str, Any]) -> Link:
    context = _context(
        str(link["trace_id"]),
        str(link["span_id"]),
        remote=bool(link.get("is_remote")),
        trace_flags=link.get("trace_flags"),
        trace_state=link.get("trace_state"),
    )
    return Link(context, _attributes(link.get("attributes") or {}))


def _context(
    trace_id: str,
    span_id: str,
    *,
    remote: bool = False,
    trace_flags: int | None = None,
    trace_state: str | None = None,
) -> SpanContext:
    return SpanContext(
        _id(trace_id, 128),
        _id(span_id, 64),
        is_remote=remote,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if trace_flags is None else trace_flags & 0xFF),
        trace_state=TraceState.from_header([trace_state]) if trace_state else None,
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
