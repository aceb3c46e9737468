"""How traceroot reads the spans of Agent Framework's own telemetry (scope ``agent_framework``).

Agent Framework starts its ``invoke_agent``, ``chat`` and ``embeddings`` spans bare and sets their
GenAI attributes a moment later, so the reader of foreign spans could type them only when they
end. Their names say what they are (``"<operation> <agent or model>"``): typed at start from the
name, a ``chat`` span takes part in the one-llm-span-per-call protocol like any model span, so
when traceroot's OpenAI integration records the request inside it, the ``chat`` span becomes a
plain span without usage while it still runs.

The agent span's ``gen_ai.conversation.id`` (the session's service id, or the conversation id an
app set) is the trace's session when no ``using_attributes`` block names one.
"""

from __future__ import annotations

from typing import Any, Final

from opentelemetry.sdk.trace import Span

from traceroot import semconv
from traceroot.config import current as current_settings
from traceroot.model_calls import model_calls
from traceroot.trace_state import open_traces

SCOPE: Final = "agent_framework"

_KINDS: Final = {
    semconv.OPERATION_INVOKE_AGENT: semconv.TYPE_AGENT,
    semconv.OPERATION_CHAT: semconv.TYPE_LLM,
    semconv.OPERATION_EMBEDDINGS: semconv.TYPE_LLM,
    semconv.OPERATION_EXECUTE_TOOL: semconv.TYPE_TOOL,
}
_AGENT_PREFIX: Final = semconv.OPERATION_INVOKE_AGENT + " "
# What Agent Framework records only with its sensitive data on: dropped at export as well when
# content capture is off, so a change of the setting after instrument() still holds.
_CONTENT: Final = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
    semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
    semconv.GEN_AI_TOOL_CALL_RESULT,
    semconv.SPAN_INPUT,
    semconv.SPAN_OUTPUT,
)
# How far up to look for the agent span whose conversation is the session (an agent used as a
# tool of another sits a few spans below it).
_MAX_WALK: Final = 8


def at_start(span: Span) -> None:
    """Type the span from its name and give the trace the agent's conversation as session."""
    attributes = dict(span.attributes or {})
    if semconv.SPAN_TYPE not in attributes:
        kind = _KINDS.get(span.name.partition(" ")[0])
        if kind is not None:
            span.set_attribute(semconv.SPAN_TYPE, kind)
            if kind == semconv.TYPE_LLM:
                model_calls.started(span, foreign=True)
    if semconv.SESSION_ID in attributes:
        return  # a using_attributes block, or the trace's session already
    conversation = _conversation_above(span)
    if conversation is not None:
        span.set_attribute(semconv.SESSION_ID, conversation)
        # The trace's session from here on, as update_current_trace sets one: the agent span
        # and every open ancestor get it, and every span that starts later.
        open_traces.update(span.get_span_context().trace_id, {semconv.SESSION_ID: conversation})


def at_export(name: str, attributes: dict[str, Any]) -> str:
    """The agent span's conversation as its session (an agent span with no span under it);
    content dropped when capture is off."""
    if semconv.SESSION_ID not in attributes and name.startswith(_AGENT_PREFIX):
        conversation = attributes.get(semconv.GEN_AI_CONVERSATION_ID)
        if isinstance(conversation, str) and conversation:
            attributes[semconv.SESSION_ID] = conversation
    if not current_settings().capture_content:
        for key in _CONTENT:
            attributes.pop(key, None)
    return name


def _conversation_above(span: Span) -> str | None:
    parent = span.parent
    for _ in range(_MAX_WALK):
        if parent is None:
            return None
        above = open_traces.span(parent.trace_id, parent.span_id)
        if above is None:
            return None
        if getattr(above, "name", "").startswith(_AGENT_PREFIX):
            found = (getattr(above, "attributes", None) or {}).get(semconv.GEN_AI_CONVERSATION_ID)
            if isinstance(found, str) and found:
                return found
        parent = getattr(above, "parent", None)
    return None
