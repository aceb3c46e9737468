from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

import traceroot
from traceroot import SpanKind, observe, semconv, start_span, using_attributes
from traceroot.spans import ObservedSpan

from .conftest import Spans, parent_of, span_id, trace_id


@observe(type="tool")
def add(a: int, b: int = 2) -> int:
    return a + b


@observe(name="answer", type="agent", metadata={"team": "core"}, tags=["v1"])
def answer(question: str) -> str:
    return f"{add(1)} {question}"


def test_sync_span_shape(spans: Spans) -> None:
    assert answer("why?") == "3 why?"
    outer, inner = spans.one("answer"), spans.one("add")
    assert parent_of(inner) == span_id(outer)
    assert trace_id(inner) == trace_id(outer)
    assert outer.parent is None
    assert outer.attributes[semconv.SPAN_TYPE] == "agent"
    assert inner.attributes[semconv.SPAN_TYPE] == "tool"
    assert json.loads(outer.attributes[semconv.SPAN_INPUT]) == {"question": "why?"}
    assert outer.attributes[semconv.SPAN_OUTPUT] == "3 why?"  # a string as itself
    assert json.loads(inner.attributes[semconv.SPAN_INPUT]) == {"a": 1, "b": 2}
    assert json.loads(outer.attributes[semconv.SPAN_METADATA]) == {"team": "core"}
    assert outer.attributes[semconv.SPAN_TAGS] == ("v1",)
    assert semconv.SPAN_TAGS not in inner.attributes  # tags of observe are the span's own
    assert outer.status.status_code is StatusCode.UNSET


def test_bare_decorator_and_return_value_identity(spans: Spans) -> None:
    result = object()

    @observe
    def make() -> object:
        return result

    assert make() is result
    assert spans.one("make").attributes[semconv.SPAN_TYPE] == "span"


def test_async_function(spans: Spans) -> None:
    @observe(type="agent")
    async def plan(goal: str) -> list[str]:
        await asyncio.sleep(0)
        return [add(2, 3) and goal]

    assert asyncio.run(plan("ship")) == ["ship"]
    outer, inner = spans.one("plan"), spans.one("add")
    assert parent_of(inner) == span_id(outer)
    assert json.loads(outer.attributes[semconv.SPAN_OUTPUT]) == ["ship"]


def test_async_function_stays_a_coroutine_function() -> None:
    import inspect

    @observe
    async def fetch() -> None:
        return None

    @observe
    def chunks() -> Iterator[int]:
        yield 1

    @observe
    async def achunks() -> AsyncIterator[int]:
        yield 1

    assert inspect.iscoroutinefunction(fetch)
    assert inspect.isgeneratorfunction(chunks)
    assert inspect.isasyncgenfunction(achunks)


@observe(type="llm")
def stream_words(text: str) -> Iterator[str]:
    for word in text.split():
        add(1, 1)  # a span made while the generator runs
        yield word + " "


def test_generator_output_and_nesting(spans: Spans) -> None:
    with start_span("consumer") as consumer:
        words = list(stream_words("hello big world"))
        assert consumer.span.is_recording()
    assert words == ["hello ", "big ", "world "]
    gen_span = spans.one("stream_words")
    assert gen_span.attributes[semconv.SPAN_OUTPUT] == "hello big world "
    assert parent_of(gen_span) == span_id(spans.one("consumer"))
    children = spans.named("add")
    assert len(children) == 3
    assert {parent_of(child) for child in children} == {span_id(gen_span)}


def test_generator_interleaved_with_consumer_spans(spans: Spans) -> None:
    """Between steps the consumer's own spans do not land under the generator's span."""
    gen = stream_words("a b")
    with start_span("consumer"):
        for _ in gen:
            with start_span("between"):
                pass
    consumer, gen_span = spans.one("consumer"), spans.one("stream_words")
    assert {parent_of(s) for s in spans.named("between")} == {span_id(consumer)}
    assert {parent_of(s) for s in spans.named("add")} == {span_id(gen_span)}


def test_generator_early_break_ends_span_without_error(spans: Spans) -> None:
    gen = stream_words("one two three")
    assert next(gen) == "one "
    gen.close()
    gen_span = spans.one("stream_words")
    assert gen_span.end_time is not None
    assert gen_span.status.status_code is StatusCode.UNSET
    assert gen_span.attributes[semconv.SPAN_OUTPUT] == "one "


def test_generator_send_and_return_value(spans: Spans) -> None:
    @observe
    def echo() -> Iterator[Any]:
        received = yield "ready"
        while received is not None:
            received = yield f"got {received}"
        return "done"

    def driver() -> Iterator[Any]:
        outcome = yield from echo()
        yield outcome

    gen = driver()
    assert next(gen) == "ready"
    assert gen.send("x") == "got x"
    assert next(gen) == "done"
    assert spans.one("echo").attributes[semconv.SPAN_OUTPUT] == "readygot x"


