"""What every span gets from where it started: the one answer to "who sets ``session.id``".

A span started in a context carries, later sources winning over earlier ones:

1. the configuration's static attributes (environment, git);
2. the session and user another process sent as W3C Baggage (``session.id``, ``user.id``, which
   OpenTelemetry's baggage propagator extracts from an incoming request into the context);
3. OpenInference's ``using_attributes`` values (plain keys in the OpenTelemetry context), so code
   that mixes the two keeps its sessions;
4. traceroot's own blocks (``using_attributes``, ``observe(session_id=...)``, a LangChain run's
   ids), computed once per block;
5. values set for the whole trace with ``update_current_trace`` (or a run's config).

Tags from 3 and 4 join; metadata merges. traceroot's own spans get these in the attribute set they
start with (:func:`traceroot.spans.start`); every other tracer's spans get them from the context
processor, from this same function.
"""

from __future__ import annotations

from typing import Any, Final

from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.trace import Span

from traceroot import secrets, semconv
from traceroot.config import current as current_settings
from traceroot.config import static_attributes
from traceroot.context import attributes_in, get_attributes, normalize_id
from traceroot.serialize import json_object, to_json
from traceroot.trace_state import open_traces

# OpenInference's context keys, and the attribute each stands for.
_OPENINFERENCE_KEYS: Final = (
    (semconv.OPENINFERENCE_SESSION_ID, semconv.SESSION_ID),
    (semconv.OPENINFERENCE_USER_ID, semconv.USER_ID),
    (semconv.OPENINFERENCE_TAGS, semconv.SPAN_TAGS),
    (semconv.OPENINFERENCE_METADATA, semconv.SPAN_METADATA),
)
_OPENINFERENCE_KEYSET: Final = frozenset(key for key, _ in _OPENINFERENCE_KEYS)

# The W3C Baggage entries read, the attribute each stands for, and its name in a warning.
_BAGGAGE_ENTRIES: Final = (
    (semconv.BAGGAGE_SESSION_ID, semconv.SESSION_ID, "session id from baggage"),
    (semconv.BAGGAGE_USER_ID, semconv.USER_ID, "user id from baggage"),
)
# The context key OpenTelemetry keeps Baggage under, learnt once through its public API: reading
# it is the one lookup a span with no baggage pays (``baggage.get_all`` would build a mapping).
_BAGGAGE_KEY: Final = next(iter(baggage.set_baggage("key", "value", otel_context.Context())))


def span_attributes(
    ctx: otel_context.Context | None = None, span: Span | None = None
) -> dict[str, Any]:
    """The attributes a span started in ``ctx`` carries from its context (``ctx`` defaults to the
    current one). ``span``: the span, when it has started already (its trace is then read from
    it, not from the context's span). Empty when there is nothing to stamp. The result may be
    shared: copy it before changing it."""
    if ctx is None:
        ctx = otel_context.get_current()
    attributes = attributes_in(ctx).span_attributes()
    static = static_attributes()
    if static:
        attributes = {**static, **attributes}
    if not _OPENINFERENCE_KEYSET.isdisjoint(ctx):  # nearly always: no such block
        attributes = _with_openinference(attributes, ctx)
    entries = ctx.get(_BAGGAGE_KEY)
    if entries:  # nearly always none in-process; a request another service sent may carry some
        incoming = _read_baggage(entries)
        if incoming:
            attributes = {**incoming, **attributes}
    if open_traces.has_overrides:
        trace_id = (span or trace.get_current_span(ctx)).get_span_context().trace_id
        overrides = open_traces.overrides_of(trace_id)
        if overrides:
            attributes = {**attributes, **overrides}
    return attributes


def ids(ctx: otel_context.Context) -> tuple[str | None, str | None]:
    """The session and user in force in ``ctx``, from traceroot's blocks or OpenInference's.

    Not from incoming Baggage: a framework's own session (a LangChain thread, an ADK session),
    which its integration sets where no block does, is local and wins over what another process
    sent, as a block does."""
    ours = get_attributes(ctx)
    session, user = ours.session_id, ours.user_id
    if session is None:
        found = ctx.get(semconv.OPENINFERENCE_SESSION_ID)
        session = found if isinstance(found, str) else None
    if user is None:
        found = ctx.get(semconv.OPENINFERENCE_USER_ID)
        user = found if isinstance(found, str) else None
    return session, user


# The Baggage last read and what it gave: every span of a request shares its Baggage (a context's
# values never change), so its entries are checked once, not once per span.
_last_read: tuple[object, dict[str, str]] = (None, {})


def _read_baggage(entries: object) -> dict[str, str]:
    """The session and user in W3C Baggage ``entries``. Values from the network: strings only,
    empty ones skipped, cut to the length a local id may have."""
    global _last_read
    read_from, found = _last_read
    if read_from is entries:
        return found
    found = {}
    if isinstance(entries, dict):
        for key, attribute, what in _BAGGAGE_ENTRIES:
            value = entries.get(key)
            checked = normalize_id(value, what) if isinstance(value, str) else None
            if checked:
                found[attribute] = checked
    _last_read = (entries, found)
    return found


def _with_openinference(ours: dict[str, Any], ctx: otel_context.Context) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, attribute in _OPENINFERENCE_KEYS:
        value = ctx.get(key)
        if value is None:
            continue
        if attribute == semconv.SPAN_TAGS:
            if isinstance(value, (list, tuple)):
                found[attribute] = [str(tag) for tag in value]
        elif attribute == semconv.SPAN_METADATA and isinstance(value, str):
            # JSON text another library put in the context: it passes no serialiser of ours.
            found[attribute] = secrets.scrub(value)
        elif isinstance(value, str):
            found[attribute] = value
    if not found:
        return ours
    merged = {**found, **ours}
    if semconv.SPAN_TAGS in found and semconv.SPAN_TAGS in ours:
        merged[semconv.SPAN_TAGS] = list(
            dict.fromkeys([*found[semconv.SPAN_TAGS], *ours[semconv.SPAN_TAGS]])
        )
    if semconv.SPAN_METADATA in found and semconv.SPAN_METADATA in ours:
        merged[semconv.SPAN_METADATA] = _merge_json_objects(
            found[semconv.SPAN_METADATA], ours[semconv.SPAN_METADATA]
        )
    return merged


def _merge_json_objects(under: str, over: str) -> str:
    """Two JSON objects' keys in one (``over`` wins)."""
    merged = {**json_object(under), **json_object(over)}
    return to_json(merged, budget=current_settings().max_attribute_bytes)
