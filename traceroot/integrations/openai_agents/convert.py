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
from traceroot.openai_messages import (
    chat_messages,
    response_input_messages,
    response_output_message,
)
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
            messages.append(response_output_message(field(item, "output")))
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
    genai.set_content(
        attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [response_output_message(output, reason)]
    )
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


def _parsed(arguments: object) -> object:
    return genai.parse_arguments(arguments) if arguments is not None else None
