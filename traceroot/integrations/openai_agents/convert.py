"""The Agents SDK's span data, read as traceroot spans: a name, a kind and attributes at start,
more attributes when the span ends.

One function per moment, dispatching on the span data's ``type`` (a string every version of the
SDK has), so a span type a later version adds is a plain span named after its type, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from traceroot import genai, semconv
from traceroot.genai import Attributes, field
from traceroot.spans import SpanKind

PROVIDER: Final = "openai"
# The SDK's spans that are no span of traceroot's: their children belong to their parent. A task
# is one run, which the trace's root span (named after the workflow, as the task is) or the span
# that started the run already stands for; a turn groups one model call and the tools it asked
# for, which the agent span already does. Both repeat usage totals that must not be counted again.
FOLDED: Final = frozenset({"task", "turn"})


class Start(NamedTuple):
    name: str
    kind: SpanKind
    attributes: Attributes


def at_start(data: Any) -> Start:
    """Name, kind and first attributes of a span with this span data."""
    kind = data.type
    if kind == "agent":
        name = str(data.name)
        return Start(
            name,
            SpanKind.AGENT,
            {
                semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_INVOKE_AGENT,
                semconv.GEN_AI_AGENT_NAME: name,
            },
        )
    if kind == "function":
        name = str(data.name)
        attributes: Attributes = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_EXECUTE_TOOL,
            semconv.GEN_AI_TOOL_NAME: name,
        }
        return Start(name, SpanKind.TOOL, attributes)
    if kind == "generation":
        model = data.model
        attributes = _model_request(model, data.model_config)
        return Start(_model_span_name(model), SpanKind.LLM, attributes)
    if kind == "response":
        # The model is known only from the response, when the span ends.
        return Start(semconv.OPERATION_CHAT, SpanKind.LLM, _model_request(None, None))
    if kind == "handoff":
        return Start(f"handoff from {data.from_agent}", SpanKind.SPAN, {})
    if kind in ("guardrail", "custom"):
        return Start(str(data.name), SpanKind.SPAN, {})
    if kind == "mcp_tools":
        server = getattr(data, "server", None)
        return Start(f"mcp list tools {server}" if server else "mcp list tools", SpanKind.SPAN, {})
    return Start(str(kind), SpanKind.SPAN, {})


def at_end(data: Any) -> tuple[str | None, Attributes]:
    """A new name for the span, if it has one now, and its last attributes."""
    kind = data.type
    attributes: Attributes = {}
    name = None
    if kind == "function":
        genai.set_content(attributes, semconv.GEN_AI_TOOL_CALL_ARGUMENTS, _parsed(data.input))
        genai.set_content(attributes, semconv.GEN_AI_TOOL_CALL_RESULT, data.output)
    elif kind == "generation":
        _generation(data, attributes)
    elif kind == "response":
        name = _response(data, attributes)
    elif kind == "handoff":
        name = f"handoff {data.from_agent} -> {data.to_agent}"
        genai.set_content(attributes, semconv.SPAN_INPUT, {"from_agent": data.from_agent})
        genai.set_content(attributes, semconv.SPAN_OUTPUT, {"to_agent": data.to_agent})
    elif kind == "guardrail":
        attributes[semconv.GUARDRAIL_TRIGGERED] = bool(data.triggered)
    elif kind == "custom":
        genai.set_content(attributes, semconv.SPAN_OUTPUT, data.data or None)
    elif kind == "mcp_tools":
        genai.set_content(attributes, semconv.SPAN_OUTPUT, getattr(data, "result", None))
    return name, attributes


# -- Model calls -----------------------------------------------------------------------------------
def _model_span_name(model: object) -> str:
    return f"{semconv.OPERATION_CHAT} {model}" if model else semconv.OPERATION_CHAT


def _model_request(model: object, config: object) -> Attributes:
    attributes: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_CHAT,
        semconv.GEN_AI_PROVIDER_NAME: PROVIDER,
    }
    genai.set_if(attributes, semconv.GEN_AI_REQUEST_MODEL, model)
    if isinstance(config, Mapping):
        genai.set_model_parameters(attributes, config)
    return attributes


def _generation(data: Any, attributes: Attributes) -> None:
    """A Chat Completions call: messages in that API's shape (the output, when streamed, as the
    Responses-shaped object the SDK builds from the chunks)."""
    genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, chat_messages(data.input))
    output = data.output or []
    messages = []
    for item in output:
        if isinstance(field(item, "output"), list):  # a response object's dump
            messages.append(output_message(field(item, "output")))
            genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, field(item, "model"))
            genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, field(item, "id"))
        else:
            messages.extend(chat_messages([item]) or [])
    genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, messages or None)
    _usage(data.usage, attributes)


def _response(data: Any, attributes: Attributes) -> str | None:
    """A Responses API call: the response object the SDK kept, and the input it sent."""
    response = data.response
    messages = []
    instructions = field(response, "instructions") if response is not None else None
    if isinstance(instructions, str) and instructions:
        messages.append(genai.message("system", [genai.text_part(instructions)]))
    messages.extend(response_input_messages(data.input))
    genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, messages or None)
    if response is None:
        _usage(data.usage, attributes)
        return None
    model = field(response, "model")
    # The request's model is not in the span data; the response names the one that answered.
    genai.set_if(attributes, semconv.GEN_AI_REQUEST_MODEL, model)
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, model)
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, field(response, "id"))
    output = field(response, "output") or []
    reason = "tool_calls" if any(field(i, "type") == "function_call" for i in output) else None
    if reason is None and field(response, "status") == "completed":
        reason = "stop"
    if reason is not None:
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason]
    genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [output_message(output, reason)])
    _usage(field(response, "usage") or data.usage, attributes)
    return _model_span_name(model)


def _usage(usage: object, attributes: Attributes) -> None:
    """Token counts from the SDK's usage dict or the response's usage object. The SDK reports
    zeros for a call whose provider sent no usage (a stream without ``include_usage``): no
    counts rather than wrong ones."""
    if usage is None:
        return
    input_tokens = field(usage, "input_tokens")
    output_tokens = field(usage, "output_tokens")
    if not input_tokens and not output_tokens:
        return
    genai.set_usage(
        attributes,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=field(field(usage, "input_tokens_details"), "cached_tokens"),
        reasoning_tokens=field(field(usage, "output_tokens_details"), "reasoning_tokens"),
    )


# -- Messages, in the OpenTelemetry GenAI shape ----------------------------------------------------
def chat_messages(messages: object) -> list[dict[str, Any]] | None:
    """Chat Completions messages (dicts, or the message objects' dumps)."""
    if not isinstance(messages, (list, tuple)):
        return None
    found = []
    for item in messages:
        role = field(item, "role") or "user"
        parts = _content_parts(field(item, "content"))
        for call in field(item, "tool_calls") or []:
            function = field(call, "function")
            parts.append(
                genai.tool_call_part(
                    field(call, "id"), field(function, "name"), field(function, "arguments")
                )
            )
        if role == "tool":
            parts = [genai.tool_response_part(field(item, "tool_call_id"), field(item, "content"))]
        found.append(genai.message(role, parts))
    return found


def response_input_messages(value: object) -> list[dict[str, Any]]:
    """Responses API input items."""
    if value is None:
        return []
    if isinstance(value, str):
        return [genai.message("user", [genai.text_part(value)])]
    messages = []
    for item in value if isinstance(value, (list, tuple)) else [value]:
        kind = field(item, "type")
        if kind == "function_call":
            call = genai.tool_call_part(
                field(item, "call_id"), field(item, "name"), field(item, "arguments")
            )
            messages.append(genai.message("assistant", [call]))
        elif kind == "function_call_output":
            answer = genai.tool_response_part(field(item, "call_id"), field(item, "output"))
            messages.append(genai.message("tool", [answer]))
        elif field(item, "role") is not None:
            messages.append(
                genai.message(field(item, "role"), _content_parts(field(item, "content")))
            )
        else:
            messages.append(genai.message("user", [{"type": str(kind)}]))
    return messages


def output_message(output: list[Any], reason: object = None) -> dict[str, Any]:
    """A response's output items as one assistant message."""
    parts: list[dict[str, Any]] = []
    for item in output:
        kind = field(item, "type")
        if kind == "message":
            parts.extend(_content_parts(field(item, "content")))
        elif kind == "function_call":
            parts.append(
                genai.tool_call_part(
                    field(item, "call_id"), field(item, "name"), field(item, "arguments")
                )
            )
        elif kind is not None:
            parts.append({"type": str(kind)})
    return genai.message("assistant", parts, reason)


def _content_parts(content: object) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [genai.text_part(content)]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, (list, tuple)) else [content]:
        kind = field(part, "type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(genai.text_part(field(part, "text")))
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": field(part, "refusal")})
        else:
            parts.append({"type": str(kind)})
    return parts


def _parsed(arguments: object) -> object:
    return genai.parse_arguments(arguments) if arguments is not None else None
