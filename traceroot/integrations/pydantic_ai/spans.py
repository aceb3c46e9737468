"""Pydantic AI's spans as traceroot reads them: what the GenAI reader cannot know on its own.

Registered for the ``pydantic-ai`` instrumentation scope (:func:`traceroot.foreign.read_scope`):

- at start, an agent run's ``gen_ai.conversation.id`` becomes its trace's session, unless the
  context (``using_attributes``, ``update_current_trace``) named one already;
- at export, an agent run's span is named after the agent, with the run's prompt and final
  result as its input and output; a tool's span is named after the tool; a model request's
  reasoning tokens get the GenAI name; with content off, no content and no outline of the
  messages is kept, whatever settings the agent was instrumented with. Everything else
  (``gen_ai.input.messages``, ``gen_ai.output.messages``, usage, ``gen_ai.tool.call.arguments``
  / ``result``) is in the GenAI conventions already.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.sdk.trace import Span

from traceroot import foreign, semconv, spans
from traceroot.config import current as current_settings
from traceroot.trace_state import open_traces

# Pydantic AI's own names (see pydantic_ai._instrumentation): no other integration reads them.
CONVERSATION_ID: Final = semconv.GEN_AI_CONVERSATION_ID
AGENT_NAME: Final = semconv.GEN_AI_AGENT_NAME
ALL_MESSAGES: Final = "pydantic_ai.all_messages"
FINAL_RESULT: Final = "final_result"
REASONING_TOKENS: Final = "gen_ai.usage.details.reasoning_tokens"
_AGENT_PREFIX: Final = "invoke_agent "
_TOOL_PREFIX: Final = "execute_tool "
_AGENT_RUN: Final = "agent run"  # data format 2 and older
_RUNNING_TOOL: Final = "running tool"
_OLD_AGENT_NAME: Final = "agent_name"
_TOOL_RESPONSE: Final = "tool_call_response"
# With content off, Pydantic AI still writes its messages' outline (roles, part types, tool
# names); traceroot's spans then hold no messages at all, and neither do these. The content keys
# go too, for an agent given Pydantic AI's own settings (``instrument=True``), which keep it.
# Data formats 1 and 2 (an agent given them itself) keep messages in ``events`` and a tool's
# arguments and result in ``tool_arguments`` / ``tool_response``.
_CONTENT: Final = (ALL_MESSAGES, FINAL_RESULT, "events", "tool_arguments", "tool_response")


def at_start(span: Span) -> None:
    """An agent run's conversation is its trace's session (as ``update_current_trace`` would set
    it: every span of the trace gets it) when nothing named a session."""
    attributes = span.attributes or {}
    operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
    if operation is None:
        operation = _type_older(span, attributes)
    if operation != semconv.OPERATION_INVOKE_AGENT:
        return
    conversation = attributes.get(CONVERSATION_ID)
    if not conversation or semconv.SESSION_ID in attributes:
        return  # stamped from a block or the trace's values: those win
    trace_id = span.get_span_context().trace_id
    # The processor records the span as open after the readers run; the trace's values need
    # an open span to hang on (a run's span is often the root).
    open_traces.opened(span)
    open_traces.update(trace_id, {semconv.SESSION_ID: str(conversation)})


def _type_older(span: Span, attributes: Mapping[str, Any]) -> str | None:
    """Before data format 5 (older versions of Pydantic AI, or an agent given format 2 or 3
    itself), agent and tool spans carry no ``gen_ai.operation.name``: their names say what they
    are (``invoke_agent <agent>`` / ``agent run``, ``execute_tool <tool>`` / ``running tool``)."""
    name = span.name
    if name.startswith(_AGENT_PREFIX) or name == _AGENT_RUN:
        agent = attributes.get(_OLD_AGENT_NAME) or name.removeprefix(_AGENT_PREFIX)
        kind, operation = semconv.TYPE_AGENT, semconv.OPERATION_INVOKE_AGENT
        span.set_attribute(AGENT_NAME, agent)
    elif name.startswith(_TOOL_PREFIX) or name == _RUNNING_TOOL:
        kind, operation = semconv.TYPE_TOOL, semconv.OPERATION_EXECUTE_TOOL
    else:
        return None
    span.set_attributes({semconv.SPAN_TYPE: kind, semconv.GEN_AI_OPERATION_NAME: operation})
    return operation


def at_export(name: str, attributes: dict[str, Any]) -> str:
    """Read one finished span's attributes in place; returns its name."""
    if not current_settings().capture_content:
        foreign.drop_content(attributes, _CONTENT)
    operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
    if operation == semconv.OPERATION_CHAT:
        reasoning = attributes.get(REASONING_TOKENS)
        if reasoning is not None:
            attributes.setdefault(semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoning)
        return name
    if operation == semconv.OPERATION_EXECUTE_TOOL:
        tool = attributes.get(semconv.GEN_AI_TOOL_NAME)
        return tool if isinstance(tool, str) and tool else name
    if operation == semconv.OPERATION_INVOKE_AGENT:
        _read_run(attributes)
        agent = attributes.get(AGENT_NAME)
        return agent if isinstance(agent, str) and agent else name
    return name


def _read_run(attributes: dict[str, Any]) -> None:
    """An agent run's prompt and result as the span's input and output (Pydantic AI records
    them only with content on)."""
    content: dict[str, Any] = {}
    if semconv.SPAN_INPUT not in attributes:
        prompt = _prompt(attributes.get(ALL_MESSAGES))
        if prompt is not None:
            spans.content_into(content, semconv.SPAN_INPUT, prompt)
    if semconv.SPAN_OUTPUT not in attributes and FINAL_RESULT in attributes:
        spans.content_into(content, semconv.SPAN_OUTPUT, _result(attributes))
    attributes.update(content)


def _prompt(messages: object) -> Any:
    """The text of the run's last user message (its prompt), or its parts when not all text.
    Tool results are messages of their own (of role ``user`` before data format 6): skipped."""
    if not isinstance(messages, str):
        return None
    try:
        parsed = json.loads(messages)
    except ValueError:
        return None
    if not isinstance(parsed, list):
        return None
    for message in reversed(parsed):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        parts = message.get("parts")
        if not isinstance(parts, list) or not parts:
            continue
        kinds = [part.get("type") if isinstance(part, dict) else None for part in parts]
        if all(kind == _TOOL_RESPONSE for kind in kinds):
            continue
        texts = [part.get("content") for part in parts if isinstance(part, dict)]
        if all(kind == "text" for kind in kinds):
            strings = [text for text in texts if isinstance(text, str)]
            if len(strings) == len(parts):
                return "\n".join(strings)
        return parts
    return None


def _result(attributes: dict[str, Any]) -> Any:
    """``final_result``: a text output as it is; a structured one (Pydantic AI writes it as JSON
    text) as its value."""
    result = attributes[FINAL_RESULT]
    if isinstance(result, str) and result[:1] in ("{", "["):
        try:
            return json.loads(result)
        except ValueError:
            return result
    return result
