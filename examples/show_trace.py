"""What the examples print at the end: where the spans went, and the last trace of a session."""

from __future__ import annotations

from traceroot import cli, pipeline
from traceroot.store import SpanStore


def show_last_trace(session_id: str) -> None:
    active = pipeline.active()
    if active is None:
        print("\ntraceroot is disabled (TRACEROOT_ENABLED=false): no spans were made.")
        return
    print(f"\nSpans went to {active.destination}.")
    if active.exporter_name != "local":
        return
    (last,) = SpanStore(active.destination).traces(session_id=session_id, limit=1)
    print(f"$ traceroot show {last['trace_id'][:12]}")
    cli.main(["show", last["trace_id"], "--store", active.destination])
