"""An ``@observe`` agent or tool span in the terms other readers of GenAI telemetry look for.

traceroot types a span with ``traceroot.span.type`` and records its input and output under
``traceroot.span.input``/``output``: what the TraceRoot backend reads. A backend that reads the
OpenTelemetry GenAI conventions looks for ``gen_ai.operation.name`` instead, and one that reads
OpenInference's (Arize Phoenix) for ``openinference.span.kind`` and ``input.value`` /
``output.value``; without them an observed agent is listed there as "unknown", with no input. So
an agent or tool span of ``@observe``/``start_span`` also carries:

- agent: ``gen_ai.operation.name=invoke_agent``, ``gen_ai.agent.name``, the session as
  ``gen_ai.conversation.id``; ``openinference.span.kind=AGENT`` with ``input.value`` and
  ``output.value`` (the GenAI conventions have no place for an agent's input other than chat
  messages, which a function's arguments are not);
- tool: ``gen_ai.operation.name=execute_tool``, ``gen_ai.tool.name``,
  ``gen_ai.tool.call.arguments``/``result``; ``openinference.span.kind=TOOL`` (Phoenix reads a
  tool's arguments and result from the GenAI names, so they are not written a third time).

The kind and name are set when the span starts (the conventions want the operation known then, for
sampling); the rest when it ends, copied from the span's own final values, so whatever set them
(the call, ``update_current_span``, ``span.set_output``, ``update_current_trace``) is reflected.
Content is copied only where it was recorded, so the content switch and the redact hook hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.trace import Span

from traceroot import semconv
from traceroot.serialize import exportable
from traceroot.spans import SpanKind

_OPERATIONS: Final = {
    SpanKind.AGENT: (
        semconv.OPERATION_INVOKE_AGENT,
        semconv.GEN_AI_AGENT_NAME,
        semconv.OPENINFERENCE_KIND_AGENT,
    ),
    SpanKind.TOOL: (
        semconv.OPERATION_EXECUTE_TOOL,
        semconv.GEN_AI_TOOL_NAME,
        semconv.OPENINFERENCE_KIND_TOOL,
    ),
}
# Where each convention wants the span's input and output: (input, output, their mime types).
_CONTENT: Final = {
    SpanKind.AGENT: (
        semconv.OPENINFERENCE_INPUT_VALUE,
        semconv.OPENINFERENCE_OUTPUT_VALUE,
        semconv.OPENINFERENCE_INPUT_MIME_TYPE,
        semconv.OPENINFERENCE_OUTPUT_MIME_TYPE,
    ),
    SpanKind.TOOL: (semconv.GEN_AI_TOOL_CALL_ARGUMENTS, semconv.GEN_AI_TOOL_CALL_RESULT, "", ""),
}


def described(kind: SpanKind) -> bool:
    """Whether spans of ``kind`` get the attributes of this module."""
    return kind in _OPERATIONS


def start_attributes(kind: SpanKind, name: str) -> dict[str, Any]:
    """What a span of ``kind`` named ``name`` starts with, beside traceroot's own attributes."""
    found = _OPERATIONS.get(kind)
    if found is None:
        return {}
    operation, name_key, openinference_kind = found
    return {
        semconv.GEN_AI_OPERATION_NAME: operation,
        name_key: exportable(name),  # as the span's name is: a lone surrogate would lose a batch
        semconv.OPENINFERENCE_SPAN_KIND: openinference_kind,
    }


def end_attributes(kind: SpanKind, span: Span, name: str, ending: dict[str, Any]) -> None:
    """Add to ``ending`` (the attributes the span is about to end with) the names this module
    gives its name, session, input and output. ``name``: the name it started with."""
    recorded: Mapping[str, Any] = getattr(span, "attributes", None) or {}
    operation = _OPERATIONS.get(kind)
    content = _CONTENT.get(kind)
    if operation is None or content is None:
        return
    current_name = getattr(span, "name", name)
    if current_name != name:  # renamed by update_current_span
        ending[operation[1]] = current_name
    if kind is SpanKind.AGENT:
        # The conventions place gen_ai.conversation.id on agent invocations and model calls only
        # (not on tools or plain spans). session.id, which traceroot.stamping puts on every span,
        # is what session views read (Phoenix and the TraceRoot backend among them), so the
        # conversation id is added where a GenAI-only reader looks for it: the agent span. (Model
        # call spans are recorded by traceroot.genai, not here.)
        session = recorded.get(semconv.SESSION_ID)
        if isinstance(session, str) and session:
            ending[semconv.GEN_AI_CONVERSATION_ID] = session
    input_key, output_key, input_mime, output_mime = content
    # The output the span ends with, else one set while it ran (update_current_span).
    output = ending.get(semconv.SPAN_OUTPUT, recorded.get(semconv.SPAN_OUTPUT))
    for text, key, mime in (
        (recorded.get(semconv.SPAN_INPUT), input_key, input_mime),
        (output, output_key, output_mime),
    ):
        if isinstance(text, str):
            ending[key] = text
            if mime and _looks_like_json(text):
                ending[mime] = semconv.OPENINFERENCE_MIME_JSON


def _looks_like_json(text: str) -> bool:
    """An object or a list: how a value that is not a string is recorded (a string is recorded as
    itself, and OpenInference takes text without a mime type as plain text)."""
    return text[:1] in ("{", "[") and text[-1:] in ("}", "]")
