"""``/embeddings`` and the legacy ``/completions``: the two single-shot endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from traceroot import genai, semconv
from traceroot.genai import Attributes, field
from traceroot.integrations.openai import common

COMPLETION_PARAMETERS: Final = (
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "best_of",
    "logprobs",
)


class EmbeddingsEndpoint:
    """Model, input count and usage; never the vectors."""

    operation = semconv.OPERATION_EMBEDDINGS

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None:
        inputs = body.get("input")
        count = len(inputs) if isinstance(inputs, (list, tuple)) and not _is_tokens(inputs) else 1
        attributes[semconv.LLM_INPUT_COUNT] = count
        encoding = body.get("encoding_format")
        if isinstance(encoding, str):
            attributes[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
        genai.set_if(attributes, semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, body.get("dimensions"))
        genai.set_content(attributes, semconv.SPAN_INPUT, _texts(inputs))

    def record_response(self, attributes: Attributes, response: Any) -> None:
        genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, field(response, "model"))
        usage = field(response, "usage")
        genai.set_usage(attributes, input_tokens=field(usage, "prompt_tokens"))
        data = field(response, "data") or []
        if data:
            vector = field(data[0], "embedding")
            if isinstance(vector, (list, tuple)):
                attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)

    def accumulator(self) -> _NoStream:
        return _NoStream()


class CompletionsEndpoint:
    """The legacy text completions endpoint."""

    operation = semconv.OPERATION_TEXT_COMPLETION

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None:
        common.record_parameters(attributes, body, COMPLETION_PARAMETERS)
        prompt = body.get("prompt")
        prompts = prompt if isinstance(prompt, list) and not _is_tokens(prompt) else [prompt]
        messages = [genai.message("user", [genai.text_part(p)]) for p in prompts if p is not None]
        genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, messages)

    def record_response(self, attributes: Attributes, response: Any) -> None:
        common.record_identity(attributes, response)
        choices = field(response, "choices") or []
        common.record_finish_reasons(
            attributes, [field(choice, "finish_reason") for choice in choices]
        )
        usage = field(response, "usage")
        genai.set_usage(
            attributes,
            input_tokens=field(usage, "prompt_tokens"),
            output_tokens=field(usage, "completion_tokens"),
        )
        outputs = [
            genai.message(
                "assistant", [genai.text_part(field(c, "text"))], field(c, "finish_reason")
            )
            for c in choices
        ]
        genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, outputs)

    def accumulator(self) -> CompletionsStream:
        return CompletionsStream(self)


class CompletionsStream:
    def __init__(self, endpoint: CompletionsEndpoint) -> None:
        self.endpoint = endpoint
        self.first: Any = None
        self.usage: Any = None
        self.text: dict[int, list[str]] = {}
        self.reasons: dict[int, object] = {}

    def add(self, chunk: Any) -> None:
        if self.first is None:
            self.first = chunk
        if field(chunk, "usage") is not None:
            self.usage = field(chunk, "usage")
        for choice in field(chunk, "choices") or []:
            index = field(choice, "index", 0) or 0
            self.text.setdefault(index, []).append(field(choice, "text") or "")
            if field(choice, "finish_reason"):
                self.reasons[index] = field(choice, "finish_reason")

    def record(self, attributes: Attributes) -> None:
        choices = [
            {"text": "".join(self.text[i]), "finish_reason": self.reasons.get(i)}
            for i in sorted(self.text)
        ]
        response = {
            "id": field(self.first, "id"),
            "model": field(self.first, "model"),
            "choices": choices,
            "usage": self.usage,
        }
        self.endpoint.record_response(attributes, response)


class _NoStream:
    def add(self, chunk: Any) -> None:
        return None

    def record(self, attributes: Attributes) -> None:
        return None


def _is_tokens(values: list[Any] | tuple[Any, ...]) -> bool:
    """A list of token ids is one input, not many."""
    return bool(values) and all(isinstance(v, int) for v in values)


def _texts(inputs: object) -> list[Any] | None:
    if isinstance(inputs, str):
        return [inputs]
    if isinstance(inputs, (list, tuple)) and not _is_tokens(inputs):
        return [i for i in inputs if isinstance(i, str)] or None
    return None
