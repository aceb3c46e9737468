"""LiteLLM's OpenAI-shaped messages and responses, as GenAI attributes.

LiteLLM takes every provider's messages in the OpenAI chat shape and answers with a
``ModelResponse`` (or ``ModelResponseStream`` chunks) in that shape too, so the Chat Completions
reading (:mod:`traceroot.integrations.chat_completions`) does the work; LiteLLM adds
``reasoning_content`` where the provider reasons, and its own parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from traceroot import genai, semconv
from traceroot.genai import Attributes, field
from traceroot.integrations import chat_completions
from traceroot.openai_messages import chat_output_message

PARAMETERS: Final = (
    "temperature",
    "top_p",
    "top_k",
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
    "thinking",
    "logprobs",
    "top_logprobs",
)


def record_request(attributes: Attributes, kwargs: Mapping[str, Any], messages: object) -> None:
    # ``messages`` may have come positionally.
    chat_completions.record_request(attributes, {**kwargs, "messages": messages}, PARAMETERS)


def record_response(attributes: Attributes, response: Any) -> None:
    chat_completions.record_response(attributes, response, output_message=output_message)
    drop_unknown_reasoning(attributes)


def drop_unknown_reasoning(attributes: Attributes) -> None:
    """LiteLLM reports 0 reasoning tokens for every provider, one that reasons or not: a 0 from
    it says nothing, so none is recorded."""
    if attributes.get(semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS) == 0:
        del attributes[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]


def output_message(message: Any, finish_reason: object) -> dict[str, Any]:
    """An output message, its reasoning first."""
    output = chat_output_message(message, finish_reason)
    reasoning = field(message, "reasoning_content")
    if reasoning:
        output["parts"].insert(0, {"type": "reasoning", "content": reasoning})
    return output


def record_embeddings_request(
    attributes: Attributes, kwargs: Mapping[str, Any], inputs: object
) -> None:
    texts = [inputs] if isinstance(inputs, str) else inputs
    if isinstance(texts, (list, tuple)):
        attributes[semconv.LLM_INPUT_COUNT] = len(texts)
        genai.set_content(attributes, semconv.SPAN_INPUT, genai.texts(texts) or None)
    encoding = kwargs.get("encoding_format")
    if isinstance(encoding, str):
        attributes[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
    genai.set_if(attributes, semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, kwargs.get("dimensions"))


def record_embeddings_response(attributes: Attributes, response: Any) -> None:
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, field(response, "model"))
    data = field(response, "data") or []
    vector = field(data[0], "embedding") if data else None
    if isinstance(vector, list) and vector:
        attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)
    usage = field(response, "usage")
    if usage is not None:
        genai.set_usage(attributes, input_tokens=field(usage, "prompt_tokens"))
