"""Spans made in forked children reach the store; forking mid-export does not deadlock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from traceroot.store import SpanStore

from .conftest import run_script

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")

FORKING_APP = """
import multiprocessing, time
import traceroot

traceroot.instrument(integrations=[])

@traceroot.observe
def work(who, i):
    return f"{who}-{i}"

def child(n):
    for i in range(20):
        work(f"child{n}", i)
    traceroot.flush(10)

# Fork while the parent's exporter is writing a batch: a pre-fork server's situation.
for i in range(1500):
    work("parent", i)
time.sleep(0.01)

context = multiprocessing.get_context("fork")
children = [context.Process(target=child, args=(n,)) for n in range(3)]
for process in children:
    process.start()
for process in children:
    process.join(30)
    assert process.exitcode == 0, process.exitcode
traceroot.flush(10)
print("DONE")
"""


def test_forked_children_export_and_nothing_deadlocks(tmp_path: Path) -> None:
    result = run_script(
        FORKING_APP,
        cwd=str(tmp_path),
        env={"TRACEROOT_FLUSH_INTERVAL": "0.01", "TRACEROOT_FLUSH_AT": "5"},
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    assert "DONE" in result.stdout
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    for n in range(3):
        (row,) = store.query(
            "SELECT COUNT(*) AS n FROM spans WHERE attributes LIKE ?", (f"%child{n}-%",)
        )
        assert row["n"] == 20, n


def test_a_fork_while_a_span_is_being_queued_leaves_the_child_free(tmp_path: Path) -> None:
    """The lock that makes queueing and counting one step, held by another thread at the moment
    of the fork (held here on purpose), is a new one in the child: its first span does not hang."""
    result = run_script(
        """
        import os, signal, sys
        from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
        from traceroot.batching import BoundedBatchProcessor

        class Nowhere(SpanExporter):
            def export(self, spans):
                return SpanExportResult.SUCCESS

        from opentelemetry.sdk.trace import TracerProvider
        processor = BoundedBatchProcessor(Nowhere())
        provider = TracerProvider()
        provider.add_span_processor(processor)
        tracer = provider.get_tracer("test")

        processor._enqueueing.acquire()  # as if another thread were queueing a span right now
        pid = os.fork()
        if pid == 0:
            signal.alarm(5)  # a hang ends the child by SIGALRM instead of blocking the test
            tracer.start_span("in the child").end()
            os._exit(0)
        processor._enqueueing.release()
        _, status = os.waitpid(pid, 0)
        print("child exit", os.waitstatus_to_exitcode(status))
        """,
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child exit 0"
