"""The tracing processor: the Agents SDK's traces and spans in, OpenTelemetry spans out.

Each SDK span becomes a span of traceroot's when it starts, under the span of its SDK parent, and
is the current OpenTelemetry span until it ends. The SDK starts and finishes a span in the same
``contextvars`` context in which it marks it current (its own ``ContextVar`` token must reset
there), in sync, async and streamed runs alike, so the value attached here is detached by its
token where it was attached. Whatever runs inside, traceroot's OpenAI integration first, nests
under it: the provider call of a ``response`` or ``generation`` span is then that call's ``llm``
span, and the SDK's span a plain one without usage (:mod:`traceroot.model_calls`).
"""

from __future__ import annotations

import contextvars
import sys
from typing import Any, Final

from agents.tracing import Span as SdkSpan
from agents.tracing import Trace as SdkTrace
from agents.tracing import TracingProcessor
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.semconv.attributes.exception_attributes import (
    EXCEPTION_MESSAGE,
    EXCEPTION_TYPE,
)
from opentelemetry.trace import Span

from traceroot import genai, semconv, spans, stamping
from traceroot.context import with_attributes
from traceroot.guard import contained
from traceroot.integrations.openai_agents import convert
from traceroot.spans import SpanKind
from traceroot.trace_state import open_traces

# Spans the SDK started and never finished (a run abandoned mid-way) are ended, marked abandoned,
# and forgotten past this many; folded spans (only their parent's record) likewise.
_MAX_OPEN: Final = 10_000
_MAX_FOLDED: Final = 10_000
_UNKNOWN_ERROR: Final = "_OTHER"  # OpenTelemetry's error.type when the type is not known

_NOT_FOLDED: Final = object()

_starting = contained("openai_agents.start")
_ending = contained("openai_agents.end")


class _Open:
    __slots__ = ("context", "kind", "span", "token")

    def __init__(self, span: Span, context: otel_context.Context, kind: SpanKind) -> None:
        self.span = span
        self.context = context
        self.kind = kind
        self.token: object = otel_context.attach(context)


