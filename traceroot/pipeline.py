"""Where spans go: the provider, traceroot's processors, one exporter, flush and shutdown.

traceroot joins a global SDK ``TracerProvider`` the app already set (adding processors, never
replacing it) or sets one of its own. The exporter is chosen per the settings: the TraceRoot
cloud, any OTLP endpoint, the local SQLite store, the console, or none. The OTLP exporter stack is
imported only when spans go over OTLP.

A joined provider that already exports (the app's own exporters, or those
``opentelemetry-instrument`` configured) gets no second exporter to the same place
(:mod:`traceroot.joined_provider`).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from traceroot import spans
from traceroot.config import Settings, activate
from traceroot.joined_provider import (
    Export,
    added_by_traceroot,
    choose_exporter,
    describe_joined,
    listed,
    provider_exports,
    read_through,
    same_place_as_joined,
)
from traceroot.logs import logger, warn_once
from traceroot.sampling import sample_rate_set, sampling_rule

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from traceroot.batching import BoundedBatchProcessor
    from traceroot.delivery import DeliveringExporter, StatusSession
    from traceroot.span_paths import SpanPaths


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
        delivery: DeliveringExporter | None = None,
        *,
        joined: Sequence[Export] = (),
        no_exporter_because: str | None = None,
        sampling: str = "",
    ) -> None:
        self.settings = settings
        self.exporter_name = exporter_name
        self.provider = provider
        self.owns_provider = owns_provider
        self.export_processor = export_processor
        self.destination = destination
        self.delivery = delivery
        # The exporters the joined provider already had, and why traceroot added none of its own.
        self.joined = tuple(joined)
        self.no_exporter_because = no_exporter_because
        self.sampling = sampling
        # Set up by ``opentelemetry-instrument`` (traceroot.otel_instrumentor) before the app ran;
        # until the app's own instrument()/initialize(), which then adopts this set-up.
        self.zero_code = False
        self.awaiting_app = False
        self._lost_at_last_flush = 0

    def describe(self) -> str:
        """Which provider the spans go through and what traceroot added to it, in one line."""
        if self.provider is None:
            return "no OpenTelemetry SDK tracer provider to add traceroot's processors to"
        if self.owns_provider:
            provider = "traceroot's own tracer provider"
        else:
            provider = describe_joined(self.joined, zero_code=self.zero_code)
        if self.export_processor is None:
            added = "traceroot added no exporter"
            if self.no_exporter_because:
                added += f" ({self.no_exporter_because})"
        else:
            added = f"traceroot added the {self.exporter_name} exporter -> {self.destination}"
        return f"{provider}; {added}"

    def lost(self) -> int:
        """Spans that will not reach the destination: dropped, or refused or failed on export."""
        failures = self.delivery.failures if self.delivery is not None else 0
        return failures + int(getattr(self.export_processor, "dropped", 0))

    def flush(self, timeout: float | None = None) -> bool:
        processor = self.export_processor
        if processor is None:
            return True
        seconds = self.settings.timeout if timeout is None else max(timeout, 0.0)
        # An export in flight can block for the exporter's whole timeout (an endpoint that accepts
        # and never answers); the caller's bound holds regardless.
        done = _within(seconds, lambda: processor.force_flush(int(seconds * 1000))) is True
        # What was pending reached its destination only if no span was lost since the last look.
        lost = self.lost()
        delivered = lost == self._lost_at_last_flush
        self._lost_at_last_flush = lost
        return done and delivered

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush, then stop exporting; ``False`` if that did not finish within ``timeout``."""
        seconds = self.settings.timeout if timeout is None else max(timeout, 0.0)
        return _within(seconds, lambda: self._stop(seconds)) is True

    def _stop(self, seconds: float) -> bool:
        processor = self.export_processor
        bounded_shutdown = getattr(processor, "shutdown_within", None)
        finished = True
        if bounded_shutdown is not None:
            finished = bool(bounded_shutdown(int(seconds * 1000)))
        elif processor is not None:
            processor.shutdown()
        if self.owns_provider and self.provider is not None:
            self.provider.shutdown()
        return finished


def _within(seconds: float, work: Callable[[], bool]) -> bool | None:
    """``work()`` in a daemon thread, waited for at most ``seconds``; ``None`` if it is still on.

    Where no thread can be started (at interpreter exit on Python 3.12.0 and 3.12.1, "can't
    create new thread at interpreter shutdown"), ``work()`` runs here: it must then bound itself.
    """
    outcome: list[bool] = []
    thread = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    try:
        thread.start()
    except RuntimeError:
        return work()
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
            if _active.awaiting_app:
                _adopt(_active, settings)
            return None
        activate(settings)
        if not settings.enabled:
            return None
        _active = _build(settings)
        spans.reset_tracer()
        if not _exit_hook_registered:
            _exit_hook_registered = True
            atexit.register(_shutdown_at_exit)
            from traceroot import workers

            workers.watch(_flush_at_worker_exit)
        return _active


