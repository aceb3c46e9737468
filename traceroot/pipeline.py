"""Where spans go: the provider, traceroot's processors, one exporter, flush and shutdown.

traceroot joins a global SDK ``TracerProvider`` the app already set (adding processors, never
replacing it) or sets one of its own. The exporter is chosen per the settings: the TraceRoot
cloud, any OTLP endpoint, the local SQLite store, the console, or none. The OTLP exporter stack is
imported only when spans go over OTLP.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from traceroot import spans
from traceroot.config import Settings, activate
from traceroot.logs import logger, warn_once

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter


class Pipeline:
    """What one ``instrument()``/``initialize()`` set up."""

    def __init__(
        self,
        settings: Settings,
        exporter_name: str,
        provider: TracerProvider | None,
        owns_provider: bool,
        export_processor: SpanProcessor | None,
        destination: str,
    ) -> None:
        self.settings = settings
        self.exporter_name = exporter_name
        self.provider = provider
        self.owns_provider = owns_provider
        self.export_processor = export_processor
        self.destination = destination

    def flush(self, timeout: float | None = None) -> bool:
        processor = self.export_processor
        if processor is None:
            return True
        seconds = self.settings.timeout if timeout is None else max(timeout, 0.0)
        # An export in flight can block for the exporter's whole timeout (an endpoint that accepts
        # and never answers); the caller's bound holds regardless.
        return _within(seconds, lambda: processor.force_flush(int(seconds * 1000))) is True

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush, then stop exporting; ``False`` if that did not finish within ``timeout``."""

        def stop() -> bool:
            if self.export_processor is not None:
                self.export_processor.shutdown()
            if self.owns_provider and self.provider is not None:
                self.provider.shutdown()
            return True

        seconds = self.settings.timeout if timeout is None else max(timeout, 0.0)
        return _within(seconds, stop) is True


def _within(seconds: float, work: Callable[[], bool]) -> bool | None:
    """``work()`` in a daemon thread, waited for at most ``seconds``; ``None`` if it is still on."""
    outcome: list[bool] = []
    thread = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    return outcome[0] if outcome else None


_lock = threading.Lock()
_active: Pipeline | None = None
_exit_hook_registered = False


def active() -> Pipeline | None:
    """The pipeline in force, if ``instrument()``/``initialize()`` has run."""
    return _active


def setup(settings: Settings) -> Pipeline | None:
    """Set up export once per process; a second call keeps the first and returns ``None``."""
    global _active, _exit_hook_registered
    with _lock:
        if _active is not None:
            return None
        activate(settings)
        if not settings.enabled:
            return None
        _active = _build(settings)
        spans.reset_tracer()
        if not _exit_hook_registered:
            _exit_hook_registered = True
            atexit.register(_shutdown_at_exit)
        return _active


def dropped_spans() -> int:
    """Spans dropped so far because the export queue was full."""
    pipeline = _active
    processor = pipeline.export_processor if pipeline is not None else None
    return int(getattr(processor, "dropped", 0))


def flush(timeout: float | None = None) -> bool:
    """Export every finished span now; ``True`` if all went out within ``timeout`` seconds."""
    pipeline = _active
    return True if pipeline is None else pipeline.flush(timeout)


def shutdown(timeout: float | None = None) -> bool:
    """Flush and stop exporting, within ``timeout`` seconds (default: the export timeout).
    Spans made afterwards are not exported."""
    global _active
    with _lock:
        pipeline, _active = _active, None
    return True if pipeline is None else pipeline.shutdown(timeout)


_EXIT_BOUND_SECONDS = 5.0


def _shutdown_at_exit() -> None:
    """At interpreter exit: export what is pending, but never hold the process up for long."""
    pipeline = _active
    if pipeline is None:
        return
    bound = min(pipeline.settings.timeout, _EXIT_BOUND_SECONDS)
    if not shutdown(bound):
        logger.warning(
            "traceroot: spans still being exported after %.1fs at exit were dropped "
            "(is %s reachable?)",
            bound,
            pipeline.destination,
        )


