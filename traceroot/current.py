"""What code inside a span can do to it and its trace: ``update_current_span``,
``update_current_trace`` and the current trace and span ids.

Each works on whatever span is current (one of ``@observe``, ``start_span``, an integration's or
another library's) and does nothing outside a span.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import semconv, spans
from traceroot.config import current as current_settings
from traceroot.context import normalize_id, normalize_metadata, normalize_tags
from traceroot.guard import contained
from traceroot.model_calls import model_calls
from traceroot.serialize import exportable, json_object, to_json
from traceroot.trace_state import open_traces

_updating = contained("observe.update")


def update_current_span(
    *,
    name: str | None = None,
    input: Any = None,  # noqa: A002 - the TraceRoot SDK's keyword
    output: Any = None,
    metadata: Mapping[str, Any] | None = None,
    model: str | None = None,
    model_parameters: Mapping[str, Any] | None = None,
    usage: Mapping[str, Any] | Any = None,
    prompt: Any = None,
) -> None:
    """Add what is known only mid-call to the current span: output, model, token usage, ...

    ``usage`` takes ``input_tokens``/``output_tokens`` (or ``prompt_tokens``/``completion_tokens``,
    cached and reasoning counts)::

        @observe(type="llm")
        def call_model(prompt: str) -> str:
            reply = my_client.generate(prompt)
            update_current_span(model="my-model", usage={"input_tokens": 12, "output_tokens": 40})
            return reply.text
    """
    span = trace.get_current_span()
    if not span.is_recording():
        return
    with _updating:
        if name is not None:
            span.update_name(exportable(str(name)))
        content = current_settings().capture_content
        # Strings as themselves, as the user wrote them (not JSON strings), as @observe records.
        if content and input is not None:
            spans.set_json(span, semconv.SPAN_INPUT, input, as_text=True)
        if content and output is not None:
            spans.set_json(span, semconv.SPAN_OUTPUT, output, as_text=True)
        if content and prompt is not None:
            spans.set_json(span, semconv.LLM_PROMPT, prompt, as_text=True)
        if metadata is not None:
            merged = {
                **_read_json_object(span, semconv.SPAN_METADATA),
                **normalize_metadata(metadata),
            }
            spans.set_json(span, semconv.SPAN_METADATA, merged, content=False)
        # Recorded by genai, as every integration records them: one rule for what is kept.
        # (Imported here: ``import traceroot`` does not load the model-call engine.)
        from traceroot import genai

        attributes: dict[str, Any] = {}
        if model is not None:
            attributes[semconv.GEN_AI_REQUEST_MODEL] = str(model)
        if model_parameters is not None:
            genai.set_model_parameters(attributes, model_parameters, as_json="always")
        if usage is not None:
            counts: dict[str, Any] = {}
            genai.set_usage(counts, usage)
            # On a model span of traceroot's, usage waits for its end: if a model call turns out
            # to run inside, that one carries it (one usage-carrying span per call).
            if not model_calls.hold_usage(span, counts):
                attributes.update(counts)
        if attributes:
            spans.set_attributes(span, attributes)


def _read_json_object(span: Span, key: str) -> dict[str, Any]:
    attributes = getattr(span, "attributes", None) or {}
    return json_object(attributes.get(key))


def update_current_trace(
    *,
    session_id: str | None = None,
    user_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
) -> None:
    """Set trace-level values from anywhere inside a trace.

    They reach the trace's root span, every span still running, and every span that starts later
    in the trace, so a session decided midway is recorded on the whole trace::

        @observe(type="agent")
        def handle(request):
            update_current_trace(session_id=request.conversation_id, user_id=request.user)
            return respond(request)
    """
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return
    with _updating:
        previous = open_traces.overrides(span_context.trace_id)
        attributes: dict[str, Any] = {}
        session = normalize_id(session_id, "session_id")
        user = normalize_id(user_id, "user_id")
        if session is not None:
            attributes[semconv.SESSION_ID] = session
        if user is not None:
            attributes[semconv.USER_ID] = user
        new_tags = normalize_tags(tags)
        if new_tags:
            known = tuple(previous.get(semconv.TRACE_TAGS, ()))  # type: ignore[arg-type]
            attributes[semconv.TRACE_TAGS] = list(dict.fromkeys(known + new_tags))
        new_metadata = normalize_metadata(metadata)
        if new_metadata:
            known_metadata = previous.get(semconv.TRACE_METADATA)
            merged = {**json_object(known_metadata), **new_metadata}
            budget = current_settings().max_attribute_bytes
            attributes[semconv.TRACE_METADATA] = to_json(merged, budget=budget)
        if attributes and not open_traces.update(span_context.trace_id, attributes):
            # Not tracked (the span comes from a provider without our processor): do what we can.
            trace.get_current_span().set_attributes(attributes)


def get_current_trace_id() -> str | None:
    """The current trace's id as 32 hex digits, or ``None`` outside a trace."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def get_current_span_id() -> str | None:
    """The current span's id as 16 hex digits, or ``None`` outside a span."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.span_id, "016x") if span_context.is_valid else None
