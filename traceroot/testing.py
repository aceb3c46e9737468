"""A pytest plugin for asserting on the traces your own code makes.

Installed with traceroot and loaded by pytest on its own; nothing happens until a test asks for
the ``traceroot_spans`` fixture, which records every span finished during that test::

    def test_agent_uses_the_search_tool(traceroot_spans):
        answer("What's the weather in SF?")
        agent = traceroot_spans.one(kind="agent")
        tools = traceroot_spans.children(agent, kind="tool")
        assert [tool.name for tool in tools] == ["search"]
        print(traceroot_spans.tree())
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from traceroot import semconv

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

__all__ = ["RecordedSpans", "traceroot_spans"]

_installed: InMemorySpanExporter | None = None
_install_lock = threading.Lock()


class RecordedSpans:
    """The spans finished during one test, with lookups by name and kind."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self._exporter = exporter

    def all(self) -> list[ReadableSpan]:
        """Every finished span, in the order they ended."""
        return list(self._exporter.get_finished_spans())

    def find(self, *, name: str | None = None, kind: str | None = None) -> list[ReadableSpan]:
        """Spans with this name and/or traceroot kind (``agent``, ``tool``, ``llm``, ``span``)."""
        return [
            span
            for span in self.all()
            if (name is None or span.name == name)
            and (kind is None or (span.attributes or {}).get(semconv.SPAN_TYPE) == kind)
        ]

    def one(self, *, name: str | None = None, kind: str | None = None) -> ReadableSpan:
        """The single span that matches; fails the test, listing what there is, otherwise."""
        found = self.find(name=name, kind=kind)
        if len(found) != 1:
            listed = ", ".join(f"{s.name}" for s in self.all()) or "no spans"
            pytest.fail(
                f"expected one span (name={name!r}, kind={kind!r}), found {len(found)}: {listed}"
            )
        return found[0]

    def roots(self) -> list[ReadableSpan]:
        """Spans with no parent among the recorded ones: one per trace."""
        ids = {span.context.span_id for span in self.all() if span.context is not None}
        return [s for s in self.all() if s.parent is None or s.parent.span_id not in ids]

    def children(self, parent: ReadableSpan, *, kind: str | None = None) -> list[ReadableSpan]:
        """Direct children of ``parent``, in start order."""
        assert parent.context is not None
        found = [
            span
            for span in self.find(kind=kind)
            if span.parent is not None and span.parent.span_id == parent.context.span_id
        ]
        return sorted(found, key=lambda span: span.start_time or 0)

    def tree(self, *, verbose: bool = False) -> str:
        """Each recorded trace as an indented tree, as ``traceroot show`` prints it."""
        from traceroot import render
        from traceroot.records import stored

        by_trace: dict[int, list[ReadableSpan]] = {}
        for span in self.all():
            if span.context is not None:
                by_trace.setdefault(span.context.trace_id, []).append(span)
        return "".join(
            render.tree([stored(span) for span in group], verbose=verbose)
            for group in by_trace.values()
        )

    def clear(self) -> None:
        self._exporter.clear()


def _install() -> InMemorySpanExporter:
    """Record spans in memory on the global SDK provider (set one if there is none yet)."""
    global _installed
    with _install_lock:
        if _installed is not None:
            return _installed
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        import traceroot
        from traceroot import pipeline
        from traceroot.foreign import ReadingExporter

        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        exporter = InMemorySpanExporter()
        # Other tracers' GenAI spans read as traceroot exports them.
        provider.add_span_processor(SimpleSpanProcessor(ReadingExporter(exporter)))
        if pipeline.active() is None:
            # Trace the code under test without writing a store or sending anything.
            traceroot.instrument(exporter="none")
        _installed = exporter
        return exporter


@pytest.fixture
def traceroot_spans() -> Iterator[RecordedSpans]:
    """The spans finished during this test (see :class:`RecordedSpans`)."""
    exporter = _install()
    exporter.clear()
    yield RecordedSpans(exporter)
    exporter.clear()
