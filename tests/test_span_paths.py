"""Live span trees: every span sent to TraceRoot names its ancestors (path, ids, starts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from traceroot import foreign, semconv
from traceroot.bounds import bounded
from traceroot.processor import ContextProcessor
from traceroot.span_paths import SpanPaths, SpanPathsExporter

from .conftest import run_script
from .otlp_receiver import Receiver

_PATHS = (semconv.SPAN_PATH, semconv.SPAN_IDS_PATH, semconv.SPAN_STARTS_PATH)


@dataclass
class Sent:
    """A span as the receiver got it."""

    name: str
    span_id: str
    parent_id: str | None
    start: int
    attributes: dict[str, Any]
    request: int  # which export request carried it


def _sent(receiver: Receiver) -> dict[str, Sent]:
    found: dict[str, Sent] = {}
    for index, request in enumerate(receiver.requests):
        body = ExportTraceServiceRequest()
        body.ParseFromString(request.body)
        for resource_spans in body.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    assert span.name not in found, span.name
                    found[span.name] = Sent(
                        span.name,
                        span.span_id.hex(),
                        span.parent_span_id.hex() or None,
                        span.start_time_unix_nano,
                        {a.key: _value(a.value) for a in span.attributes},
                        index,
                    )
    return found


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


def _expected(span: Sent, by_id: dict[str, Sent]) -> tuple[list[str], list[str], list[str]]:
    """The paths of ``span`` from the tree the receiver holds: its ancestors in this process."""
    ancestors: list[Sent] = []
    parent = by_id.get(span.parent_id or "")
    while parent is not None:
        ancestors.insert(0, parent)
        parent = by_id.get(parent.parent_id or "")
    return (
        [*(a.name for a in ancestors), span.name],
        [a.span_id for a in ancestors],
        [str(a.start) for a in ancestors],
    )


NESTED_TRACE = """
import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import traceroot
from traceroot import observe

traceroot.initialize()
other = trace.get_tracer("other")

@observe(name="plan")
def plan():
    return "plan"

@observe(name="pooled", type="tool")
def pooled():
    return "pooled"

async def step(name):
    await asyncio.sleep(0)
    with traceroot.start_span(name):
        await asyncio.sleep(0)

async def late(release):
    await release.wait()
    with traceroot.start_span("late"):
        pass

@observe(name="spawner")
async def spawner(release):
    return asyncio.create_task(late(release))  # runs after spawner has ended

@observe(name="agent", type="agent")
async def agent():
    plan()
    with other.start_as_current_span("foreign"):
        await asyncio.gather(step("step-a"), step("step-b"))
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(pooled).result()
    release = asyncio.Event()
    task = await spawner(release)
    # The children go out while the agent runs: the live case the paths are for.
    assert traceroot.flush(10)
    release.set()
    await task

asyncio.run(agent())

# A request from another process: its caller's span is known only by id.
incoming = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
with other.start_as_current_span(
    "served", context=TraceContextTextMapPropagator().extract(incoming)
):
    with traceroot.start_span("handler"):
        pass
assert traceroot.flush(10)
"""


def _run(tmp_path: Path, env: dict[str, str]) -> None:
    result = run_script(NESTED_TRACE, cwd=str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_every_span_sent_to_traceroot_names_its_ancestors(
    tmp_path: Path, receiver: Receiver
) -> None:
    _run(tmp_path, {"TRACEROOT_API_KEY": "tr-key", "TRACEROOT_HOST_URL": receiver.url})
    sent = _sent(receiver)
    assert sorted(sent) == [
        "agent",
        "foreign",
        "handler",
        "late",
        "plan",
        "pooled",
        "served",
        "spawner",
        "step-a",
        "step-b",
    ]
    paths = {name: span.attributes[semconv.SPAN_PATH] for name, span in sent.items()}
    assert paths == {
        "agent": ["agent"],
        "plan": ["agent", "plan"],
        "foreign": ["agent", "foreign"],
        "step-a": ["agent", "foreign", "step-a"],
        "step-b": ["agent", "foreign", "step-b"],
        "pooled": ["agent", "pooled"],
        "spawner": ["agent", "spawner"],
        "late": ["agent", "spawner", "late"],
        # Below a remote parent, the lists start at the first span of this process.
        "served": ["served"],
        "handler": ["served", "handler"],
    }
    # Ids as 16 hex digits and starts in decimal ns, exactly the ancestors' own.
    by_id = {span.span_id: span for span in sent.values()}
    for span in sent.values():
        names, ids, starts = _expected(span, by_id)
        actual = tuple(span.attributes[key] for key in _PATHS)
        assert actual == (names, ids, starts), span.name
        assert all(len(span_id) == 16 for span_id in ids)
        assert len(ids) == len(starts) == len(names) - 1
    agent = sent["agent"]
    assert sent["late"].attributes[semconv.SPAN_IDS_PATH] == [
        agent.span_id,
        sent["spawner"].span_id,
    ]
    assert sent["step-a"].attributes[semconv.SPAN_STARTS_PATH] == [
        str(agent.start),
        str(sent["foreign"].start),
    ]
    # The root ended after its children, which reached TraceRoot before it did.
    assert sent["plan"].request < agent.request
    assert sent["spawner"].request < sent["late"].request
    assert sent["served"].parent_id == "b7ad6b7169203331"
    assert sent["served"].attributes[semconv.SPAN_IDS_PATH] == []


def test_other_destinations_are_spared_the_paths(tmp_path: Path, receiver: Receiver) -> None:
    _run(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url})
    sent = _sent(receiver)
    assert "late" in sent
    assert all(key not in span.attributes for span in sent.values() for key in _PATHS)


class _Tree:
    """A provider of its own, with traceroot's processor keeping paths for ``capacity``."""

    def __init__(self, capacity: int) -> None:
        self.paths = SpanPaths(capacity=capacity)
        self.exported = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(ContextProcessor(self.paths))
        provider.add_span_processor(
            SimpleSpanProcessor(SpanPathsExporter(self.exported, self.paths))
        )
        self.provider = provider
        self.tracer = provider.get_tracer("app")

    def tracer_named(self, name: str) -> Any:
        return self.provider.get_tracer(name)

    def path(self, name: str) -> tuple[tuple[str, ...], ...]:
        spans = [span for span in self.exported.get_finished_spans() if span.name == name]
        assert len(spans) == 1, name
        attributes = spans[0].attributes or {}
        return tuple(tuple(attributes[key]) for key in _PATHS)  # type: ignore[arg-type]


