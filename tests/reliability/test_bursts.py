"""Bursts of spans to the local store are stored whole; drops elsewhere are all counted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from traceroot.store import SpanStore

from ..conftest import run_script

ONE_THREAD_BURST = """
import time, traceroot
traceroot.instrument(integrations=[])

@traceroot.observe
def step(i):
    return i

started = time.monotonic()
for i in range(5000):
    step(i)
print("MADE", round(time.monotonic() - started, 2), "DROPPED", traceroot.dropped_spans())
print("FLUSH", traceroot.flush(30))
"""

PROCESSES_AND_THREADS = """
import multiprocessing, threading, traceroot
traceroot.instrument(integrations=[])

@traceroot.observe
def step(i):
    return i

def burst():
    for i in range(2000):
        step(i)

def process(n):
    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("PROCESS", n, "DROPPED", traceroot.dropped_spans(), "FLUSH", traceroot.flush(60), flush=True)

if __name__ == "__main__":
    processes = [multiprocessing.get_context("spawn").Process(target=process, args=(n,)) for n in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
        assert p.exitcode == 0, p.exitcode
"""


def _count(tmp_path: Path) -> int:
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    (row,) = store.query("SELECT COUNT(*) AS n FROM spans")
    return int(row["n"])


def test_a_burst_from_one_thread_is_stored_whole(tmp_path: Path) -> None:
    result = run_script(ONE_THREAD_BURST, cwd=str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "DROPPED 0" in result.stdout, result.stdout
    assert "FLUSH True" in result.stdout
    assert "queue is full" not in result.stderr
    assert _count(tmp_path) == 5000


def test_bursts_from_processes_and_threads_are_stored_whole(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(PROCESSES_AND_THREADS)
    result = run_script(
        f"import runpy; runpy.run_path({str(app)!r}, run_name='__main__')",
        cwd=str(tmp_path),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("DROPPED 0 FLUSH True") == 4, result.stdout + result.stderr
    assert _count(tmp_path) == 4 * 4 * 2000


@pytest.fixture
def slow_receiver() -> Iterator[tuple[str, list[int]]]:
    """An OTLP/HTTP endpoint that takes 50 ms per request and records how many spans came."""
    counts: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            counts.append(sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans))
            time.sleep(0.05)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", counts
    server.shutdown()


def test_every_span_a_slow_backend_misses_is_counted(
    tmp_path: Path, slow_receiver: tuple[str, list[int]]
) -> None:
    url, counts = slow_receiver
    result = run_script(
        """
import threading, traceroot
traceroot.instrument(integrations=[])

@traceroot.observe
def step(i):
    return i

def burst():
    for i in range(1000):
        step(i)

threads = [threading.Thread(target=burst) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
traceroot.flush(60)
print("DROPPED", traceroot.dropped_spans())
""",
        cwd=str(tmp_path),
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": url,
            "TRACEROOT_MAX_QUEUE_SIZE": "64",
            "TRACEROOT_FLUSH_AT": "32",
        },
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    dropped = int(result.stdout.split("DROPPED")[1].split()[0])
    assert dropped > 0
    assert sum(counts) + dropped == 8 * 1000  # none lost without a count
    assert result.stderr.count("the export queue is full") == 1
    assert "the backend is slow or down" in result.stderr
    assert "Queue full" not in result.stderr  # the SDK's own per-span warning never fires