def test_generator_throw_reaches_inner(spans: Spans) -> None:
    @observe
    def resilient() -> Iterator[str]:
        try:
            yield "first"
        except KeyError:
            yield "recovered"

    gen = resilient()
    assert next(gen) == "first"
    assert gen.throw(KeyError("x")) == "recovered"
    gen.close()
    assert spans.one("resilient").status.status_code is StatusCode.UNSET


def test_async_generator_nesting_and_output(spans: Spans) -> None:
    @observe
    async def ticks(n: int) -> AsyncIterator[int]:
        for i in range(n):
            await asyncio.sleep(0)
            add(i, 0)
            yield i

    async def main() -> list[int]:
        return [i async for i in ticks(3)]

    assert asyncio.run(main()) == [0, 1, 2]
    gen_span = spans.one("ticks")
    assert json.loads(gen_span.attributes[semconv.SPAN_OUTPUT]) == [0, 1, 2]
    assert json.loads(gen_span.attributes[semconv.SPAN_INPUT]) == {"n": 3}
    assert {parent_of(s) for s in spans.named("add")} == {span_id(gen_span)}


def test_async_generator_early_exit(spans: Spans) -> None:
    @observe
    async def forever() -> AsyncIterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    async def main() -> None:
        agen = forever()
        async for i in agen:
            if i == 2:
                break
        await agen.aclose()

    asyncio.run(main())
    span = spans.one("forever")
    assert span.status.status_code is StatusCode.UNSET
    assert json.loads(span.attributes[semconv.SPAN_OUTPUT]) == [0, 1, 2]


class BoomError(Exception):
    pass


def _assert_failed_once(span: Any, error_type: str = "BoomError") -> None:
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == error_type
    events = [event for event in span.events if event.name == "exception"]
    assert len(events) == 1
    assert events[0].attributes["exception.type"].endswith(error_type)


def test_exception_recorded_once_and_reraised_same_object(spans: Spans) -> None:
    error = BoomError("bad")

    @observe
    def fail() -> None:
        raise error

    @observe
    def caller() -> None:
        fail()

    with pytest.raises(BoomError) as raised:
        caller()
    assert raised.value is error
    _assert_failed_once(spans.one("fail"))
    _assert_failed_once(spans.one("caller"))


def test_exception_in_async_and_generators(spans: Spans) -> None:
    @observe
    async def afail() -> None:
        raise BoomError

    @observe
    def gfail() -> Iterator[int]:
        yield 1
        raise BoomError

    @observe
    async def agfail() -> AsyncIterator[int]:
        yield 1
        raise BoomError

    async def consume() -> None:
        async for _ in agfail():
            pass

    with pytest.raises(BoomError):
        asyncio.run(afail())
    with pytest.raises(BoomError):
        list(gfail())
    with pytest.raises(BoomError):
        asyncio.run(consume())
    for name in ("afail", "gfail", "agfail"):
        _assert_failed_once(spans.one(name))


def test_methods_do_not_capture_self_or_cls(spans: Spans) -> None:
    class Agent:
        def __init__(self) -> None:
            self.calls = 0

        @observe(type="agent")
        def run(self, task: str) -> str:
            self.calls += 1
            return task.upper()

        @classmethod
        @observe
        def build(cls, size: int) -> str:
            return f"{cls.__name__}:{size}"

    agent = Agent()
    assert agent.run("go") == "GO"
    assert Agent.build(3) == "Agent:3"
    assert json.loads(spans.one("run").attributes[semconv.SPAN_INPUT]) == {"task": "go"}
    assert json.loads(spans.one("build").attributes[semconv.SPAN_INPUT]) == {"size": 3}


def test_varargs_and_kwargs_captured(spans: Spans) -> None:
    @observe
    def collect(first: int, *rest: int, **options: str) -> int:
        return first + sum(rest)

    collect(1, 2, 3, mode="fast")
    assert json.loads(spans.one("collect").attributes[semconv.SPAN_INPUT]) == {
        "first": 1,
        "rest": [2, 3],
        "mode": "fast",
    }


def test_bad_type_warns_and_uses_span(spans: Spans, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="traceroot"):

        @observe(type="retriever")
        def lookup() -> None:
            return None

    lookup()
    assert spans.one("lookup").attributes[semconv.SPAN_TYPE] == "span"
    assert "retriever" in caplog.text


def test_kind_enum_and_string_forms(spans: Spans) -> None:
    @observe(type=SpanKind.LLM)
    def model() -> None:
        return None

    @observe(type="TOOL")
    def tool() -> None:
        return None

    model()
    tool()
    assert spans.one("model").attributes[semconv.SPAN_TYPE] == "llm"
    assert spans.one("tool").attributes[semconv.SPAN_TYPE] == "tool"