def _hex(span: Any) -> str:
    return f"{span.get_span_context().span_id:016x}"


def _start(span: Any) -> int:
    start = span.start_time
    assert isinstance(start, int)
    return start


def test_entries_are_bounded_and_open_spans_keep_theirs() -> None:
    tree = _Tree(capacity=8)
    with tree.tracer.start_as_current_span("long") as long_running:
        for index in range(100):
            with (
                tree.tracer.start_as_current_span(f"step-{index}") as step,
                tree.tracer.start_as_current_span(f"leaf-{index}"),
            ):
                pass
        # The last 8 spans to end, and the open one, whose entry outlives the 200 ended since.
        assert len(tree.paths) == 8 + 1
        with tree.tracer.start_as_current_span("after"):
            pass
    assert len(tree.paths) == 8
    start = str(_start(long_running))
    assert tree.path("leaf-99") == (
        ("long", "step-99", "leaf-99"),
        (_hex(long_running), _hex(step)),
        (start, str(_start(step))),
    )
    assert tree.path("after") == (("long", "after"), (_hex(long_running),), (start,))


def test_a_parent_forgotten_makes_its_child_a_root_of_what_is_known() -> None:
    tree = _Tree(capacity=1)
    with tree.tracer.start_as_current_span("parent") as parent:
        pass
    with tree.tracer.start_as_current_span("other"):
        pass  # ends after the parent: the parent's entry goes
    with (
        tree.tracer.start_as_current_span(
            "child", context=trace.set_span_in_context(parent)
        ) as child,
        tree.tracer.start_as_current_span("grandchild"),
    ):
        pass
    assert child.parent is not None  # type: ignore[attr-defined]
    assert tree.path("child") == (("child",), (), ())
    assert tree.path("grandchild") == (
        ("child", "grandchild"),
        (_hex(child),),
        (str(_start(child)),),
    )


def test_names_as_at_start_for_ancestors_and_as_ended_for_the_span() -> None:
    tree = _Tree(capacity=16)
    with tree.tracer.start_as_current_span("draft") as span:
        with tree.tracer.start_as_current_span("child"):
            pass
        span.update_name("final")
    assert tree.path("child")[0] == ("draft", "child")
    assert tree.path("final")[0] == ("final",)


def test_a_name_a_start_reader_gives_is_the_one_descendants_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def rename(span: Any) -> None:
        span.update_name(span.name.removesuffix(".__call__"))

    monkeypatch.setitem(foreign.start_readers, "framework", rename)
    tree = _Tree(capacity=16)
    framework = tree.tracer_named("framework")
    with (
        framework.start_as_current_span("search.__call__"),
        tree.tracer.start_as_current_span("inner"),
    ):
        pass
    assert tree.path("inner")[0] == ("search", "inner")


def test_names_in_a_path_lose_credentials_as_span_names_do() -> None:
    dsn = "postgres://app:hunter2pw@db/x"
    span = ReadableSpan(name="query", attributes={semconv.SPAN_PATH: [f"connect {dsn}", "query"]})
    out = bounded(span, 10_000)
    assert (out.attributes or {})[semconv.SPAN_PATH] == (
        "connect postgres://app:[REDACTED]@db/x",
        "query",
    )