# Where spans go is fixed once export is built; these settings cannot change afterwards.
_EXPORT_FIELDS = (
    "exporter",
    "api_key",
    "host_url",
    "store_path",
    "otlp_endpoint",
    "otlp_protocol",
    "timeout",
    "flush_at",
    "flush_interval",
    "max_queue_size",
    "sample_rate",
)


def _adopt(zero_code: Pipeline, settings: Settings) -> None:
    """The app's own ``instrument()``/``initialize()`` after ``opentelemetry-instrument`` set
    traceroot up from the environment: what it says about content, redaction, environment and
    git applies from now on; where spans go stays as built, with one warning if it differs."""
    zero_code.awaiting_app = False  # a further call is an ordinary second call
    if not settings.enabled:
        warn_once(
            "zero-code:disabled",
            "traceroot: enabled=False came after opentelemetry-instrument had set traceroot up; "
            "to turn it off, set TRACEROOT_ENABLED=false or add traceroot to "
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
        )
        return
    activate(settings)
    changed = [
        name
        for name in _EXPORT_FIELDS
        if getattr(settings, name) != getattr(zero_code.settings, name)
    ]
    if changed:
        warn_once(
            "zero-code:export",
            "traceroot: opentelemetry-instrument set traceroot up from the environment before the "
            "app ran, so where spans go is fixed (%s); the app's %s ignored: set them as "
            "TRACEROOT_* variables instead",
            zero_code.destination,
            ", ".join(changed) + (" is" if len(changed) == 1 else " are"),
        )


def dropped_spans() -> int:
    """Spans dropped so far because the export queue was full."""
    pipeline = _active
    processor = pipeline.export_processor if pipeline is not None else None
    return int(getattr(processor, "dropped", 0))


def export_failures() -> int:
    """Spans that reached the exporter but not their destination (refused, or not written)."""
    pipeline = _active
    delivery = pipeline.delivery if pipeline is not None else None
    return delivery.failures if delivery is not None else 0


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


def _flush_at_worker_exit() -> None:
    """A multiprocessing worker leaves through ``os._exit``: what it made is flushed first."""
    pipeline = _active
    if pipeline is not None and not pipeline.flush(
        min(pipeline.settings.timeout, _EXIT_BOUND_SECONDS)
    ):
        logger.warning(
            "traceroot: a worker process (pid %d) exited before all its spans reached %s",
            os.getpid(),
            pipeline.destination,
        )


def _build(settings: Settings) -> Pipeline:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from traceroot.delivery import DeliveringExporter, StatusSession
    from traceroot.foreign import ReadingExporter
    from traceroot.processor import ContextProcessor

    provider, owns, sampling = _provider(TracerProvider, settings)
    joined = provider_exports(provider) if provider is not None and not owns else []
    chosen, no_exporter_because = choose_exporter(settings, joined)
    statuses = StatusSession()
    name, exporter, destination = _exporter(chosen, settings, statuses)
    if exporter is None and joined:
        destination = "the app's tracer provider's exporters: " + listed(joined)
        place = same_place_as_joined(settings)
        if no_exporter_because is not None and place is not None and provider is not None:
            read_through(provider, place)
    export_processor: SpanProcessor | None = None
    delivery: DeliveringExporter | None = None
    paths: SpanPaths | None = None
    if exporter is not None:
        delivery = DeliveringExporter(
            ReadingExporter(exporter),  # other tracers' GenAI spans, read like ours
            budget=settings.max_attribute_bytes,
            statuses=statuses,
            credentials_setting=_CREDENTIALS.get(name),
        )
        outermost: SpanExporter = delivery
        if name == "traceroot":
            from traceroot.span_paths import SpanPaths, SpanPathsExporter

            # The dashboard's live tree; an entry per span until the export queue has sent it.
            paths = SpanPaths(capacity=settings.max_queue_size + settings.flush_at)
            outermost = SpanPathsExporter(delivery, paths)
        if name == "console":
            export_processor = SimpleSpanProcessor(delivery)
        else:
            export_processor = _batching(outermost, name, settings)
    if provider is not None:
        context_processor = ContextProcessor(paths)
        provider.add_span_processor(context_processor)
        added_by_traceroot.add(context_processor)
        if export_processor is not None:
            provider.add_span_processor(export_processor)
            added_by_traceroot.add(export_processor)
    return Pipeline(
        settings,
        name,
        provider,
        owns,
        export_processor,
        destination,
        delivery,
        joined=joined,
        no_exporter_because=no_exporter_because,
        sampling=sampling,
    )


# The local store writes a batch of thousands of spans in milliseconds: it is not a backend that
# can be slow or down, and a burst (a loop making thousands of spans a second, several processes
# at once) must be stored whole. Its queue and batches are sized for that; remote destinations
# keep the configured queue, and drop (and count) beyond it.
LOCAL_QUEUE_SIZE = 65_536
LOCAL_BATCH_SIZE = 1_000

