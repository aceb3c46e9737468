"""Span kinds and the one span lifecycle: start, input, output, error, end.

``@observe``, ``start_span`` and every integration start and finish spans through these functions,
so status, error events and the size budget are handled the same way everywhere.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from traceroot import secrets, semconv, stamping
from traceroot.config import Settings
from traceroot.config import current as current_settings
from traceroot.guard import contained
from traceroot.logs import warn_once
from traceroot.model_calls import model_calls
from traceroot.serialize import exportable, to_json_checked, to_text_checked

TRACER_NAME: Final = "traceroot"


class SpanKind(str, enum.Enum):
    """What a span stands for; sent as ``traceroot.span.type``."""

    SPAN = semconv.TYPE_SPAN
    AGENT = semconv.TYPE_AGENT
    TOOL = semconv.TYPE_TOOL
    LLM = semconv.TYPE_LLM

    def __str__(self) -> str:
        return self.value


_KINDS: Final = {kind.value: kind for kind in SpanKind}


def parse_kind(value: object) -> SpanKind:
    """A :class:`SpanKind` from an enum member or its name; anything else warns and gives SPAN."""
    if isinstance(value, SpanKind):
        return value
    if isinstance(value, str):
        kind = _KINDS.get(value.strip().lower())
        if kind is not None:
            return kind
    warn_once(
        f"kind:{value!r}",
        "traceroot: span type %r is not one of %s; using 'span'",
        value,
        ", ".join(_KINDS),
    )
    return SpanKind.SPAN


# -- The tracer ----------------------------------------------------------------------------------
_tracer: Tracer | None = None


def tracer() -> Tracer:
    """traceroot's tracer on the global provider (a proxy until one is set, then the real one).

    A proxy keeps spans of functions observed before ``instrument()`` flowing once it has run.
    """
    global _tracer
    found = _tracer
    if found is None:
        found = _tracer = trace.get_tracer(TRACER_NAME, _version())
    return found


def reset_tracer() -> None:
    """Forget the cached tracer, so the next span resolves the provider in force now."""
    global _tracer
    _tracer = None


def _version() -> str:
    from traceroot._version import __version__

    return __version__


# -- Lifecycle -----------------------------------------------------------------------------------
def start(
    name: str,
    kind: SpanKind,
    *,
    parent: otel_context.Context | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Span:
    """Start a span of ``kind``; errors are recorded by :func:`record_error`, never twice.

    What the context gives every span (:mod:`traceroot.stamping`) goes into the span's first
    attribute set (the context processor leaves traceroot's spans alone): one write, not two.
    """
    # ``_value_``: ``.value`` is a property of Enum's, several times slower, on every span.
    span_attributes = {**stamping.span_attributes(parent), semconv.SPAN_TYPE: kind._value_}
    if attributes:
        span_attributes.update(attributes)
    span = tracer().start_span(
        exportable(name),
        context=parent,
        attributes=span_attributes,
        record_exception=False,
        set_status_on_exception=False,
    )
    if kind is SpanKind.LLM and span.is_recording():
        # Here rather than in the processor, which would have to read the span's attributes.
        model_calls.started(span, foreign=False)
    return span


def set_json(
    span: Span, key: str, value: Any, *, content: bool = True, as_text: bool = False
) -> None:
    """Set ``key`` to ``value`` as JSON within the attribute budget, noting any truncation.

    ``content`` values (inputs, outputs, messages) first pass through the user's ``redact`` hook;
    if the hook fails, the value is withheld rather than recorded unredacted. ``as_text``: a
    string is recorded as itself, not as a JSON string (inputs and outputs, which users read).
    """
    text, truncated = _json_text(value, content, as_text=as_text)
    span.set_attribute(key, text)
    if truncated:
        previous = getattr(span, "attributes", None) or {}
        names = list(previous.get(semconv.TRUNCATED, ()))
        if key not in names:
            span.set_attribute(semconv.TRUNCATED, [*names, key])


def set_attributes(span: Span, attributes: Mapping[str, Any]) -> None:
    """Set attributes filled by :func:`json_into` on a span that may already note truncations:
    the notes join the span's, instead of replacing them."""
    truncated = attributes.get(semconv.TRUNCATED)
    if truncated:
        previous = getattr(span, "attributes", None) or {}
        known = tuple(previous.get(semconv.TRUNCATED, ()))
        attributes = {**attributes, semconv.TRUNCATED: list(dict.fromkeys((*known, *truncated)))}
    span.set_attributes(attributes)


def json_into(attributes: dict[str, Any], key: str, value: Any, *, content: bool = True) -> None:
    """Like :func:`set_json`, into a dict of attributes that is set on a span in one call."""
    _into(attributes, key, value, content, current_settings())


def content_into(
    attributes: dict[str, Any], key: str, value: Any, *, as_text: bool = False
) -> None:
    """:func:`json_into` for content, unless content capture is off (one settings read for
    both: every instrumented call records a few of these). ``as_text`` as for
    :func:`set_json`."""
    settings = current_settings()
    if settings.capture_content:
        _into(attributes, key, value, True, settings, as_text)


def _into(
    attributes: dict[str, Any],
    key: str,
    value: Any,
    content: bool,
    settings: Settings,
    as_text: bool = False,
) -> None:
    text, truncated = _json_text(value, content, settings, as_text)
    attributes[key] = text
    if truncated:
        attributes[semconv.TRUNCATED] = [*attributes.get(semconv.TRUNCATED, ()), key]


def prewritten_into(attributes: dict[str, Any], key: str, text: str) -> bool:
    """Record ``text``, content JSON the caller wrote itself with only traceroot's own object
    keys, when nothing else needs the value: no redact hook, within the attribute budget,
    exportable (no lone surrogate), no credential-shaped text, and no secret-named key in a
    text that is JSON itself (``{"password": ...}`` as a message's content, which the general
    path redacts inside). ``True`` when that is done, or when content capture is off and there
    is nothing to do; ``False``: take :func:`content_into`."""
    settings = current_settings()
    if not settings.capture_content:
        return True
    if settings.redact is not None:
        return False
    if text.isascii():
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            return False
    if size > settings.max_attribute_bytes or secrets.has_credential_shapes(text):
        return False  # a credential in a message's text: the general path redacts it
    # A key inside a message's text is escaped (``\"password\":``), traceroot's own are not:
    # only text holding JSON pays for the key scan.
    if '\\":' in text and secrets.contains_secret_keys(text):
        return False
    attributes[key] = text
    return True


def _json_text(
    value: Any, content: bool, settings: Settings | None = None, as_text: bool = False
) -> tuple[str, bool]:
    settings = settings or current_settings()
    if content and settings.redact is not None:
        try:
            value = settings.redact(value)
        except Exception as error:  # noqa: BLE001 - fail closed: record nothing of the value
            warn_once(
                "redact:failed", "traceroot: the redact hook failed (%r); value withheld", error
            )
            value = "<withheld: redact hook failed>"
    # Secrets are taken out there, for content and everything else alike.
    if as_text:
        return to_text_checked(value, budget=settings.max_attribute_bytes)
    return to_json_checked(value, budget=settings.max_attribute_bytes)


def record_error(span: Span, error: BaseException) -> None:
    """Mark ``span`` failed by ``error``: status ERROR, ``error.type``, one exception event."""
    name = type(error).__name__
    span.set_attribute(semconv.ERROR_TYPE, name)
    span.set_status(Status(StatusCode.ERROR, f"{name}: {error}"))
    span.record_exception(error)


class ObservedSpan:
    """A span of traceroot's, as user code sees it inside ``start_span`` or an observed function.

    ``set_input``/``set_output`` obey ``capture_input``/``capture_output`` and the content switch;
    nothing here raises into the caller.
    """

    __slots__ = ("_capture_input", "_capture_output", "span")

    def __init__(self, span: Span, *, capture_input: bool = True, capture_output: bool = True):
        self.span = span
        self._capture_input = capture_input
        self._capture_output = capture_output

    @property
    def trace_id(self) -> str:
        return format(self.span.get_span_context().trace_id, "032x")

    @property
    def span_id(self) -> str:
        return format(self.span.get_span_context().span_id, "016x")

    def set_input(self, value: Any) -> None:
        if self._capture_input and current_settings().capture_content:
            with _recording:
                set_json(self.span, semconv.SPAN_INPUT, value, as_text=True)

    def set_output(self, value: Any) -> None:
        if self._capture_output and current_settings().capture_content:
            with _recording:
                set_json(self.span, semconv.SPAN_OUTPUT, value, as_text=True)

    def set_attribute(self, key: str, value: Any) -> None:
        """Set any attribute; values OpenTelemetry cannot hold are stored as JSON."""
        with _recording:
            if isinstance(value, str):
                self.span.set_attribute(key, exportable(value))
            elif isinstance(value, (bool, int, float)):
                self.span.set_attribute(key, value)
            else:
                set_json(self.span, key, value)

    def record_error(self, error: BaseException) -> None:
        with _recording:
            record_error(self.span, error)


_recording = contained("spans.record")
