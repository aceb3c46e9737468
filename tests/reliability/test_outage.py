"""A backend that is down never hurts the app: calls go on, flush and exit keep their bounds.

These check bounds the API promises (``flush(timeout)``, exit), with generous slack; how much a
call costs during an outage is a figure for the benchmarks, not asserted here.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from ..conftest import run_script
from ..otlp_receiver import start_receiver

APP = """
import time, traceroot
traceroot.instrument(integrations=[])

@traceroot.observe
def work(i):
    return i * 2

assert [work(i) for i in range(200)] == [i * 2 for i in range(200)]
started = time.monotonic()
flushed = traceroot.flush(0.5)
print("FLUSH", flushed, round(time.monotonic() - started, 2))
"""


def closed_endpoint() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connections are refused
    return f"http://127.0.0.1:{port}"


def run_app(tmp_path: Path, host: str) -> tuple[str, float]:
    started = time.monotonic()
    result = run_script(
        APP,
        cwd=str(tmp_path),
        env={
            "TRACEROOT_API_KEY": "tr-outage",
            "TRACEROOT_HOST_URL": host,
            "TRACEROOT_TIMEOUT": "30",
        },
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr, time.monotonic() - started


def flush_seconds(output: str) -> float:
    line = next(line for line in output.splitlines() if line.startswith("FLUSH"))
    return float(line.split()[2])


def test_endpoint_that_never_answers(tmp_path: Path, silent_endpoint: str) -> None:
    output, total = run_app(tmp_path, silent_endpoint)
    assert flush_seconds(output) < 0.5 + 2  # flush(0.5) keeps its bound
    assert "FLUSH False" in output
    assert total < 5 + 10  # the exit bound (5 s) plus interpreter start-up, with slack
    assert output.count("dropped") == 1  # one warning, not one per span


def test_endpoint_that_refuses(tmp_path: Path) -> None:
    output, total = run_app(tmp_path, closed_endpoint())
    assert flush_seconds(output) < 0.5 + 2
    assert total < 5 + 10
    assert "Traceback" not in output


def test_full_queue_drops_counts_and_warns_once(tmp_path: Path, silent_endpoint: str) -> None:
    result = run_script(
        """
import traceroot
traceroot.instrument(integrations=[])

@traceroot.observe
def work(i):
    return i

for i in range(500):
    work(i)
print("DROPPED", traceroot.dropped_spans())
""",
        cwd=str(tmp_path),
        env={
            "TRACEROOT_API_KEY": "tr-outage",
            "TRACEROOT_HOST_URL": silent_endpoint,
            "TRACEROOT_MAX_QUEUE_SIZE": "50",
            "TRACEROOT_FLUSH_AT": "10",
        },
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    dropped = int(result.stdout.split("DROPPED")[1].split()[0])
    assert 300 <= dropped < 500
    assert result.stderr.count("export queue is full") == 1
    assert "Queue full" not in result.stderr  # not the SDK's warning per dropped span


def test_corrupt_store_warns_once_and_the_app_runs_on(tmp_path: Path) -> None:
    store = tmp_path / ".traceroot" / "traces.db"
    store.parent.mkdir()
    store.write_bytes(b"not a database at all " * 100)
    result = run_script(
        "import traceroot\ntraceroot.instrument(integrations=[])\n"
        "@traceroot.observe\ndef work(i):\n    return i\n"
        "assert [work(i) for i in range(50)] == list(range(50))\ntraceroot.flush(5)\n"
        "[work(i) for i in range(50)]\ntraceroot.flush(5)\nprint('RAN')\n",
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "RAN" in result.stdout
    assert result.stderr.count("could not write spans") == 1


@pytest.mark.parametrize("status", [429, 500])
def test_endpoint_answering_errors(tmp_path: Path, status: int) -> None:
    receiver, server = start_receiver(status)
    try:
        output, total = run_app(tmp_path, receiver.url)
    finally:
        server.shutdown()
    hits = receiver.requests
    assert flush_seconds(output) < 0.5 + 2
    assert total < 5 + 10
    assert hits  # the exporter did try
    assert len(hits) <= 12, len(hits)  # and backed off over the seconds it had, not hammered
