"""Joining a tracer provider the app (or ``opentelemetry-instrument``) set: what it already exports
to, and which exporter traceroot adds beside it.

A provider that already exports never gets a second exporter to the same place, so no span is
exported twice: traceroot's destination (``TRACEROOT_EXPORTER``, ``auto`` resolved as usual) is
added unless the provider already sends to that very OTLP endpoint (a base endpoint and its
``/v1/traces`` are one place) or the same store file. Another place (a local store beside the
app's collector) is added, as it always was.
"""

from __future__ import annotations

import os
import urllib.parse
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from opentelemetry import trace

from traceroot.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter


class Export(NamedTuple):
    """An exporting span processor that was on the provider before traceroot joined it."""

    exporter: str  # the exporter's type name
    place: str  # where it sends: a URL, a file, "the console", "memory"; "" when unknown

    def __str__(self) -> str:
        return f"{self.exporter} -> {self.place}" if self.place else self.exporter


# Processors traceroot put on a provider: a provider joined again (after ``shutdown()``) has
# them, and they are not the app's exporters.
added_by_traceroot: weakref.WeakSet[SpanProcessor] = weakref.WeakSet()


def provider_exports(provider: TracerProvider) -> list[Export]:
    """The exporting processors on ``provider`` that traceroot did not add, read from the SDK's
    processor list (``SimpleSpanProcessor``/``BatchSpanProcessor`` and any processor holding an
    exporter the same way, also inside a multi-span processor the app added as one)."""
    return [
        Export(type(exporter).__name__, _place_of(exporter))
        for exporter in (_exporter_of(processor) for processor in _exporting(provider))
        if exporter is not None
    ]


def read_through(provider: TracerProvider, place: str) -> int:
    """Have the app's exporters to ``place`` read other tracers' GenAI spans as traceroot's own
    exporters do (one usage-carrying span per model call, traceroot's names): where traceroot
    adds no exporter of its own because the app already sends there, the app's is the only way
    out. Returns how many exporters now read."""
    from traceroot.foreign import ReadingExporter

    wrapped = 0
    for processor in _exporting(provider):
        exporter = _exporter_of(processor)
        if exporter is None or not _same_place(place, _place_of(exporter)):
            continue
        holder, attribute = _exporter_slot(processor)
        current = getattr(holder, attribute, None)
        if holder is not None and not isinstance(current, ReadingExporter):
            # One attribute assignment: the export thread picks it up at its next batch.
            try:
                setattr(holder, attribute, ReadingExporter(exporter))
            except AttributeError:
                continue  # a processor of another make that will not take it: left as it is
        wrapped += 1
    return wrapped


def _exporting(processor_or_provider: object) -> list[object]:
    """The span processors under ``processor_or_provider`` that traceroot did not add, multi-span
    processors (the SDK's synchronous and concurrent ones) opened up."""
    multi = getattr(processor_or_provider, "_active_span_processor", processor_or_provider)
    found: list[object] = []
    for processor in getattr(multi, "_span_processors", ()):
        if processor in added_by_traceroot:
            continue
        if hasattr(processor, "_span_processors"):
            found.extend(_exporting(processor))
        else:
            found.append(processor)
    return found


def _exporter_slot(processor: object) -> tuple[object | None, str]:
    """Where ``processor`` keeps its exporter: the object and the attribute name."""
    batch = getattr(processor, "_batch_processor", None)  # Batch from SDK 1.33 on, whose
    if getattr(batch, "_exporter", None) is not None:  # span_exporter is a read-only view
        return batch, "_exporter"
    if getattr(processor, "span_exporter", None) is not None:  # Simple; Batch before SDK 1.33
        return processor, "span_exporter"
    return None, ""


def _exporter_of(processor: object) -> SpanExporter | None:
    from opentelemetry.sdk.trace.export import SpanExporter

    from traceroot.foreign import ReadingExporter

    holder, attribute = _exporter_slot(processor)
    exporter = getattr(holder, attribute, None) if holder is not None else None
    while isinstance(exporter, ReadingExporter):  # the app's exporter, read as traceroot reads
        exporter = exporter.exporter
    return exporter if isinstance(exporter, SpanExporter) else None