_CREDENTIALS = {
    "traceroot": "TRACEROOT_API_KEY (the api_key argument)",
    "otlp": "the Authorization header in OTEL_EXPORTER_OTLP_HEADERS",
}


def _batching(exporter: SpanExporter, name: str, settings: Settings) -> BoundedBatchProcessor:
    from traceroot.batching import REMOTE_CAUSE, BoundedBatchProcessor

    queue, batch = settings.max_queue_size, settings.flush_at
    cause = REMOTE_CAUSE
    if name == "local":
        queue, batch = max(queue, LOCAL_QUEUE_SIZE), max(batch, LOCAL_BATCH_SIZE)
        cause = "the local store cannot write as fast as spans are made (a slow or full disk?)"
    return BoundedBatchProcessor(
        exporter,
        full_queue_cause=cause,
        max_queue_size=queue,
        schedule_delay_millis=settings.flush_interval * 1000,
        max_export_batch_size=min(batch, queue),
        export_timeout_millis=settings.timeout * 1000,
    )


def _provider(
    sdk_provider_type: type[TracerProvider], settings: Settings
) -> tuple[TracerProvider | None, bool, str]:
    """The provider to add processors to, whether traceroot owns it, and how it samples."""
    existing = trace.get_tracer_provider()
    if isinstance(existing, sdk_provider_type):
        sampler = existing.sampler.get_description()
        if sample_rate_set(settings):
            warn_once(
                "sample:joined",
                "traceroot: TRACEROOT_SAMPLE_RATE is ignored: the app's own tracer provider "
                "decides sampling (its sampler: %s; under opentelemetry-instrument, set "
                "OTEL_TRACES_SAMPLER)",
                sampler,
            )
        return existing, False, f"{sampler}, the app's tracer provider's"
    if not isinstance(existing, trace.ProxyTracerProvider):
        warn_once(
            "provider:foreign",
            "traceroot: the global tracer provider is a %s, not the OpenTelemetry SDK's; "
            "traceroot cannot add its processors to it",
            type(existing).__name__,
        )
        return None, False, "the app's tracer provider's"
    from traceroot.resource import create_resource

    options: dict[str, Any] = {"resource": create_resource()}
    rate, in_force = sampling_rule(settings, warn=True)
    if rate is not None:
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        # By trace id, and children follow their parent: a trace is kept whole or not at all.
        options["sampler"] = ParentBased(TraceIdRatioBased(rate))
    # Without a sampler the SDK reads OTEL_TRACES_SAMPLER (and _ARG) itself.
    provider = sdk_provider_type(**options)
    trace.set_tracer_provider(provider)
    return provider, True, in_force


def _exporter(
    name: str, settings: Settings, statuses: StatusSession
) -> tuple[str, SpanExporter | None, str]:
    """The exporter's name (after any fallback), the exporter, and where it sends spans."""
    if name == "traceroot" and not settings.api_key:
        logger.warning(
            "traceroot: the traceroot exporter needs TRACEROOT_API_KEY; using the local store"
        )
        name = "local"
    if name == "traceroot":
        endpoint = settings.traceroot_endpoint()
        headers = {"Authorization": f"Bearer {settings.api_key}"}
        return name, _otlp_http(statuses, endpoint, headers, settings.timeout), endpoint
    if name == "otlp":
        return (name, *_otlp(settings, statuses))
    if name == "console":
        from traceroot.console import ConsoleTreeExporter

        return name, ConsoleTreeExporter(), "the console"
    if name == "local":
        from traceroot.store_exporter import LocalStoreExporter

        path = os.path.abspath(settings.store_path)
        return name, LocalStoreExporter(path), path
    return name, None, "the app's own span processors"


def _otlp_http(
    statuses: StatusSession,
    endpoint: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http import trace_exporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    _quiet_repeats(trace_exporter.__name__)
    # Options left out are read by the exporter from OTEL_EXPORTER_OTLP_* (endpoint, headers, ...).
    options: dict[str, Any] = {"session": statuses.session()}
    if endpoint is not None:
        options["endpoint"] = endpoint
    if headers is not None:
        options["headers"] = headers
    if timeout is not None:
        options["timeout"] = timeout
    return OTLPSpanExporter(**options)


_quieted: set[str] = set()


def _quiet_repeats(logger_name: str) -> None:
    """The exporter's logger says each kind of failure once, not once per batch."""
    from traceroot.delivery import RepeatFilter

    if logger_name not in _quieted:
        _quieted.add(logger_name)
        logging.getLogger(logger_name).addFilter(RepeatFilter())


def _otlp(settings: Settings, statuses: StatusSession) -> tuple[SpanExporter, str]:
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
    return _otlp_http(statuses), destination
