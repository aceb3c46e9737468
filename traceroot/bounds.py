"""Every text a span carries, cut to the attribute budget on its way out.

Inputs and outputs are cut where they are recorded (:mod:`traceroot.serialize`), but a span's
name, its status description, its events (an exception's message and stack trace) and other
tracers' attributes and tags reach the exporter as they were made: a 10 MB exception message
would be a 10 MB status and 20 MB of events, and a batch no backend accepts. Cutting them here, in
the export thread, bounds every destination at once and costs the app's threads nothing; a span
with nothing over the budget is passed on as it is.

The texts made from the app's own strings rather than through traceroot's JSON (a span's name,
an exception's message and stack trace, tags) have credential shapes taken out here as well
(:func:`traceroot.secrets.redact_shapes`): a connection string in an exception message is as much
a secret as one in an input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Status

from traceroot import semconv
from traceroot.secrets import redact_shapes

_CUT_MARK: Final = "...[cut: {} bytes]"
# A credential straddling the cut is still recognised: the scan reaches this far past it.
_SCAN_PAST_CUT: Final = 512
# Lists of the app's own texts, cleaned like a span's name: tags, and the names of a span's path.
_TEXT_LIST_KEYS: Final = frozenset(
    {semconv.SPAN_TAGS, semconv.TRACE_TAGS, semconv.OPENINFERENCE_TAGS, semconv.SPAN_PATH}
)


def bounded(span: ReadableSpan, budget: int) -> ReadableSpan:
    """``span`` with each text over ``budget`` UTF-8 bytes cut to it; ``span`` itself if none is."""
    name = _clean(span.name, budget)
    status = span.status
    description = status.description
    if description is not None:
        cleaned = _clean(description, budget)
        if cleaned is not description:
            status = Status(status.status_code, cleaned)
    # read once: the SDK hands out a new view of the attributes at each read
    original_attributes, original_events = span.attributes, span.events
    attributes = _bounded_attributes(original_attributes, budget)
    events = _bounded_events(original_events, budget)
    if (
        name is span.name
        and status is span.status
        and attributes is original_attributes
        and events is original_events
    ):
        return span
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _over(text: str, budget: int) -> bool:
    # A character is at most 4 UTF-8 bytes: most texts are decided without encoding them.
    if len(text) * 4 <= budget:
        return False
    return len(text) > budget or len(text.encode("utf-8", "replace")) > budget


def _cut(text: str, budget: int) -> str:
    if not _over(text, budget):
        return text
    encoded = text.encode("utf-8", "replace")
    mark = _CUT_MARK.format(len(encoded))
    keep = max(budget - len(mark), 0)
    return encoded[:keep].decode("utf-8", "ignore") + mark


def _clean(text: str, budget: int) -> str:
    """``text`` without credential shapes, cut to ``budget``; ``text`` itself if neither changed
    it."""
    scanned = text[: budget + _SCAN_PAST_CUT] if len(text) > budget else text
    redacted = redact_shapes(scanned)
    if redacted == scanned:
        return _cut(text, budget)
    return _cut(redacted, budget)


def _bounded_value(value: Any, budget: int, clean: bool = False) -> Any:
    if isinstance(value, str):
        return _clean(value, budget) if clean else _cut(value, budget)
    if isinstance(value, (tuple, list)) and any(isinstance(item, str) for item in value):
        # A list of texts (tags) shares one budget: its items are cut to their share of it.
        total = sum(len(item) for item in value if isinstance(item, str))
        if total * 4 <= budget and not clean:
            return value
        share = max(budget // max(len(value), 1), 16) if total * 4 > budget else budget
        cut_item = _clean if clean else _cut
        cut = tuple(cut_item(item, share) if isinstance(item, str) else item for item in value)
        return value if all(a is b for a, b in zip(cut, value, strict=True)) else cut
    return value


def _bounded_attributes(
    attributes: Mapping[str, Any] | None, budget: int, clean: bool = False
) -> Mapping[str, Any] | None:
    if not attributes:
        return attributes
    changed: dict[str, Any] | None = None
    for key, value in attributes.items():
        bounded_value = _bounded_value(value, budget, clean or key in _TEXT_LIST_KEYS)
        if bounded_value is not value:
            if changed is None:
                changed = dict(attributes)
            changed[key] = bounded_value
    return attributes if changed is None else changed


def _bounded_events(events: Sequence[Event], budget: int) -> Sequence[Event]:
    changed: list[Event] | None = None
    for index, event in enumerate(events):
        # an event's texts (an exception's type, message and stack trace) are the app's own
        attributes = _bounded_attributes(event.attributes, budget, clean=True)
        name = _cut(event.name, budget)
        if attributes is event.attributes and name is event.name:
            continue
        if changed is None:
            changed = list(events)
        changed[index] = Event(name, attributes, event.timestamp)
    return events if changed is None else tuple(changed)