def _build(settings: Settings) -> Pipeline:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from traceroot.batching import BoundedBatchProcessor
    from traceroot.foreign import ReadingExporter
    from traceroot.processor import ContextProcessor

    provider, owns = _provider(TracerProvider, settings.sample_rate)
    name = settings.resolved_exporter()
    exporter, destination = _exporter(name, settings)
    export_processor: SpanProcessor | None = None
    if exporter is not None:
        exporter = ReadingExporter(exporter)  # other tracers' GenAI spans, read like ours
        if name == "console":
            export_processor = SimpleSpanProcessor(exporter)
        else:
            export_processor = BoundedBatchProcessor(
                exporter,
                max_queue_size=settings.max_queue_size,
                schedule_delay_millis=settings.flush_interval * 1000,
                max_export_batch_size=min(settings.flush_at, settings.max_queue_size),
                export_timeout_millis=settings.timeout * 1000,
            )
    if provider is not None:
        provider.add_span_processor(ContextProcessor())
        if export_processor is not None:
            provider.add_span_processor(export_processor)
    return Pipeline(settings, name, provider, owns, export_processor, destination)


def _provider(
    sdk_provider_type: type[TracerProvider], sample_rate: float
) -> tuple[TracerProvider | None, bool]:
    existing = trace.get_tracer_provider()
    if isinstance(existing, sdk_provider_type):
        if sample_rate < 1.0:
            warn_once(
                "sample:joined",
                "traceroot: TRACEROOT_SAMPLE_RATE is ignored: the app's own tracer provider "
                "decides sampling",
            )
        return existing, False
    if not isinstance(existing, trace.ProxyTracerProvider):
        warn_once(
            "provider:foreign",
            "traceroot: the global tracer provider is a %s, not the OpenTelemetry SDK's; "
            "traceroot cannot add its processors to it",
            type(existing).__name__,
        )
        return None, False
    from opentelemetry.sdk.resources import Resource

    options: dict[str, Any] = {"resource": Resource.create()}
    if sample_rate < 1.0:
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        # By trace id, and children follow their parent: a trace is kept whole or not at all.
        options["sampler"] = ParentBased(TraceIdRatioBased(sample_rate))
    provider = sdk_provider_type(**options)
    trace.set_tracer_provider(provider)
    return provider, True


def _exporter(name: str, settings: Settings) -> tuple[SpanExporter | None, str]:
    if name == "traceroot" and not settings.api_key:
        logger.warning(
            "traceroot: the traceroot exporter needs TRACEROOT_API_KEY; using the local store"
        )
        name = "local"
    if name == "traceroot":
        endpoint = settings.traceroot_endpoint()
        headers = {"Authorization": f"Bearer {settings.api_key}"}
        return _otlp_http(endpoint, headers, settings.timeout), endpoint
    if name == "otlp":
        return _otlp(settings)
    if name == "console":
        from traceroot.console import ConsoleTreeExporter

        return ConsoleTreeExporter(), "the console"
    if name == "local":
        from traceroot.store import LocalStoreExporter

        path = os.path.abspath(settings.store_path)
        return LocalStoreExporter(path), path
    return None, "the app's own span processors"


def _otlp_http(
    endpoint: str | None = None, headers: dict[str, str] | None = None, timeout: float | None = None
) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # Options left out are read by the exporter from OTEL_EXPORTER_OTLP_* (endpoint, headers, ...).
    options: dict[str, Any] = {}
    if endpoint is not None:
        options["endpoint"] = endpoint
    if headers is not None:
        options["headers"] = headers
    if timeout is not None:
        options["timeout"] = timeout
    return OTLPSpanExporter(**options)


def _otlp(settings: Settings) -> tuple[SpanExporter, str]:
    destination = settings.otlp_endpoint or "the OTLP endpoint"
    if settings.otlp_protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError:
            warn_once(
                "otlp:grpc",
                "traceroot: OTLP over gRPC needs opentelemetry-exporter-otlp-proto-grpc; "
                "using OTLP over HTTP",
            )
        else:
            return GrpcExporter(), destination
    return _otlp_http(), destination
