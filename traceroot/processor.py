"""The span processor that sees every span of the process, whichever tracer made it.

When a span starts, it

- stamps another tracer's span with what the context holds (:mod:`traceroot.stamping`; traceroot's
  own spans start with it already), and types it if it is a GenAI span
  (:func:`traceroot.foreign.kind_at_start`);
- records the span as open in :mod:`traceroot.trace_state` until it ends, which is how
  ``update_current_trace`` reaches the root and every ancestor still running;
- reports a model call to the one-llm-span-per-call protocol (:mod:`traceroot.model_calls`);
- when spans go to TraceRoot, keeps the span's ancestry for the live tree
  (:mod:`traceroot.span_paths`) while it runs and until it is exported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from traceroot import semconv, stamping
from traceroot.foreign import kind_at_start, start_readers
from traceroot.guard import contained
from traceroot.model_calls import model_calls
from traceroot.spans import TRACER_NAME
from traceroot.trace_state import open_traces

if TYPE_CHECKING:
    from traceroot.span_paths import SpanPaths

_stamping = contained("processor.on_start")
_closing = contained("processor.on_end")
_reading_at_start = contained("processor.start_reader")
_keeping_paths = contained("processor.span_paths")


class ContextProcessor(SpanProcessor):
    """Stamps context attributes, types GenAI spans and keeps the trace and model-call state.

    ``paths``: where to keep each span's ancestry, when the destination draws live trees.
    """

    def __init__(self, paths: SpanPaths | None = None) -> None:
        self.paths = paths

    # Both run for every span of the process: guarded inline rather than with a with-block.
    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        try:
            scope = span.instrumentation_scope
            # traceroot's own spans start stamped, and register their model calls themselves
            # (traceroot.spans.start): reading a span's attributes here costs microseconds.
            foreign = scope is None or scope.name != TRACER_NAME
            model = foreign and self._read_foreign(span, parent_context)
            open_traces.opened(span)
            if model:
                model_calls.started(span, foreign=True)
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            _stamping.failed(error)
            return
        if foreign and start_readers and scope is not None:
            # An integration's reader of its framework's spans, once the span is open (a root
            # span must be, for its trace to take the values the reader finds) and in the
            # model-call protocol; its failure costs only what it would have added.
            reader = start_readers.get(scope.name)
            if reader is not None:
                try:
                    reader(span)
                except Exception as error:  # noqa: BLE001 - contained like any guarded block
                    _reading_at_start.failed(error)
        if self.paths is not None:
            # After the reader: a name it gives the span is the one its descendants show.
            try:
                self.paths.started(span)
            except Exception as error:  # noqa: BLE001 - contained like any guarded block
                _keeping_paths.failed(error)

    @staticmethod
    def _read_foreign(span: Span, parent_context: otel_context.Context | None) -> bool:
        """Stamp and type another tracer's span; ``True`` if it is a model call."""
        ctx = otel_context.get_current() if parent_context is None else parent_context
        attributes = stamping.span_attributes(ctx, span)
        kind = kind_at_start(span.attributes or {})
        if kind is not None:
            attributes = {**attributes, semconv.SPAN_TYPE: kind}
        if attributes:
            span.set_attributes(attributes)
        return kind == semconv.TYPE_LLM

    def on_end(self, span: ReadableSpan) -> None:
        try:
            context = span.get_span_context()
            if context is not None:
                open_traces.closed(context)
                model_calls.ended(context.span_id)
                if self.paths is not None:
                    self.paths.ended(context.span_id)
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            _closing.failed(error)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
