"""Whose context work runs in when threads outlive the request that started them.

A pool's job runs in its submitter's context, whichever thread runs it and whoever made that
thread; the pool's threads carry none of their own. A long-lived thread's target runs in its
starter's context; jobs it takes from a queue run in theirs when the job carries it (the README's
``contextvars.copy_context()`` pattern).
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry.sdk.trace import ReadableSpan

import traceroot
from traceroot import observe, semconv, using_session

from .conftest import Spans, parent_of, span_id, trace_id


@pytest.fixture
def threading_on(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["threading"])
    yield spans
    traceroot.uninstrument()


@observe
def job(label: str) -> str:
    return label


def _session(span: ReadableSpan) -> object:
    return (span.attributes or {}).get(semconv.SESSION_ID)


def _job(spans: Spans, label: str) -> ReadableSpan:
    found = [span for span in spans.named("job") if label in str(span.attributes)]
    assert len(found) == 1, [span.attributes for span in spans.named("job")]
    return found[0]


def test_pool_threads_started_in_one_request_serve_every_submitter_in_theirs(
    threading_on: Spans,
) -> None:
    @observe
    def warm_up() -> None:
        pass

    pool = ThreadPoolExecutor(max_workers=1, initializer=warm_up)

    @observe
    def alice_request() -> None:
        # The first submission starts the pool's only thread, inside Alice's request.
        pool.submit(job, "alice-job").result()

    with using_session("alice"):
        alice_request()
    pool.submit(job, "anonymous-job").result()  # outside any session or span
    with using_session("bob"):
        pool.submit(job, "bob-job").result()
    pool.shutdown()

    spans = threading_on
    alice, anonymous, bob = (_job(spans, f"{who}-job") for who in ("alice", "anonymous", "bob"))
    assert (_session(alice), parent_of(alice)) == ("alice", span_id(spans.one("alice_request")))
    assert (_session(anonymous), parent_of(anonymous)) == (None, None)
    assert (_session(bob), parent_of(bob)) == ("bob", None)
    # The pool's own start-up work belongs to no request: not Alice's, not in her trace.
    warm = spans.one("warm_up")
    assert (_session(warm), parent_of(warm)) == (None, None)
    assert trace_id(warm) != trace_id(spans.one("alice_request"))


def test_long_lived_worker_runs_its_target_in_the_starters_context_and_each_job_in_its_own(
    threading_on: Spans,
) -> None:
    jobs: queue.Queue[tuple[contextvars.Context, Callable[[], object]] | None] = queue.Queue()

    @observe
    def worker_started() -> None:
        pass

    def worker() -> None:
        worker_started()  # the target's own work: in the context of the code that started it
        while (item := jobs.get()) is not None:
            carried, work = item
            carried.run(work)  # each job in the context it was enqueued in

    def enqueue(label: str) -> None:
        jobs.put((contextvars.copy_context(), lambda: job(label)))

    @observe
    def alice_request() -> threading.Thread:
        thread = threading.Thread(target=worker)
        thread.start()
        enqueue("alice-job")
        return thread

    @observe
    def bob_request() -> None:
        enqueue("bob-job")

    with using_session("alice"):
        thread = alice_request()
    with using_session("bob"):
        bob_request()
    enqueue("anonymous-job")
    jobs.put(None)
    thread.join()

    spans = threading_on
    alice_span, bob_span = spans.one("alice_request"), spans.one("bob_request")
    started = spans.one("worker_started")
    assert (_session(started), parent_of(started)) == ("alice", span_id(alice_span))
    alice, bob, anonymous = (_job(spans, f"{who}-job") for who in ("alice", "bob", "anonymous"))
    assert (_session(alice), parent_of(alice)) == ("alice", span_id(alice_span))
    assert (_session(bob), parent_of(bob)) == ("bob", span_id(bob_span))
    assert trace_id(bob) == trace_id(bob_span) != trace_id(alice_span)
    assert (_session(anonymous), parent_of(anonymous)) == (None, None)
