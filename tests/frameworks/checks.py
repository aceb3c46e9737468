"""The assertions every agent-framework test makes about a run's spans.

Each takes the finished spans (as traceroot's exporters see them, read by
:class:`traceroot.foreign.ReadingExporter`) and fails with the span names, so a failure says
what the trace looked like.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from traceroot import semconv
from traceroot.model_calls import is_usage

from ..conftest import parent_of, span_id, trace_id


def kind(span: ReadableSpan) -> str | None:
    value = (span.attributes or {}).get(semconv.SPAN_TYPE)
    return None if value is None else str(value)


def names(spans: Iterable[ReadableSpan]) -> list[str]:
    return [f"{span.name}[{kind(span)}]" for span in spans]


def one_trace(spans: Sequence[ReadableSpan]) -> ReadableSpan:
    """All ``spans`` are one trace with one root; returns the root."""
    assert spans, "no spans"
    assert len({trace_id(span) for span in spans}) == 1, names(spans)
    ids = {span_id(span) for span in spans}
    roots = [span for span in spans if parent_of(span) not in ids]
    assert len(roots) == 1, f"roots: {names(roots)}"
    return roots[0]


def ancestors(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """``span``'s ancestors among ``spans``, the parent first."""
    by_id = {span_id(each): each for each in spans}
    found = []
    parent = by_id.get(parent_of(span) or 0)
    while parent is not None:
        found.append(parent)
        parent = by_id.get(parent_of(parent) or 0)
    return found


def of_kind(spans: Iterable[ReadableSpan], wanted: str) -> list[ReadableSpan]:
    return [span for span in spans if kind(span) == wanted]


def session_everywhere(spans: Sequence[ReadableSpan], session: str, user: str | None) -> None:
    for span in spans:
        attributes = span.attributes or {}
        assert attributes.get(semconv.SESSION_ID) == session, span.name
        if user is not None:
            assert attributes.get(semconv.USER_ID) == user, span.name


def usage_once(spans: Sequence[ReadableSpan], model_calls: int) -> list[ReadableSpan]:
    """Exactly ``model_calls`` spans carry token usage (compare with the server's own count of
    model requests), each an ``llm`` span; returns them."""
    carrying = [span for span in spans if any(is_usage(key) for key in span.attributes or {})]
    assert all(kind(span) == semconv.TYPE_LLM for span in carrying), names(carrying)
    assert len(carrying) == model_calls, names(carrying)
    llm = of_kind(spans, semconv.TYPE_LLM)
    assert len(llm) == model_calls, names(llm)
    return carrying


def error_once(spans: Sequence[ReadableSpan], tool: ReadableSpan) -> None:
    """The failed tool's span is an error with exactly one exception event, and no other span
    records that exception again (enclosing spans that merely pass it on may be errors too)."""
    assert tool.status.status_code is StatusCode.ERROR, tool.name
    events = [event for event in tool.events if event.name == "exception"]
    assert len(events) == 1, [event.name for event in tool.events]
    message = (events[0].attributes or {}).get("exception.message")
    repeated = [
        span
        for span in spans
        if span is not tool
        and kind(span) == semconv.TYPE_TOOL
        and any(
            event.name == "exception"
            and (event.attributes or {}).get("exception.message") == message
            for event in span.events
        )
    ]
    assert not repeated, names(repeated)
