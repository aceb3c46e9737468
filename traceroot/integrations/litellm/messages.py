"""LiteLLM's OpenAI-shaped messages and responses, as GenAI attributes.

LiteLLM takes every provider's messages in the OpenAI chat shape and answers with a
``ModelResponse`` (or ``ModelResponseStream`` chunks) in that shape too, plus
``reasoning_content`` where the provider reasons; usage adds Anthropic's cache counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from traceroot import genai, semconv
from traceroot.genai import Attributes, field

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
    given = {name: kwargs[name] for name in PARAMETERS if kwargs.get(name) is not None}
    genai.set_model_parameters(attributes, given, as_json="unmapped")
    genai.set_if(attributes, semconv.GEN_AI_REQUEST_CHOICE_COUNT, given.get("n"))
    format_type = field(given.get("response_format"), "type")
    if format_type in ("json_schema", "json_object"):
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = "json"
    elif format_type == "text":
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = "text"
    if isinstance(messages, (list, tuple)):
        genai.set_content(
            attributes, semconv.GEN_AI_INPUT_MESSAGES, [_input(message) for message in messages]
        )
    tools = kwargs.get("tools")
    if isinstance(tools, (list, tuple)) and tools:
        genai.set_json(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, list(tools))


def record_response(attributes: Attributes, response: Any) -> None:
    record_identity(attributes, response)
    choices = field(response, "choices") or []
    reasons = [field(choice, "finish_reason") for choice in choices]
    record_finish_reasons(attributes, reasons)
    record_usage(attributes, field(response, "usage"))
    outputs = [
        output_message(field(choice, "message"), reason)
        for choice, reason in zip(choices, reasons, strict=True)
    ]
    genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, outputs)


def record_identity(attributes: Attributes, response: Any) -> None:
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, field(response, "id"))
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, field(response, "model"))


def record_finish_reasons(attributes: Attributes, reasons: Iterable[object]) -> None:
    known = [str(reason) for reason in reasons if reason is not None]
    if known:
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = known


def record_usage(attributes: Attributes, usage: Any) -> None:
    if usage is None:
        return
    prompt_details = field(usage, "prompt_tokens_details")
    genai.set_usage(
        attributes,
        input_tokens=field(usage, "prompt_tokens"),
        output_tokens=field(usage, "completion_tokens"),
        cache_read_tokens=field(prompt_details, "cached_tokens"),
        cache_creation_tokens=field(usage, "cache_creation_input_tokens")
        or field(prompt_details, "cache_creation_tokens"),
        reasoning_tokens=field(field(usage, "completion_tokens_details"), "reasoning_tokens")
        or None,
    )


def _input(message: Any) -> dict[str, Any]:
    role = field(message, "role")
    if role in ("tool", "function"):
        call_id = field(message, "tool_call_id") or field(message, "name")
        return genai.message(role, [genai.tool_response_part(call_id, _text(message))])
    parts = _content_parts(field(message, "content"))
    for call in field(message, "tool_calls") or []:
        function = field(call, "function")
        parts.append(
            genai.tool_call_part(
                field(call, "id"), field(function, "name"), field(function, "arguments")
            )
        )
    return genai.message(role, parts)


def _text(message: Any) -> Any:
    content = field(message, "content")
    if isinstance(content, list):
        return " ".join(genai.texts(field(part, "text") for part in content))
    return content


def _content_parts(content: object) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [genai.text_part(content)]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, (list, tuple)) else [content]:
        kind = field(part, "type")
        if kind == "text":
            parts.append(genai.text_part(field(part, "text")))
        elif kind == "image_url":
            image = field(part, "image_url")
            url = image if isinstance(image, str) else field(image, "url")
            parts.append(genai.uri_part(str(url), "image"))
        elif kind == "input_audio":
            parts.append({"type": "blob", "modality": "audio", "content": "<audio omitted>"})
        elif kind == "file":
            file = field(part, "file")
            parts.append({"type": "file", "modality": "file", "file_id": field(file, "file_id")})
        else:
            parts.append({"type": str(kind)})
    return parts


def output_message(message: Any, finish_reason: object) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    reasoning = field(message, "reasoning_content")
    if reasoning:
        parts.append({"type": "reasoning", "content": reasoning})
    content = field(message, "content")
    if isinstance(content, str) and content:
        parts.append(genai.text_part(content))
    for call in field(message, "tool_calls") or []:
        function = field(call, "function")
        parts.append(
            genai.tool_call_part(
                field(call, "id"), field(function, "name"), field(function, "arguments")
            )
        )
    return genai.message(field(message, "role") or "assistant", parts, finish_reason)


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