def test_capture_switches(spans: Spans, settings_override: Any) -> None:
    @observe(capture_input=False, capture_output=False)
    def secret(password: str) -> str:
        return password

    @observe
    def plain(text: str) -> str:
        return text

    secret("hunter2")
    assert semconv.SPAN_INPUT not in spans.one("secret").attributes
    assert semconv.SPAN_OUTPUT not in spans.one("secret").attributes

    settings_override(capture_content=False)
    plain("hidden")
    attributes = spans.one("plain").attributes
    assert semconv.SPAN_INPUT not in attributes
    assert semconv.SPAN_OUTPUT not in attributes
    assert attributes[semconv.SPAN_TYPE] == "span"


def test_session_and_user_given_to_observe_reach_descendants(spans: Spans) -> None:
    @observe(session_id="s-1", user_id=42)
    def handle() -> None:
        add(1)
        with trace.get_tracer("plain").start_as_current_span("raw"):
            pass

    handle()
    for name in ("handle", "add", "raw"):
        attributes = spans.one(name).attributes
        assert attributes[semconv.SESSION_ID] == "s-1"
        assert attributes[semconv.USER_ID] == "42"


def test_observe_inside_using_attributes_merges_metadata(spans: Spans) -> None:
    @observe(metadata={"step": 1}, tags=["inner"])
    def step() -> None:
        return None

    with using_attributes(session_id="s", metadata={"run": "a"}, tags=["outer"]):
        step()
    attributes = spans.one("step").attributes
    assert json.loads(attributes[semconv.SPAN_METADATA]) == {"run": "a", "step": 1}
    assert attributes[semconv.SPAN_TAGS] == ("outer", "inner")
    assert attributes[semconv.SESSION_ID] == "s"


def test_unserialisable_input_never_breaks_the_call(spans: Spans) -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    @observe
    def take(thing: object) -> object:
        return thing

    hostile = Hostile()
    assert take(hostile) is hostile
    captured = json.loads(spans.one("take").attributes[semconv.SPAN_INPUT])
    # A user's __repr__ never runs for an argument: the type name stands for it.
    assert captured == {"thing": "<Hostile>"}


def test_start_span_context_manager(spans: Spans) -> None:
    with start_span("retrieve", type="tool", input={"q": "cats"}) as span:
        assert isinstance(span, ObservedSpan)
        add(5)
        span.set_output(["doc1", "doc2"])
        span.set_attribute("retrieval.count", 2)
        span.set_attribute("retrieval.ids", {"a": 1})
        assert traceroot.get_current_span_id() == span.span_id
    retrieve = spans.one("retrieve")
    assert retrieve.attributes[semconv.SPAN_TYPE] == "tool"
    assert json.loads(retrieve.attributes[semconv.SPAN_INPUT]) == {"q": "cats"}
    assert json.loads(retrieve.attributes[semconv.SPAN_OUTPUT]) == ["doc1", "doc2"]
    assert retrieve.attributes["retrieval.count"] == 2
    assert json.loads(retrieve.attributes["retrieval.ids"]) == {"a": 1}
    assert parent_of(spans.one("add")) == span_id(retrieve)


def test_start_span_error_and_async_form(spans: Spans) -> None:
    with pytest.raises(BoomError), start_span("failing"):
        raise BoomError

    async def main() -> None:
        async with start_span("async-block", type="agent") as span:
            span.set_output("ok")

    asyncio.run(main())
    _assert_failed_once(spans.one("failing"))
    assert spans.one("async-block").attributes[semconv.SPAN_OUTPUT] == "ok"


def test_large_input_truncated_within_budget(spans: Spans) -> None:
    @observe
    def big(text: str) -> int:
        return len(text)

    assert big("x" * 100_000) == 100_000
    attributes = spans.one("big").attributes
    text = attributes[semconv.SPAN_INPUT]
    assert len(text.encode()) <= 32 * 1024
    marker = json.loads(text)
    assert marker["truncated"] is True
    assert marker["original_length"] > 100_000
    assert attributes[semconv.TRUNCATED] == (semconv.SPAN_INPUT,)


def test_internal_error_is_contained_and_span_still_ends(
    spans: Spans, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEROOT_STRICT", "0")

    def broken_set_json(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug inside traceroot")

    monkeypatch.setattr("traceroot.spans.set_json", broken_set_json)

    @observe
    def user_code(x: int) -> int:
        return x + 1

    @observe
    def user_gen() -> Iterator[int]:
        yield 1

    assert user_code(1) == 2
    assert list(user_gen()) == [1]
    assert spans.one("user_code").end_time is not None
    assert spans.one("user_gen").end_time is not None