def _place_of(exporter: SpanExporter) -> str:
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    endpoint = getattr(exporter, "_endpoint", None)  # the OTLP exporters, HTTP and gRPC
    if isinstance(endpoint, str):
        return endpoint
    store_path = getattr(getattr(exporter, "store", None), "path", None)  # traceroot's store
    if isinstance(store_path, str):
        return os.path.abspath(store_path)
    if isinstance(exporter, ConsoleSpanExporter):
        return "the console"
    if isinstance(exporter, InMemorySpanExporter):
        return "memory"
    return ""


def same_place_as_joined(settings: Settings) -> str | None:
    """Where traceroot's chosen exporter would send (an OTLP URL, a store file), if anywhere."""
    return _would_send_to(settings.resolved_exporter(), settings)


def choose_exporter(settings: Settings, joined: Sequence[Export]) -> tuple[str, str | None]:
    """The exporter to add beside ``joined`` (the exporters the provider already has), and, when
    that is none only because the provider already sends to the same place, why."""
    name = settings.resolved_exporter()
    if not joined or name == "none":
        return name, None
    place = _would_send_to(name, settings)
    if place is not None and any(_same_place(place, export.place) for export in joined):
        return "none", f"the app's tracer provider already exports to {place}"
    return name, None


# Where the OTLP exporters send when no endpoint is set (their own defaults).
_OTLP_DEFAULTS = {"grpc": "http://localhost:4317", "http": "http://localhost:4318/v1/traces"}


def _would_send_to(name: str, settings: Settings) -> str | None:
    if name == "traceroot" and settings.api_key:
        return settings.traceroot_endpoint()
    if name == "otlp":
        default = _OTLP_DEFAULTS["grpc" if settings.otlp_protocol == "grpc" else "http"]
        return settings.otlp_endpoint or default
    if name == "local":
        return os.path.abspath(settings.store_path)
    return None  # the console: a tree of traceroot's own is never a copy of another printout


def _same_place(ours: str, theirs: str) -> bool:
    if not theirs:
        return False
    if os.path.isabs(ours) or os.path.isabs(theirs):
        return os.path.abspath(ours) == os.path.abspath(theirs)
    return _endpoint_key(ours) == _endpoint_key(theirs)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _endpoint_key(url: str) -> tuple[str, int | None, str]:
    """Host, port and path of an OTLP endpoint; a base endpoint and its ``/v1/traces`` are one
    place (the HTTP exporter appends it), and gRPC endpoints may come without a scheme."""
    parts = urllib.parse.urlsplit(url if "://" in url else "//" + url)
    try:
        port = parts.port
    except ValueError:
        port = None
    path = parts.path.rstrip("/")
    path = path.removesuffix("/v1/traces")
    return (parts.hostname or "", port or _DEFAULT_PORTS.get(parts.scheme), path)


def preview(settings: Settings) -> str:
    """:meth:`Pipeline.describe` of a set-up in this process with ``settings``, without setting
    anything up (for ``traceroot doctor``)."""
    from opentelemetry.sdk.trace import TracerProvider

    existing = trace.get_tracer_provider()
    if isinstance(existing, trace.ProxyTracerProvider):
        return (
            "traceroot would set its own tracer provider (none is set here; an app's own, or "
            "opentelemetry-instrument's, is joined instead)"
        )
    if not isinstance(existing, TracerProvider):
        return f"the global tracer provider is a {type(existing).__name__}: nothing to join"
    joined = provider_exports(existing)
    name, why = choose_exporter(settings, joined)
    if name != "none":
        added = f"traceroot would add the {name} exporter"
    else:
        added = f"traceroot would add no exporter ({why or 'TRACEROOT_EXPORTER=none'})"
    return f"{describe_joined(joined)}; {added}"


def listed(exports: Sequence[Export]) -> str:
    return ", ".join(str(export) for export in exports) or "none"


def describe_joined(exports: Sequence[Export], *, zero_code: bool = False) -> str:
    by = " (set up by opentelemetry-instrument)" if zero_code else ""
    return f"joined the app's tracer provider{by}; its exporters: {listed(exports)}"
