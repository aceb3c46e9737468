"""What every benchmark here shares: a provider whose spans go nowhere, a CPU-time clock, and
rounds of paired blocks."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

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


def plain_tracer(name: str = "hand-written") -> trace.Tracer:
    """A tracer of a provider of its own, with no traceroot processor: a hand-written span at its
    cheapest (the floor a careful engineer would write by hand)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(DropExporter()))
    return provider.get_tracer(name)


@dataclass(frozen=True)
class Variant:
    """One way of making the call: ``fn``, with ``on``/``off`` switching it in and out around
    each block (``traceroot.instrument`` / ``uninstrument``)."""

    fn: Callable[[], object]
    on: Callable[[], object] | None = None
    off: Callable[[], object] | None = None


def paired(
    bare: Callable[[], object], variants: Mapping[str, Variant], calls: int, rounds: int
) -> tuple[float, dict[str, float]]:
    """The median CPU per call of ``bare``, and the median overhead of each variant over it.

    Each round runs a block of ``calls`` of every variant and of ``bare``, in an order that
    rotates from round to round; a variant's overhead in a round is taken against that round's
    own ``bare`` block. A shared machine drifts by a third over seconds: short blocks, paired this
    way, keep the drift out of the differences, and the median keeps out the rounds a burst of
    other work fell on. What was allocated before the rounds is frozen out of the garbage
    collector's view, so a collection costs what the calls themselves allocated, the same in
    every round.
    """
    labels = ["bare", *variants]
    runs: dict[str, Variant] = {"bare": Variant(bare), **variants}
    for run in runs.values():  # warm caches, the first patch, lazy imports
        _block(run, max(calls // 5, 3))
    per_call: dict[str, list[float]] = {label: [] for label in labels}
    gc.collect()
    gc.freeze()
    try:
        for index in range(rounds):
            shift = index % len(labels)
            for label in labels[shift:] + labels[:shift]:
                per_call[label].append(_block(runs[label], calls))
    finally:
        gc.unfreeze()
    floors = per_call["bare"]
    overheads = {
        label: statistics.median(
            cost - floor for cost, floor in zip(per_call[label], floors, strict=True)
        )
        for label in variants
    }
    return statistics.median(floors), overheads


def _block(run: Variant, calls: int) -> float:
    if run.on is not None:
        run.on()
    try:
        run.fn()  # untimed: the first call after a switch pays for caches the switch reset
        return timed(run.fn, calls)
    finally:
        if run.off is not None:
            run.off()


def print_against_hand(label: str, floor: float, overheads: Mapping[str, float]) -> None:
    """One case of a provider report: the floor, then each variant's overhead, and its ratio to
    the ``"hand"`` variant (the hand-written span) for all but that one."""
    hand = overheads["hand"]
    print(f"  {label}")
    print(f"    {'uninstrumented':<30}{floor:8.1f} us")
    for name, cost in overheads.items():
        ratio = "" if name == "hand" else f"  ({cost / hand:.2f}x hand-written)"
        print(f"    {VARIANT_LABELS.get(name, name):<30}{cost:+8.1f} us{ratio}")


VARIANT_LABELS: Final = {
    "hand": "hand-written span, same attrs",
    "traceroot": "traceroot",
    "sdk": "the SDK's own span (2.x)",
}
