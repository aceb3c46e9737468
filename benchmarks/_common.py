"""What every benchmark here shares: a provider whose spans go nowhere, and a CPU-time clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import traceroot


class DropExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def set_up_tracing() -> None:
    """A global SDK provider that drops every span, joined by traceroot (no integration yet)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(DropExporter()))
    trace.set_tracer_provider(provider)
    traceroot.instrument(exporter="none", integrations=[])


def timed(fn: Callable[[], object], calls: int) -> float:
    """Microseconds of this thread's CPU per call: what instrumentation adds is CPU work, and
    other processes' scheduling noise stays out of it."""
    start = time.thread_time()
    for _ in range(calls):
        fn()
    return (time.thread_time() - start) / calls * 1e6


def off_and_on(
    fn: Callable[[], object],
    integration: str,
    calls: int,
    rounds: int,
    references: Mapping[str, Callable[[], object]] | None = None,
) -> tuple[float, float, dict[str, float]]:
    """Median CPU per call of ``fn`` with ``integration`` off and on, in alternating rounds, all
    inside a session (as an app's calls would be); and of each of ``references`` (with the
    integration off) in the same rounds."""
    import statistics

    references = references or {}
    traceroot.instrument(integrations=[integration])
    timed(fn, max(calls // 10, 1))  # warm caches and the first patch
    traceroot.uninstrument()
    for warm in (fn, *references.values()):
        timed(warm, max(calls // 10, 1))
    bare: list[float] = []
    traced: list[float] = []
    measured: dict[str, list[float]] = {label: [] for label in references}
    with traceroot.using_attributes(session_id="bench"):
        for _ in range(rounds):
            bare.append(timed(fn, calls))
            for label, reference in references.items():
                measured[label].append(timed(reference, calls))
            traceroot.instrument(integrations=[integration])
            traced.append(timed(fn, calls))
            traceroot.uninstrument()
    medians = {label: statistics.median(values) for label, values in measured.items()}
    return statistics.median(bare), statistics.median(traced), medians
