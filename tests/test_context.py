from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace

from traceroot import observe, semconv, start_span, using_attributes, using_session, using_user
from traceroot.context import get_attributes

from .conftest import Spans

tracer = trace.get_tracer("a-third-party-library")


def plain_span(name: str = "raw") -> None:
    """A span made by another library with a plain OpenTelemetry tracer."""
    with tracer.start_as_current_span(name):
        pass


def test_with_block_stamps_plain_otel_spans(spans: Spans) -> None:
    with using_attributes(session_id="s1", user_id="u1", tags=["a"], metadata={"k": "v"}):
        plain_span()
    attributes = spans.one("raw").attributes
    assert attributes[semconv.SESSION_ID] == "s1"
    assert attributes[semconv.USER_ID] == "u1"
    assert attributes[semconv.SPAN_TAGS] == ("a",)
    assert json.loads(attributes[semconv.SPAN_METADATA]) == {"k": "v"}


def test_values_end_with_the_block(spans: Spans) -> None:
    before = otel_context.get_current()
    with using_attributes(session_id="s1"):
        pass
    assert otel_context.get_current() == before
    plain_span("after")
    assert semconv.SESSION_ID not in spans.one("after").attributes


def test_nested_blocks_merge(spans: Spans) -> None:
    with (
        using_attributes(session_id="outer", user_id="u", tags=["a", "b"], metadata={"x": 1}),
        using_attributes(session_id="inner", tags=["b", "c"], metadata={"y": 2}),
    ):
        plain_span("deep")
        values = get_attributes()
        assert values.session_id == "inner"
    attributes = spans.one("deep").attributes
    assert attributes[semconv.SESSION_ID] == "inner"
    assert attributes[semconv.USER_ID] == "u"
    assert attributes[semconv.SPAN_TAGS] == ("a", "b", "c")
    assert json.loads(attributes[semconv.SPAN_METADATA]) == {"x": 1, "y": 2}


def test_session_and_user_shorthands(spans: Spans) -> None:
    with using_session("s9"), using_user("u9"):
        plain_span()
    attributes = spans.one("raw").attributes
    assert (attributes[semconv.SESSION_ID], attributes[semconv.USER_ID]) == ("s9", "u9")


def test_async_with(spans: Spans) -> None:
    async def main() -> None:
        async with using_attributes(session_id="async-s"):
            await asyncio.sleep(0)
            plain_span()

    asyncio.run(main())
    assert spans.one("raw").attributes[semconv.SESSION_ID] == "async-s"


def test_decorator_on_sync_function(spans: Spans) -> None:
    @using_attributes(session_id="dec")
    def work() -> int:
        plain_span()
        return 7

    assert work() == 7
    assert spans.one("raw").attributes[semconv.SESSION_ID] == "dec"


def test_decorator_holds_for_whole_coroutine(spans: Spans) -> None:
    @using_session("coro")
    async def work() -> str:
        await asyncio.sleep(0)
        plain_span("after-await")
        return "done"

    async def main() -> str:
        coroutine = work()  # created here, run later: the decorator must hold for the run
        await asyncio.sleep(0)
        return await coroutine

    assert asyncio.run(main()) == "done"
    assert spans.one("after-await").attributes[semconv.SESSION_ID] == "coro"


def test_decorator_holds_for_whole_generator(spans: Spans) -> None:
    @using_session("gen")
    def produce() -> Iterator[int]:
        for i in range(3):
            plain_span(f"step-{i}")
            yield i

    gen = produce()
    assert next(gen) == 0
    plain_span("outside")  # the consumer, between steps, is not in the generator's session
    assert list(gen) == [1, 2]
    for i in range(3):
        assert spans.one(f"step-{i}").attributes[semconv.SESSION_ID] == "gen"
    assert semconv.SESSION_ID not in spans.one("outside").attributes


def test_decorator_holds_for_whole_async_generator(spans: Spans) -> None:
    @using_user("agen-user")
    async def produce() -> AsyncIterator[int]:
        for i in range(2):
            await asyncio.sleep(0)
            plain_span(f"astep-{i}")
            yield i

    async def main() -> list[int]:
        return [i async for i in produce()]

    assert asyncio.run(main()) == [0, 1]
    for i in range(2):
        assert spans.one(f"astep-{i}").attributes[semconv.USER_ID] == "agen-user"


