"""``traceroot tail`` against several writers and a store that does not exist yet."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..stores import environment, row, write


class Tail:
    def __init__(self, cwd: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "traceroot.cli", "tail", "--interval", "0.1", *args],
            cwd=cwd,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> tuple[str, str]:
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=20)
        assert self.process.returncode == 0, err
        return out, err


@pytest.fixture
def tails() -> Iterator[list[Tail]]:
    started: list[Tail] = []
    yield started
    for tail in started:
        if tail.process.poll() is None:
            tail.process.kill()
            tail.process.communicate()


def roots(out: str) -> list[str]:
    return [line.split()[1] for line in out.splitlines() if line.startswith("  [")]


def test_a_trace_written_after_a_later_one_is_printed(tmp_path: Path, tails: list[Tail]) -> None:
    store = tmp_path / "traces.db"
    write(store, [row(1, 1, name="before-tail")])
    tails.append(tail := Tail(tmp_path, "--store", str(store)))
    time.sleep(1.0)
    ended = time.time_ns()
    write(store, [row(2, 1, name="ends-last-written-first", start_ns=ended - 10**6, end_ns=ended)])
    time.sleep(0.6)  # tail prints it
    # Another process's trace that ended earlier, flushed later: still new to the reader.
    early = ended - 200 * 10**6
    write(store, [row(3, 2, 1, name="child", start_ns=early - 5 * 10**5, end_ns=early - 10)])
    write(store, [row(3, 1, name="ends-first\x1b[2J", start_ns=early - 10**6, end_ns=early)])
    time.sleep(0.6)
    out, _ = tail.stop()
    assert roots(out) == ["ends-last-written-first", "ends-first\\x1b[2J"]
    assert "    [span] child" in out
    assert not any(unicodedata.category(c) == "Cc" for c in out.replace("\n", ""))


WRITER = """
import sys, time, traceroot
traceroot.instrument()
with traceroot.start_span(sys.argv[1]):
    pass
time.sleep(float(sys.argv[2]))  # the export thread's interval is longer: nothing written yet
traceroot.flush()
"""


def test_two_writers_flushing_out_of_order(tmp_path: Path, tails: list[Tail]) -> None:
    write(tmp_path / ".traceroot" / "traces.db", [row(1, 1, name="earlier-run")])
    tails.append(tail := Tail(tmp_path))
    time.sleep(1.0)
    env = environment(TRACEROOT_FLUSH_INTERVAL="60", TRACEROOT_STRICT="1")
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, name, delay], cwd=tmp_path, env=env)
        for name, delay in (("slow-writer", "2.5"), ("fast-writer", "0"))
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    time.sleep(0.8)
    out, _ = tail.stop()
    assert sorted(roots(out)) == ["fast-writer", "slow-writer"]


def test_tail_started_before_the_app_waits_for_the_store(tmp_path: Path, tails: list[Tail]) -> None:
    tails.append(tail := Tail(tmp_path))
    time.sleep(1.0)
    assert tail.process.poll() is None  # still running, waiting
    app = subprocess.run(
        [
            sys.executable,
            "-c",
            "import traceroot\ntraceroot.instrument()\n"
            "with traceroot.start_span('first-run'):\n    pass\ntraceroot.flush()\n",
        ],
        cwd=tmp_path,
        env=environment(TRACEROOT_STRICT="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert app.returncode == 0, app.stderr
    time.sleep(1.0)
    out, err = tail.stop()
    assert roots(out) == ["first-run"]
    assert err.strip() == "traceroot: waiting for .traceroot/traces.db ..."


def test_a_corrupt_trace_is_skipped_and_tail_goes_on(tmp_path: Path, tails: list[Tail]) -> None:
    store = tmp_path / "traces.db"
    write(store, [row(1, 1, name="before-tail")])
    tails.append(tail := Tail(tmp_path, "--store", str(store)))
    time.sleep(1.0)
    write(store, [row(2, 1, name="corrupt", attributes="{not json")])
    write(store, [row(3, 1, name="fine")])
    time.sleep(0.8)
    out, err = tail.stop()
    assert roots(out) == ["fine"]
    assert err.startswith(f"traceroot: skipping trace {2:032x}: cannot read it")
    assert len(err.strip().splitlines()) == 1
