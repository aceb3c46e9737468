from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import trace

import traceroot
from traceroot import observe, semconv, using_attributes

from ..conftest import Spans, parent_of, span_id

tracer = trace.get_tracer("worker-library")


def leaf(name: str) -> None:
    with tracer.start_as_current_span(name):
        pass


@pytest.fixture
def threading_on(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["threading"])
    yield spans
    traceroot.uninstrument()


def _assert_carried(spans: Spans, name: str, session: str) -> None:
    outer = spans.one("outer")
    child = spans.one(name)
    assert parent_of(child) == span_id(outer)
    assert child.attributes[semconv.SESSION_ID] == session


def test_thread_pool_submit(threading_on: Spans) -> None:
    @observe
    def outer() -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            pool.submit(leaf, "pooled").result()
            list(pool.map(leaf, ["mapped"]))

    with using_attributes(session_id="pool-session"):
        outer()
    _assert_carried(threading_on, "pooled", "pool-session")
    _assert_carried(threading_on, "mapped", "pool-session")


def test_thread_target(threading_on: Spans) -> None:
    @observe
    def outer() -> None:
        worker = threading.Thread(target=leaf, args=("threaded",))
        worker.start()
        worker.join()

    with using_attributes(session_id="thread-session"):
        outer()
    _assert_carried(threading_on, "threaded", "thread-session")


def test_timer_function(threading_on: Spans) -> None:
    """``Timer`` overrides ``Thread.run``: its function still runs in the starter's context."""

    @observe
    def outer() -> None:
        timer = threading.Timer(0.01, leaf, args=("timed",))
        timer.start()
        timer.join()

    with using_attributes(session_id="timer-session"):
        outer()
    _assert_carried(threading_on, "timed", "timer-session")


def test_cancelled_timer_runs_nothing(threading_on: Spans) -> None:
    with using_attributes(session_id="never"):
        timer = threading.Timer(60, leaf, args=("never-run",))
        timer.start()
    timer.cancel()
    timer.join()
    assert threading_on.all() == []


def test_uninstrument_restores_timer_run(spans: Spans) -> None:
    original = vars(threading.Timer)["run"]
    traceroot.instrument(integrations=["threading"])
    patched = vars(threading.Timer)["run"]
    traceroot.uninstrument()
    assert patched is not original
    assert vars(threading.Timer)["run"] is original


def test_run_in_executor(threading_on: Spans) -> None:
    @observe
    async def outer() -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, leaf, "executed")

    async def main() -> None:
        with using_attributes(session_id="executor-session"):
            await outer()

    asyncio.run(main())
    _assert_carried(threading_on, "executed", "executor-session")


def test_each_submission_carries_its_own_context(threading_on: Spans) -> None:
    """One long-lived pool, requests from many sessions: no cross-talk between them."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = []
        for n in range(12):
            with using_attributes(session_id=f"req-{n}"):
                futures.append(pool.submit(leaf, f"req-leaf-{n}"))
        for future in futures:
            future.result()
    for n in range(12):
        assert threading_on.one(f"req-leaf-{n}").attributes[semconv.SESSION_ID] == f"req-{n}"


def test_without_the_integration_the_context_is_lost(spans: Spans) -> None:
    """The control: plain Python does not carry the context into pool threads."""

    @observe
    def outer() -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(leaf, "orphan").result()

    with using_attributes(session_id="lost"):
        outer()
    orphan = spans.one("orphan")
    assert orphan.parent is None
    assert semconv.SESSION_ID not in orphan.attributes


def test_user_exceptions_and_results_pass_through(threading_on: Spans) -> None:
    class WorkerError(Exception):
        pass

    error = WorkerError("in the pool")

    def fail() -> None:
        raise error

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: 41 + 1).result() == 42
        with pytest.raises(WorkerError) as raised:
            pool.submit(fail).result()
    assert raised.value is error
