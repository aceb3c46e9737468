"""``/chat/completions``: ``create`` (streamed or not), ``parse`` and the ``stream()`` helper.

The wire format itself is read by :mod:`traceroot.integrations.chat_completions` (other providers
speak it too); this module adds what is OpenAI's: its parameters and the service tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from traceroot import genai, semconv
from traceroot.genai import Attributes, field
from traceroot.integrations import chat_completions

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
        chat_completions.record_request(attributes, body, PARAMETERS)
        tier = body.get("service_tier")
        if tier is not None:
            genai.set_if(attributes, semconv.OPENAI_REQUEST_SERVICE_TIER, tier)

    def record_response(self, attributes: Attributes, response: Any) -> None:
        chat_completions.record_response(attributes, response)
        _service_tier(attributes, response)

    def accumulator(self) -> ChatStream:
        return ChatStream()


class ChatStream(chat_completions.ChatStream):
    """A streamed chat completion, with OpenAI's service tier."""

    def record(self, attributes: Attributes) -> None:
        super().record(attributes)
        _service_tier(attributes, self.first)


def _service_tier(attributes: Attributes, response: Any) -> None:
    tier = field(response, "service_tier")
    if tier is not None:
        genai.set_if(attributes, semconv.OPENAI_RESPONSE_SERVICE_TIER, tier)
