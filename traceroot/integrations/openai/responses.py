"""``/responses``: the Responses API, ``create`` (streamed or not), ``parse`` and ``stream()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from traceroot import genai, semconv
from traceroot.genai import Attributes, field
from traceroot.integrations.openai import common
from traceroot.openai_messages import response_input_messages, response_output_message

PARAMETERS: Final = (
    "temperature",
    "top_p",
    "max_output_tokens",
    "tool_choice",
    "parallel_tool_calls",
    "text",
    "reasoning",
    "service_tier",
    "truncation",
    "previous_response_id",
)
_FINAL_EVENTS: Final = ("response.completed", "response.incomplete", "response.failed")


class ResponsesEndpoint:
    operation = semconv.OPERATION_CHAT

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None:
        common.record_parameters(attributes, body, PARAMETERS)
        common.record_output_type(attributes, field(field(body.get("text"), "format"), "type"))
        messages = []
        if body.get("instructions"):
            messages.append(genai.message("system", [genai.text_part(body["instructions"])]))
        messages.extend(response_input_messages(body.get("input")))
        genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, messages)
        common.record_tool_definitions(attributes, body.get("tools"))

    def record_response(self, attributes: Attributes, response: Any) -> None:
        common.record_identity(attributes, response)
        common.record_finish_reasons(attributes, [finish_reason(response)])
        usage = field(response, "usage")
        if usage is not None:
            genai.set_usage(
                attributes,
                input_tokens=field(usage, "input_tokens"),
                output_tokens=field(usage, "output_tokens"),
                cache_read_tokens=field(field(usage, "input_tokens_details"), "cached_tokens"),
                reasoning_tokens=field(field(usage, "output_tokens_details"), "reasoning_tokens"),
            )
        output = response_output_message(field(response, "output") or [], finish_reason(response))
        genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [output])

    def accumulator(self) -> ResponsesStream:
        return ResponsesStream(self)


def finish_reason(response: Any) -> str | None:
    incomplete = field(field(response, "incomplete_details"), "reason")
    if incomplete:
        return str(incomplete)
    status = field(response, "status")
    if any(field(item, "type") == "function_call" for item in field(response, "output") or []):
        return "tool_calls"
    if status == "completed":
        return "stop"
    return str(status) if status else None


class ResponsesStream:
    """Keeps the final response event; until it comes, the text deltas seen so far."""

    def __init__(self, endpoint: ResponsesEndpoint) -> None:
        self.endpoint = endpoint
        self.started: Any = None
        self.final: Any = None
        self.text: list[str] = []

    def add(self, event: Any) -> None:
        kind = field(event, "type")
        if kind == "response.output_text.delta":
            self.text.append(field(event, "delta") or "")
        elif kind == "response.created":
            self.started = field(event, "response")
        elif kind in _FINAL_EVENTS:
            self.final = field(event, "response")

    def record(self, attributes: Attributes) -> None:
        if self.final is not None:
            self.endpoint.record_response(attributes, self.final)
            return
        if self.started is not None:
            common.record_identity(attributes, self.started)
        if self.text:
            partial = genai.message("assistant", [genai.text_part("".join(self.text))])
            genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [partial])