class TracerootProcessor(TracingProcessor):  # type: ignore[misc]  # follow_imports = "skip"
    """One per process, registered with the SDK's trace provider while the integration is on."""

    def __init__(self) -> None:
        self.enabled = True
        # By the SDK's trace id (the trace's root span) and span id.
        self._open: dict[str, _Open] = {}
        # Folded spans (task, turn) by id: their parent's record, or None at the top.
        self._folded: dict[str, _Open | None] = {}

    # -- Traces --------------------------------------------------------------------------------
    def on_trace_start(self, trace_: SdkTrace) -> None:
        if not self.enabled:
            return
        with _starting:
            parent = otel_context.get_current()
            group = getattr(trace_, "group_id", None)
            session = None
            if isinstance(group, str) and group and stamping.ids(parent)[0] is None:
                # The SDK's conversation id is the session when no block of the user's sets one.
                session = group
                parent = with_attributes(parent, session_id=group)
            attributes: dict[str, Any] = {}
            metadata = getattr(trace_, "metadata", None)
            if metadata:
                genai.set_json(attributes, semconv.TRACE_METADATA, metadata)
            span = spans.start(
                str(trace_.name), SpanKind.SPAN, parent=parent, attributes=attributes
            )
            if session is not None:
                open_traces.update(span.get_span_context().trace_id, {semconv.SESSION_ID: session})
            self._keep(
                trace_.trace_id, _Open(span, trace.set_span_in_context(span, parent), SpanKind.SPAN)
            )

    def on_trace_end(self, trace_: SdkTrace) -> None:
        record = self._open.pop(trace_.trace_id, None)
        if record is not None:
            _leave(record)
            record.span.end()

    # -- Spans ---------------------------------------------------------------------------------
    def on_span_start(self, span: SdkSpan[Any]) -> None:
        if not self.enabled:
            return
        with _starting:
            data = span.span_data
            parent = self._parent(span)
            if data.type in convert.FOLDED:
                folded = self._folded
                if len(folded) >= _MAX_FOLDED:
                    folded.pop(next(iter(folded)), None)
                folded[span.span_id] = parent
                return
            parent_context = parent.context if parent is not None else otel_context.get_current()
            start = convert.at_start(data)
            started = spans.start(
                start.name, start.kind, parent=parent_context, attributes=start.attributes
            )
            context = trace.set_span_in_context(started, parent_context)
            self._keep(span.span_id, _Open(started, context, start.kind))

    def on_span_end(self, span: SdkSpan[Any]) -> None:
        span_id = span.span_id
        if self._folded.pop(span_id, _NOT_FOLDED) is not _NOT_FOLDED:
            return
        record = self._open.pop(span_id, None)
        if record is None:
            return
        _leave(record)
        attributes: dict[str, Any] = {}
        with _ending:
            name, attributes = convert.at_end(span.span_data)
            if name:
                record.span.update_name(name)
            error = span.error
            if error:
                _record_error(record.span, error)
        if record.kind is SpanKind.LLM:
            # If the provider's own span ran under this one, that is the call's llm span: this
            # one keeps its messages, not the usage.
            genai.set_final(record.span, attributes)
        else:
            with _ending:
                spans.set_attributes(record.span, attributes)
        record.span.end()

    def shutdown(self) -> None:
        """Nothing of its own to flush: spans go through traceroot's provider."""

    def force_flush(self) -> None:
        """Nothing of its own to flush: spans go through traceroot's provider."""

    # -- Records -------------------------------------------------------------------------------
    def _parent(self, span: SdkSpan[Any]) -> _Open | None:
        parent_id = span.parent_id
        if parent_id is None:
            return self._open.get(span.trace_id)
        if parent_id in self._folded:
            return self._folded[parent_id]
        return self._open.get(parent_id)

    def _keep(self, key: str, record: _Open) -> None:
        found = self._open
        if len(found) >= _MAX_OPEN:
            oldest = found.pop(next(iter(found)), None)
            if oldest is not None:
                _abandon(oldest)
        found[key] = record

    def forget(self) -> None:
        self._open.clear()
        self._folded.clear()


def _abandon(record: _Open) -> None:
    """End the span of a run abandoned mid-way, marked so, with what it has. Its context stays
    attached where the run left it (resetting it here, in another context, would undo others')."""
    attributes: dict[str, Any] = {semconv.ABANDONED: True}
    if record.kind is SpanKind.LLM:
        genai.set_final(record.span, attributes)
    else:
        record.span.set_attributes(attributes)
    record.span.end()


def _leave(record: _Open) -> None:
    """Detach the span's context where it was attached. If some other value is current instead
    (another tracer's, left attached), it stays: resetting past it would undo that one's."""
    token, record.token = record.token, None
    if token is None or otel_context.get_current() is not record.context:
        return
    if isinstance(token, contextvars.Token):
        try:
            token.var.reset(token)
        except ValueError:  # made in another Context: it goes when that task or thread does
            pass
    else:  # a runtime context of another kind than OpenTelemetry's default
        otel_context.detach(token)  # type: ignore[arg-type]


def _record_error(span: Span, error: Any) -> None:
    """The SDK's error (a message and a data dict, no exception object): status ERROR,
    ``error.type`` (the exception's type if one is being handled here), one exception event."""
    message = str(error.get("message") or "error")
    data = error.get("data") or {}
    detail = data.get("error") if isinstance(data, dict) else None
    if detail:
        message = f"{message}: {detail}"
    live = sys.exc_info()[1]
    kind = type(live).__name__ if live is not None else _UNKNOWN_ERROR
    span.set_attribute(semconv.ERROR_TYPE, kind)
    span.set_status(trace.Status(trace.StatusCode.ERROR, message))
    span.add_event("exception", {EXCEPTION_TYPE: kind, EXCEPTION_MESSAGE: message})
