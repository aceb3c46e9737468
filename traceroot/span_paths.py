"""Live span trees for the TraceRoot dashboard: every span names its ancestors.

A parent is exported when it ends, after its children, so while a trace runs the TraceRoot
backend holds spans whose parents it has not seen. To draw them in place, it reads on each span:

- ``traceroot.span.path``: span names, root to the span itself;
- ``traceroot.span.ids_path``: span ids (16 hex digits), root to the direct parent;
- ``traceroot.span.starts_path``: the start times of those ancestors (epoch nanoseconds in
  decimal), aligned with ``ids_path``.

When a span starts (any tracer's: the context processor calls :meth:`SpanPaths.started`), its
entry is one tuple that links to its parent's entry, found by the parent's span id: a constant
cost on the app's thread, whatever the depth. The lists are spelled out at export
(:class:`SpanPathsExporter`), in the export thread, for the TraceRoot destination only: the other
destinations receive finished traces and are spared the bytes.

An entry stays while its span is open, and after it ends for as long as one of the last
``capacity`` spans to end (sized by the pipeline to the export queue and a batch in flight), so
each span's entry is there when it is exported, and a child that starts after its parent ended
(an asyncio task that outlives the call that created it) still finds the parent.

A span whose parent is not known here (in another process, or ended long before) starts its own
lists, as a root does: its path is its own name, its ids and starts are empty, and its descendants
name it as their root. The lists stay aligned (names one longer than ids), which is what the
dashboard needs to draw an ancestor; the remote parent itself is known only by the span's parent
id.

Ancestors are named as they were when the span started (as the TraceRoot SDK does); the last name
of a path is the span's own, as it ended (after any ``update_name``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Final, TypeAlias

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from traceroot import semconv
from traceroot.guard import contained
from traceroot.reading import copied

# (parent's entry, span id, start time in ns, name at start): a span's ancestry, shared by all
# its descendants' entries.
_Entry: TypeAlias = "tuple[_Entry | None, int, int, str]"

_stamping: Final = contained("span_paths.stamp")


class SpanPaths:
    """The entries of open and recently ended spans, by span id."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[int, _Entry] = {}
        # Span ids in the order their spans ended: the oldest go first once there are more
        # than ``capacity``. Appends and pops of a deque are atomic, like the dict's operations,
        # so the processor's calls from many threads need no lock.
        self._ended: deque[int] = deque()

    def started(self, span: ReadableSpan) -> None:
        context = span.context
        start = span.start_time
        if context is None or start is None:
            return
        parent = span.parent
        entries = self._entries
        entries[context.span_id] = (
            None if parent is None else entries.get(parent.span_id),
            context.span_id,
            start,
            span.name,
        )

    def ended(self, span_id: int) -> None:
        ended = self._ended
        ended.append(span_id)
        if len(ended) > self.capacity:
            try:
                self._entries.pop(ended.popleft(), None)
            except IndexError:  # another thread took the last one: nothing left to drop
                pass

    def __len__(self) -> int:
        return len(self._entries)

    def stamped(self, span: ReadableSpan) -> ReadableSpan:
        """A copy of ``span`` with its path, ids path and starts path."""
        context = span.context
        entry = self._entries.get(context.span_id) if context is not None else None
        names: list[str] = []
        ids: list[str] = []
        starts: list[str] = []
        ancestor = entry[0] if entry is not None else None
        while ancestor is not None:
            ancestor, span_id, start, name = ancestor
            names.append(name)
            ids.append(f"{span_id:016x}")
            starts.append(str(start))
        names.reverse()
        ids.reverse()
        starts.reverse()
        names.append(span.name)
        attributes = dict(span.attributes or {})
        attributes[semconv.SPAN_PATH] = names
        attributes[semconv.SPAN_IDS_PATH] = ids
        attributes[semconv.SPAN_STARTS_PATH] = starts
        return copied(span, attributes)


class SpanPathsExporter(SpanExporter):
    """Hands ``exporter`` each span with the paths ``paths`` kept for it."""

    def __init__(self, exporter: SpanExporter, paths: SpanPaths) -> None:
        self.exporter = exporter
        self.paths = paths

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        batch = list(spans)
        with _stamping:  # a failure costs the batch its paths, never its delivery
            batch = [self.paths.stamped(span) for span in spans]
        return self.exporter.export(batch)

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)
