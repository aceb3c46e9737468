"""``/chat/completions``: ``create`` (streamed or not), ``parse`` and the ``stream()`` helper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from traceroot import genai, semconv
from traceroot.genai import Attributes, field
from traceroot.integrations.openai import common
from traceroot.openai_messages import chat_messages, chat_output_message

PARAMETERS: Final = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "response_format",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning_effort",
    "logprobs",
    "top_logprobs",
    "service_tier",
)


class ChatEndpoint:
    operation = semconv.OPERATION_CHAT

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None:
        common.record_parameters(attributes, body, PARAMETERS)
        genai.set_if(attributes, semconv.GEN_AI_REQUEST_CHOICE_COUNT, body.get("n"))
        common.record_output_type(attributes, field(body.get("response_format"), "type"))
        genai.set_content(
            attributes, semconv.GEN_AI_INPUT_MESSAGES, chat_messages(body.get("messages"))
        )
        common.record_tool_definitions(attributes, body.get("tools"))

    def record_response(self, attributes: Attributes, response: Any) -> None:
        common.record_identity(attributes, response)
        choices = field(response, "choices") or []
        common.record_finish_reasons(
            attributes, [field(choice, "finish_reason") for choice in choices]
        )
        usage = field(response, "usage")
        record_usage(attributes, usage)
        outputs = [
            chat_output_message(field(choice, "message"), field(choice, "finish_reason"))
            for choice in choices
        ]
        genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, outputs)

    def accumulator(self) -> ChatStream:
        return ChatStream()


def record_usage(attributes: Attributes, usage: Any) -> None:
    if usage is None:
        return
    genai.set_usage(
        attributes,
        input_tokens=field(usage, "prompt_tokens"),
        output_tokens=field(usage, "completion_tokens"),
        cache_read_tokens=field(field(usage, "prompt_tokens_details"), "cached_tokens"),
        reasoning_tokens=field(field(usage, "completion_tokens_details"), "reasoning_tokens"),
    )


class _Choice:
    __slots__ = ("calls", "finish_reason", "refusal", "role", "text")

    def __init__(self) -> None:
        self.role: object = None
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: object = None


def _add_tool_calls(choice: _Choice, calls: Any) -> None:
    for call in calls:
        index = getattr(call, "index", 0) or 0
        entry = choice.calls.get(index)
        if entry is None:
            entry = choice.calls[index] = {"id": None, "name": None, "arguments": []}
        function = getattr(call, "function", None)
        entry["id"] = getattr(call, "id", None) or entry["id"]
        entry["name"] = getattr(function, "name", None) or entry["name"]
        arguments = getattr(function, "arguments", None)
        if arguments:
            entry["arguments"].append(arguments)


class ChatStream:
    """Rebuilds the choices of a streamed chat completion from its chunks."""

    def __init__(self) -> None:
        self.first: Any = None
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}

    def add(self, chunk: Any) -> None:
        # Runs once per chunk: plain getattr on the SDK's chunk objects, nothing allocated
        # unless the chunk carries something new.
        if self.first is None:
            self.first = chunk
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        for choice_chunk in getattr(chunk, "choices", None) or ():
            index = getattr(choice_chunk, "index", 0) or 0
            choice = self.choices.get(index)
            if choice is None:
                choice = self.choices[index] = _Choice()
            delta = getattr(choice_chunk, "delta", None)
            content = getattr(delta, "content", None)
            if content:
                choice.text.append(content)
            role = getattr(delta, "role", None)
            if role:
                choice.role = role
            refusal = getattr(delta, "refusal", None)
            if refusal:
                choice.refusal.append(refusal)
            calls = getattr(delta, "tool_calls", None)
            if calls:
                _add_tool_calls(choice, calls)
            reason = getattr(choice_chunk, "finish_reason", None)
            if reason:
                choice.finish_reason = reason

    def record(self, attributes: Attributes) -> None:
        if self.first is not None:
            common.record_identity(attributes, self.first)
        record_usage(attributes, self.usage)
        ordered = [self.choices[index] for index in sorted(self.choices)]
        common.record_finish_reasons(attributes, [choice.finish_reason for choice in ordered])
        outputs = []
        for choice in ordered:
            message = {
                "role": choice.role or "assistant",
                "content": "".join(choice.text) or None,
                "refusal": "".join(choice.refusal) or None,
                "tool_calls": [
                    {
                        "id": call["id"],
                        "function": {"name": call["name"], "arguments": "".join(call["arguments"])},
                    }
                    for _, call in sorted(choice.calls.items())
                ],
            }
            outputs.append(chat_output_message(message, choice.finish_reason))
        if outputs:
            genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, outputs)
