"""The span processor that stamps the context's session, user, tags and metadata on every span.

It runs for every span the provider starts, whichever tracer made it, so spans of third-party
instrumentation carry the session too. It also records each span as open in
:mod:`traceroot.trace_state` until it ends, which is how ``update_current_trace`` reaches the root
and every ancestor that is still running.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from traceroot import semconv
from traceroot.context import context_span_attributes
from traceroot.guard import contained
from traceroot.spans import TRACER_NAME
from traceroot.trace_state import model_calls, open_traces

_stamping = contained("processor.on_start")
_closing = contained("processor.on_end")


class ContextProcessor(SpanProcessor):
    """Stamps context attributes (and the static ones: environment, git) on every span start.

    traceroot's own spans get them when they are created (:func:`traceroot.spans.start`), in the
    same attribute set, so for those this only keeps the trace state.
    """

    # Both run for every span of the process: guarded inline rather than with a with-block.
    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        try:
            scope = getattr(span, "instrumentation_scope", None)
            if scope is None or scope.name != TRACER_NAME:
                ctx = otel_context.get_current() if parent_context is None else parent_context
                attributes = context_span_attributes(ctx)
                if attributes:
                    span.set_attributes(attributes)
                else:
                    _stamp_openinference(span, ctx)
            overrides = open_traces.opened(span)
            if overrides:
                span.set_attributes(overrides)
            if model_calls.watching and span.parent is not None and _is_model_call(span):
                model_calls.saw_model_call(span.parent.span_id)
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            _stamping.failed(error)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            open_traces.closed(span.get_span_context())
        except Exception as error:  # noqa: BLE001 - contained like any guarded block
            _closing.failed(error)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_OPENINFERENCE_KEYS: dict[str, str] = {
    semconv.OPENINFERENCE_SESSION_ID: semconv.SESSION_ID,
    semconv.OPENINFERENCE_USER_ID: semconv.USER_ID,
    semconv.OPENINFERENCE_METADATA: semconv.SPAN_METADATA,
    semconv.OPENINFERENCE_TAGS: semconv.SPAN_TAGS,
}


def _stamp_openinference(span: Span, ctx: otel_context.Context) -> None:
    """Honour OpenInference's ``using_attributes``, which keeps plain string keys in the context."""
    for key, attribute in _OPENINFERENCE_KEYS.items():
        value: Any = otel_context.get_value(key, ctx)
        if value is None:
            continue
        if attribute == semconv.SPAN_TAGS:
            if isinstance(value, (list, tuple)):
                span.set_attribute(attribute, [str(tag) for tag in value])
        elif isinstance(value, str):
            span.set_attribute(attribute, value)


_MODEL_CALL_MARKERS: dict[str, tuple[object, ...]] = {
    # Ours and the OpenTelemetry GenAI conventions; older GenAI; OpenInference.
    semconv.GEN_AI_OPERATION_NAME: (
        semconv.OPERATION_CHAT,
        semconv.OPERATION_TEXT_COMPLETION,
        semconv.OPERATION_EMBEDDINGS,
    ),
    semconv.GEN_AI_SYSTEM: (),
    semconv.OPENINFERENCE_SPAN_KIND: ("LLM", "EMBEDDING"),
}


def _is_model_call(span: Span) -> bool:
    """Whether a starting span is a provider's model call (from its first attributes)."""
    attributes = span.attributes or {}
    for key, values in _MODEL_CALL_MARKERS.items():
        value = attributes.get(key)
        if value is not None and (not values or value in values):
            return True
    return False
