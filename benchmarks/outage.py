"""Per-call latency of instrumented code while the backend is healthy, refusing, silent or failing.

Each case is a fresh process running 5,000 ``@observe`` calls with spans exported to TraceRoot's
OTLP/HTTP path on 127.0.0.1: a healthy receiver, a port that refuses connections, a server that
accepts and never answers, and one that answers 500. Export runs in the background, so the call
itself should cost the same in every case: the report gives the median and 99th percentile.

    python benchmarks/outage.py [--calls 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

APP = """
import json, statistics, time, traceroot
traceroot.instrument(integrations=[])

@traceroot.observe
def work(i):
    return i

timings = []
for i in range(%d):
    started = time.perf_counter()
    work(i)
    timings.append((time.perf_counter() - started) * 1e6)
timings.sort()
started = time.perf_counter()
flushed = traceroot.flush(1.0)
print(json.dumps({"median": statistics.median(timings), "p99": timings[int(len(timings) * 0.99)],
                  "flush_s": time.perf_counter() - started, "flushed": flushed,
                  "dropped": traceroot.dropped_spans()}))
"""


def serve(status: int) -> tuple[str, ThreadingHTTPServer]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def silent() -> tuple[str, socket.socket]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", listener


def refusing() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


def run(host: str, calls: int) -> dict[str, Any]:
    env = {"TRACEROOT_API_KEY": "tr-bench", "TRACEROOT_HOST_URL": host, "TRACEROOT_TIMEOUT": "10"}
    out = subprocess.run(
        [sys.executable, "-c", APP % calls],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("TRACEROOT_")},
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    healthy, healthy_server = serve(200)
    failing, failing_server = serve(500)
    quiet, quiet_socket = silent()
    cases = {
        "healthy": healthy,
        "refusing": refusing(),
        "never answers": quiet,
        "HTTP 500": failing,
    }
    print(
        f"@observe call latency while exporting to TraceRoot's endpoint ({args.calls} calls each)"
    )
    print(f"  {'backend':<14} {'median':>9} {'p99':>9} {'flush(1.0)':>11} {'dropped':>8}")
    for label, host in cases.items():
        r = run(host, args.calls)
        # flush() is True only if every span was delivered (none dropped or refused since the
        # last flush); its time says whether the bound held.
        flush = f"{r['flush_s']:.2f}s {'all' if r['flushed'] else 'lost'}"
        print(f"  {label:<14} {r['median']:7.1f}us {r['p99']:7.1f}us {flush:>11} {r['dropped']:>8}")
    healthy_server.shutdown()
    failing_server.shutdown()
    quiet_socket.close()


if __name__ == "__main__":
    main()
