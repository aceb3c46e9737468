"""Resident memory growth over 100,000 instrumented OpenAI calls and 10,000 abandoned streams.

The real ``openai`` client on a mocked transport, traceroot's OpenAI integration on, spans through
a batching processor into a no-op exporter (the pipeline's path, bounded queue). Memory is read
after a warm-up and at the end, after a garbage collection. Budget: under 10 MB of growth.

    python benchmarks/memory.py [--calls 100000 --streams 10000]
"""

from __future__ import annotations

import argparse
import gc
import os
from typing import Any

from _common import DropExporter
from openai_overhead import MESSAGES, mocked_client
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import traceroot

BUDGET_MB = 10.0


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--streams", type=int, default=10_000)
    args = parser.parse_args()

    provider = TracerProvider()
    batches = BatchSpanProcessor(DropExporter(), max_queue_size=2048, schedule_delay_millis=100)
    provider.add_span_processor(batches)
    trace.set_tracer_provider(provider)
    traceroot.instrument(exporter="none", integrations=["openai"])
    client = mocked_client()

    def call() -> Any:
        return client.chat.completions.create(model="gpt-bench", messages=MESSAGES)

    def abandoned_stream() -> None:
        stream = client.chat.completions.create(model="gpt-bench", messages=MESSAGES, stream=True)
        next(iter(stream))  # read one chunk, then drop the stream unfinished

    with traceroot.using_attributes(session_id="memory", user_id="u"):
        for _ in range(1_000):
            call()
            abandoned_stream()
        traceroot.flush(10)
        gc.collect()
        start = rss_mb()
        for _ in range(args.calls):
            call()
        traceroot.flush(10)
        gc.collect()
        after_calls = rss_mb()
        for _ in range(args.streams):
            abandoned_stream()
        traceroot.flush(10)
        gc.collect()
        end = rss_mb()
    growth = end - start
    status = "within" if growth < BUDGET_MB else "OVER"
    print("resident memory, OpenAI integration on, spans batched to a no-op exporter")
    rows = [
        ("after warm-up", start, None),
        (f"after {args.calls:,} calls", after_calls, after_calls - start),
        (f"after {args.streams:,} abandoned streams", end, end - after_calls),
    ]
    for label, value, change in rows:
        delta = "" if change is None else f"  ({change:+.1f})"
        print(f"  {label:<36} {value:7.1f} MB{delta}")
    print(f"  {'growth':<36} {growth:+7.1f} MB  ({status} the {BUDGET_MB:.0f} MB budget)")


if __name__ == "__main__":
    main()