def test_decorated_observed_functions_of_all_kinds(spans: Spans) -> None:
    @using_session("all-kinds")
    @observe
    def sync_fn() -> None:
        return None

    @using_session("all-kinds")
    @observe
    async def async_fn() -> None:
        return None

    @using_session("all-kinds")
    @observe
    def gen_fn() -> Iterator[int]:
        yield 1

    @using_session("all-kinds")
    @observe
    async def agen_fn() -> AsyncIterator[int]:
        yield 1

    async def run_async() -> None:
        await async_fn()
        async for _ in agen_fn():
            pass

    sync_fn()
    list(gen_fn())
    asyncio.run(run_async())
    for name in ("sync_fn", "async_fn", "gen_fn", "agen_fn"):
        assert spans.one(name).attributes[semconv.SESSION_ID] == "all-kinds", name


def test_ids_are_strings_and_long_ids_cut_with_one_warning(
    spans: Spans, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        with using_attributes(session_id=12345, user_id="u" * 5_000):
            plain_span("first")
        with using_attributes(user_id="v" * 5_000):
            plain_span("second")
    first = spans.one("first").attributes
    assert first[semconv.SESSION_ID] == "12345"
    assert first[semconv.USER_ID] == "u" * 1_000
    assert spans.one("second").attributes[semconv.USER_ID] == "v" * 1_000
    warnings = [r for r in caplog.records if "user_id" in r.getMessage()]
    assert len(warnings) <= 1  # one per process; an earlier test may already have warned


def test_bad_values_never_raise(spans: Spans) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise ValueError("no")

    with using_attributes(
        session_id=Unprintable(),
        tags=5,  # type: ignore[arg-type]
        metadata="not a mapping",  # type: ignore[arg-type]
    ):
        plain_span()
    attributes = spans.one("raw").attributes
    assert attributes[semconv.SESSION_ID] == "<unprintable Unprintable>"
    assert semconv.SPAN_TAGS not in attributes
    assert semconv.SPAN_METADATA not in attributes


def test_eight_threads_ten_requests_each_keep_their_session(spans: Spans) -> None:
    barrier = threading.Barrier(8)

    @observe(type="agent")
    def request(worker: int, n: int) -> None:
        with start_span("step"):
            plain_span(f"leaf-{worker}-{n}")

    def worker(index: int) -> None:
        barrier.wait()
        for n in range(10):
            with using_attributes(session_id=f"w{index}-r{n}", user_id=f"user-{index}"):
                request(index, n)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = spans.all()
    assert len(finished) == 8 * 10 * 3
    for index in range(8):
        for n in range(10):
            leaf = spans.one(f"leaf-{index}-{n}")
            assert leaf.attributes[semconv.SESSION_ID] == f"w{index}-r{n}"
            assert leaf.attributes[semconv.USER_ID] == f"user-{index}"
            same_trace = [s for s in finished if s.context.trace_id == leaf.context.trace_id]
            assert len(same_trace) == 3
            assert {s.attributes[semconv.SESSION_ID] for s in same_trace} == {f"w{index}-r{n}"}


def test_thread_pool_sees_context_when_submitted_with_copy(spans: Spans) -> None:
    """The context travels with the work item when the caller hands it over explicitly."""
    with using_session("pool"):
        ctx = otel_context.get_current()
    with ThreadPoolExecutor(2) as pool:
        pool.submit(lambda: otel_context.attach(ctx) and plain_span("pooled")).result()
    assert spans.one("pooled").attributes[semconv.SESSION_ID] == "pool"


def test_twenty_asyncio_tasks_keep_their_session(spans: Spans) -> None:
    @observe
    async def handle(i: int) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
            plain_span(f"task-{i}")

    async def one(i: int) -> None:
        with using_attributes(session_id=f"task-session-{i}"):
            await handle(i)

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(20)))

    asyncio.run(main())
    for i in range(20):
        leaves = spans.named(f"task-{i}")
        assert len(leaves) == 3
        assert {leaf.attributes[semconv.SESSION_ID] for leaf in leaves} == {f"task-session-{i}"}


def test_openinference_context_keys_are_honoured(spans: Spans) -> None:
    """OpenInference's using_attributes keeps plain string keys in the OTel context."""
    ctx = otel_context.set_value("session.id", "oi-session")
    ctx = otel_context.set_value("user.id", "oi-user", ctx)
    ctx = otel_context.set_value("tag.tags", ["x"], ctx)
    ctx = otel_context.set_value("metadata", '{"a": 1}', ctx)
    token = otel_context.attach(ctx)
    try:
        plain_span()
    finally:
        otel_context.detach(token)
    attributes = spans.one("raw").attributes
    assert attributes[semconv.SESSION_ID] == "oi-session"
    assert attributes[semconv.USER_ID] == "oi-user"
    assert attributes[semconv.SPAN_TAGS] == ("x",)
    assert json.loads(attributes[semconv.SPAN_METADATA]) == {"a": 1}
