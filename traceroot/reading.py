"""The reader of foreign spans at export: what other tracers wrote, under traceroot's names.

Runs in the export thread, on a copy of each finished span of another tracer's that is GenAI
(:func:`traceroot.foreign.kind_at_start`); traceroot's own spans and every other span pass through
as the same object. See :mod:`traceroot.foreign` for what happens at start.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from opentelemetry.sdk.trace import Event, ReadableSpan

from traceroot import genai, semconv, spans
from traceroot.config import current as current_settings
from traceroot.foreign import FRAMEWORK_SCOPES, covered, export_readers, kind_at_start
from traceroot.guard import contained
from traceroot.model_calls import is_usage, model_calls
from traceroot.serialize import json_object
from traceroot.spans import TRACER_NAME, SpanKind

_reading = contained("reading.read")
_TRACEBACK: Final = "Traceback (most recent call last):\n"
_LLM: Final = SpanKind.LLM.value
_SPAN: Final = SpanKind.SPAN.value
_OPENINFERENCE_OPERATIONS: Final = {
    "LLM": semconv.OPERATION_CHAT,
    "EMBEDDING": semconv.OPERATION_EMBEDDINGS,
    "TOOL": semconv.OPERATION_EXECUTE_TOOL,
    "AGENT": semconv.OPERATION_INVOKE_AGENT,
    "RETRIEVER": semconv.OPERATION_RETRIEVAL,
}


def read(span: ReadableSpan) -> ReadableSpan:
    """``span`` as traceroot exports it: unchanged if it is traceroot's own or not GenAI, else a
    copy with the traceroot and GenAI attributes read from what its tracer wrote."""
    scope = span.instrumentation_scope
    if scope is not None and scope.name == TRACER_NAME:
        return span
    # A plain dict: the span's own mapping raises and catches a KeyError per absent key.
    original = dict(span.attributes or {})
    name = span.name
    events = span.events
    reader = export_readers.get(scope.name) if scope is not None and export_readers else None
    if reader is not None:
        with _reading:
            name = reader(name, original)
        if len(events) > 1:
            with _reading:
                events = _each_exception_once(events)
    kind = original.get(semconv.SPAN_TYPE) or kind_at_start(original)
    if kind is None:
        return span if reader is None else copied(span, original, name, events)
    if covered(FRAMEWORK_SCOPES.get(scope.name if scope else "")):
        kind = _SPAN  # a repeat of traceroot's own span for the same run: counted there
    elif kind == _LLM and semconv.SPAN_TYPE not in original and _saw_a_call_inside(span):
        kind = _SPAN
    attributes = dict(original)
    attributes[semconv.SPAN_TYPE] = kind
    try:
        with _reading:
            if semconv.OPENINFERENCE_SPAN_KIND in original:
                _read_openinference(original, attributes)
            _read_older_genai(original, attributes)
    finally:
        if kind != _LLM:
            # Usage belongs to the one llm span of a call; anything else (a model span that
            # encloses another, a chain that sums its children) would count it twice.
            for key in [key for key in attributes if is_usage(key)]:
                del attributes[key]
    return copied(span, attributes, name, events)


def _each_exception_once(events: Sequence[Event]) -> Sequence[Event]:
    """``events`` without the repeats of an exception: for a span of a framework that records a
    failure on its span itself, then lets it out of ``start_as_current_span``, which records it
    again. A repeat has the type and message of an earlier exception event and its stack, grown
    by the frames the exception left since (at least ``use_span``'s); an exception raised again
    from the same place (a retry) has the same stack, and is kept."""
    kept: list[Event] = []
    earlier: list[tuple[object, object, str]] = []
    for event in events:
        if event.name == semconv.EXCEPTION_EVENT:
            attributes = event.attributes or {}
            kind = attributes.get(semconv.EXCEPTION_TYPE)
            message = attributes.get(semconv.EXCEPTION_MESSAGE)
            # The last section: a chained exception's stack starts with its cause's.
            stack = str(attributes.get(semconv.EXCEPTION_STACKTRACE, "")).rpartition(_TRACEBACK)[2]
            if any(
                (kind, message) == (seen_kind, seen_message)
                and len(stack) > len(seen_stack)
                and stack.endswith(seen_stack)
                for seen_kind, seen_message, seen_stack in earlier
            ):
                continue
            earlier.append((kind, message, stack))
        kept.append(event)
    return events if len(kept) == len(events) else tuple(kept)


def _saw_a_call_inside(span: ReadableSpan) -> bool:
    """For a model span typed only now, when it ended (it took no part in the protocol while it
    ran): whether a model span of the protocol started in its trace while it ran. Such a span
    (OpenInference's LangChain spans are never current, so nothing nests under them) then
    stands beside the call's llm span, not for a call of its own."""
    context = span.context
    if context is None or span.start_time is None or span.end_time is None:
        return False
    return model_calls.started_between(context.trace_id, span.start_time, span.end_time)


def copied(
    span: ReadableSpan,
    attributes: dict[str, Any],
    name: str | None = None,
    events: Sequence[Event] | None = None,
) -> ReadableSpan:
    """``span`` as exported, with these attributes (and name and events, if given)."""
    return ReadableSpan(
        name=span.name if name is None else name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=span.events if events is None else events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


# OpenInference's token counts, as the usage keys genai.set_usage reads.
_OPENINFERENCE_USAGE: Final = {
    semconv.OPENINFERENCE_TOKENS_PROMPT: "input_tokens",
    semconv.OPENINFERENCE_TOKENS_COMPLETION: "output_tokens",
    semconv.OPENINFERENCE_TOKENS_CACHE_READ: "cache_read_input_tokens",
    semconv.OPENINFERENCE_TOKENS_CACHE_WRITE: "cache_creation_input_tokens",
    semconv.OPENINFERENCE_TOKENS_REASONING: "reasoning_tokens",
}
# Older or provider-specific GenAI spellings -> the current ones.
_GENAI_RENAMED: Final = {
    semconv.GEN_AI_USAGE_PROMPT_TOKENS: semconv.GEN_AI_USAGE_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_COMPLETION_TOKENS: semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    semconv.GEN_AI_SYSTEM: semconv.GEN_AI_PROVIDER_NAME,
}


def _set_missing(attributes: dict[str, Any], key: str, value: object) -> None:
    if value is not None and key not in attributes:
        attributes[key] = value


def _read_older_genai(original: Mapping[str, Any], attributes: dict[str, Any]) -> None:
    for old, new in _GENAI_RENAMED.items():
        _set_missing(attributes, new, original.get(old))


def _read_openinference(original: Mapping[str, Any], attributes: dict[str, Any]) -> None:
    oi_kind = original.get(semconv.OPENINFERENCE_SPAN_KIND)
    _set_missing(attributes, semconv.GEN_AI_OPERATION_NAME, _OPENINFERENCE_OPERATIONS.get(oi_kind))  # type: ignore[arg-type]
    # Usage and parameters are recorded by genai, as for traceroot's own spans: one rule.
    read: dict[str, Any] = {}
    genai.set_usage(read, {name: original.get(key) for key, name in _OPENINFERENCE_USAGE.items()})
    parameters = json_object(original.get(semconv.OPENINFERENCE_INVOCATION_PARAMETERS))
    if parameters:
        genai.set_model_parameters(read, parameters, as_json="always")
    for key, value in read.items():
        _set_missing(attributes, key, value)
    model = original.get(semconv.OPENINFERENCE_MODEL_NAME)
    _set_missing(
        attributes,
        semconv.GEN_AI_REQUEST_MODEL,
        model or original.get(semconv.OPENINFERENCE_EMBEDDING_MODEL_NAME),
    )
    _set_missing(attributes, semconv.GEN_AI_RESPONSE_MODEL, model)
    _set_missing(
        attributes,
        semconv.GEN_AI_PROVIDER_NAME,
        original.get(semconv.OPENINFERENCE_PROVIDER) or original.get(semconv.OPENINFERENCE_SYSTEM),
    )
    if oi_kind == "TOOL":
        for key, attribute in (
            (semconv.OPENINFERENCE_TOOL_NAME, semconv.GEN_AI_TOOL_NAME),
            (semconv.OPENINFERENCE_TOOL_DESCRIPTION, semconv.GEN_AI_TOOL_DESCRIPTION),
            (semconv.OPENINFERENCE_TOOL_CALL_ID, semconv.GEN_AI_TOOL_CALL_ID),
        ):
            _set_missing(attributes, attribute, original.get(key))
    if not current_settings().capture_content:
        return
    content: dict[str, Any] = {}
    for key, mime, attribute in (
        (
            semconv.OPENINFERENCE_INPUT_VALUE,
            semconv.OPENINFERENCE_INPUT_MIME_TYPE,
            semconv.SPAN_INPUT,
        ),
        (
            semconv.OPENINFERENCE_OUTPUT_VALUE,
            semconv.OPENINFERENCE_OUTPUT_MIME_TYPE,
            semconv.SPAN_OUTPUT,
        ),
    ):
        if attribute not in attributes and key in original:
            spans.content_into(content, attribute, _value(original.get(key), original.get(mime)))
    for prefix, attribute in (
        (semconv.OPENINFERENCE_INPUT_MESSAGES_PREFIX, semconv.GEN_AI_INPUT_MESSAGES),
        (semconv.OPENINFERENCE_OUTPUT_MESSAGES_PREFIX, semconv.GEN_AI_OUTPUT_MESSAGES),
    ):
        if attribute not in attributes:
            messages = _messages(original, prefix)
            if messages:
                spans.content_into(content, attribute, messages)
    for key, value in content.items():
        _set_missing(attributes, key, value)


def _value(value: object, mime_type: object) -> Any:
    """``input.value`` / ``output.value``: parsed when its mime type says JSON, else the text."""
    if isinstance(value, str) and mime_type == semconv.OPENINFERENCE_MIME_JSON:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _messages(original: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """OpenInference's flattened messages (``llm.input_messages.0.message.role``, ...) in the
    GenAI JSON shape (``{"role", "parts": [...]}``)."""
    fields: dict[int, dict[str, Any]] = {}
    for key, value in original.items():
        if not key.startswith(prefix):
            continue
        index, _, rest = key[len(prefix) :].partition(".message.")
        if index.isdigit() and rest:
            fields.setdefault(int(index), {})[rest] = value
    return [_message(fields[index]) for index in sorted(fields)]


def _message(fields: Mapping[str, Any]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if fields.get("content") is not None:
        parts.append(genai.text_part(fields["content"]))
    contents: dict[int, dict[str, Any]] = {}
    calls: dict[int, dict[str, Any]] = {}
    for key, value in fields.items():
        head, _, rest = key.partition(".")
        position, _, name = rest.partition(".")
        if not position.isdigit():
            continue
        if head == "contents":
            contents.setdefault(int(position), {})[name.removeprefix("message_content.")] = value
        elif head == "tool_calls":
            calls.setdefault(int(position), {})[name.removeprefix("tool_call.")] = value
    for index in sorted(contents):
        part = contents[index]
        if part.get("type") == "text" and part.get("text") is not None:
            parts.append(genai.text_part(part["text"]))
        elif isinstance(url := part.get("image.image.url"), str):
            parts.append(genai.uri_part(url, "image"))
    for index in sorted(calls):
        call = calls[index]
        parts.append(
            genai.tool_call_part(
                call.get("id"), call.get("function.name"), call.get("function.arguments")
            )
        )
    if fields.get("tool_call_id") is not None:  # a tool's result, sent back to the model
        parts = [
            genai.tool_response_part(fields["tool_call_id"], part["content"])
            for part in parts
            if part["type"] == "text"
        ]
    return genai.message(fields.get("role"), parts)
