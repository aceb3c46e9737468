"""``invoke_model`` and ``invoke_model_with_response_stream``: the request and reply bodies are
the model's own format. Read here: Anthropic Messages (``anthropic_version``), Amazon Nova's
``messages-v1`` (the Converse shape, read by :mod:`.converse`), embeddings and image generation
(the request only), and any other model's body as text (its ``prompt`` / ``inputText``, and the
reply's text field). Request fields beyond the prompt and the known parameters (Cohere's
``chat_history`` and ``documents``, Stability's prompts) are content: see
:func:`.converse.record_parameters`; images in a request are never recorded.

The reply body of ``invoke_model`` is read (and replaced by an equal, unread one) only for the
formats whose reply holds the message or the usage. The reply of an embedding or image model
(vectors, images) is left unread, the caller's own body: its counts come from the headers.

Usage comes from the body where it has it, else from what Bedrock adds to every model: the
``x-amzn-bedrock-input-token-count`` / ``-output-token-count`` / ``-cache-read-input-token-count``
/ ``-cache-write-input-token-count`` headers, and a stream's ``amazon-bedrock-invocationMetrics``.
The input count includes the cached tokens (see :mod:`.converse`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from traceroot import genai, semconv
from traceroot.genai import Attributes
from traceroot.integrations.anthropic.messages import record_usage as record_anthropic_usage
from traceroot.integrations.bedrock import converse

ANTHROPIC: Final = "anthropic"
NOVA: Final = "nova"
EMBEDDING: Final = "embedding"
IMAGE: Final = "image"
TEXT: Final = "text"
# The formats whose reply body holds what the span records (the message, the usage).
_READ_REPLY: Final = frozenset((ANTHROPIC, NOVA, TEXT))
# Model ids of the image models (Stability, Titan Image Generator, Nova Canvas), and the keys of
# their request bodies, for ids that do not say (an inference profile's ARN).
_IMAGE_MODELS: Final = ("stability.", "image", "canvas")
_IMAGE_KEYS: Final = ("text_prompts", "taskType")

# Parameter spellings of the text-format models (Llama, Mistral, Titan, Cohere, Claude text).
_TEXT_PARAMETERS: Final = {
    "max_gen_len": "max_tokens",
    "maxTokenCount": "max_tokens",
    "max_tokens_to_sample": "max_tokens",
    "topP": "top_p",
    "p": "top_p",
    "k": "top_k",
    "stopSequences": "stop_sequences",
}
_PROMPT_KEYS: Final = ("prompt", "inputText", "message")
_METRICS: Final = "amazon-bedrock-invocationMetrics"
_HEADER: Final = "x-amzn-bedrock-{}-token-count"


class Invoke:
    """One ``invoke_model`` call, or its streamed variant; the request body says the format."""

    def __init__(self) -> None:
        self.operation = semconv.OPERATION_CHAT
        self.format = TEXT

    def record_request(self, attributes: Attributes, params: Mapping[str, Any]) -> None:
        model = str(params.get("modelId") or "")
        body = read_json(params.get("body"))
        if "embed" in model:
            self.format, self.operation = EMBEDDING, semconv.OPERATION_EMBEDDINGS
        elif any(name in model for name in _IMAGE_MODELS) or (
            isinstance(body, Mapping) and any(key in body for key in _IMAGE_KEYS)
        ):
            self.format, self.operation = IMAGE, semconv.OPERATION_TEXT_COMPLETION
        elif isinstance(body, Mapping) and (
            "anthropic_version" in body or ("anthropic" in model and "messages" in body)
        ):
            self.format = ANTHROPIC
        elif isinstance(body, Mapping) and (
            body.get("schemaVersion") == "messages-v1"
            or ("messages" in body and "inferenceConfig" in body)
        ):
            self.format = NOVA
        else:
            self.operation = semconv.OPERATION_TEXT_COMPLETION
        if self.format == ANTHROPIC:
            _anthropic_request(attributes, body)
        elif self.format == NOVA:
            converse.Converse().record_request(attributes, body)
        else:
            _text_request(attributes, body, params.get("body"))

    @property
    def reads_body(self) -> bool:
        return self.format in _READ_REPLY

    def record_response(self, attributes: Attributes, response: Any, body: bytes | None) -> None:
        reply = read_json(body)
        if self.format == ANTHROPIC and isinstance(reply, Mapping):
            _anthropic_reply(attributes, reply)
        elif self.format == NOVA:
            converse.record_reply(attributes, reply)
        elif self.format == TEXT and reply is not None:
            _text_reply(attributes, reply)
        # Bedrock's own counts, for the models whose body has none (or only some).
        headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
        counts: Attributes = {}
        converse.record_counts(
            counts,
            input_tokens=_count(headers.get(_HEADER.format("input"))),
            output_tokens=_count(headers.get(_HEADER.format("output"))),
            cache_read=_count(headers.get(_HEADER.format("cache-read-input"))),
            cache_write=_count(headers.get(_HEADER.format("cache-write-input"))),
        )
        _fill(attributes, counts)

    def accumulator(self) -> InvokeStream:
        return InvokeStream(self.format)


def read_json(body: object) -> Any:
    """A request or reply body as JSON, ``None`` if it is none. A file-like body is read and put
    back where it was, so the request still sends it whole."""
    if hasattr(body, "read") and hasattr(body, "seek") and hasattr(body, "tell"):
        stream: Any = body
        position = stream.tell()
        try:
            body = stream.read()
        finally:
            stream.seek(position)
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", "replace")
    if not isinstance(body, str):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def _fill(attributes: Attributes, counts: Attributes) -> None:
    """Add Bedrock's own ``counts`` that the body did not give. The input count and its cached
    part are summed, so they come from one source: the body's, when it has the input count."""
    body_input = semconv.GEN_AI_USAGE_INPUT_TOKENS in attributes
    for key, count in counts.items():
        if key == semconv.GEN_AI_USAGE_OUTPUT_TOKENS or not body_input:
            attributes.setdefault(key, count)


def _count(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


# -- Anthropic Messages ---------------------------------------------------------------------------
def _anthropic_request(attributes: Attributes, body: Mapping[str, Any]) -> None:
    names = ("max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "tool_choice")
    parameters = {name: body[name] for name in (*names, "thinking") if name in body}
    genai.set_model_parameters(attributes, parameters, as_json="unmapped")  # settings, code
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        definitions = [
            {
                "type": "function",
                "name": tool.get("name"),
                "description": tool.get("description"),
                "parameters": tool.get("input_schema"),
            }
            if isinstance(tool, Mapping) and "input_schema" in tool
            else tool
            for tool in tools
        ]
        genai.set_json(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, definitions)
    messages = body.get("messages")
    if isinstance(messages, list):
        inputs = [_anthropic_message(message) for message in messages]
        genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, inputs)
    system = body.get("system")
    if system:
        genai.set_content(attributes, semconv.GEN_AI_SYSTEM_INSTRUCTIONS, _anthropic_parts(system))


def _anthropic_message(message: Any) -> dict[str, Any]:
    if not isinstance(message, Mapping):
        return genai.message(None, [])
    parts = _anthropic_parts(message.get("content"))
    role = message.get("role")
    if parts and all(part["type"] == "tool_call_response" for part in parts):
        role = "tool"
    return genai.message(role, parts)


def _anthropic_parts(content: object) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [genai.text_part(content)]
    parts = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(genai.text_part(block.get("text")))
        elif kind == "tool_use":
            parts.append(
                genai.tool_call_part(block.get("id"), block.get("name"), block.get("input"))
            )
        elif kind == "tool_result":
            result = block.get("content")
            if isinstance(result, list):
                texts = [b.get("text") for b in result if isinstance(b, Mapping)]
                result = "\n".join(genai.texts(texts))
            parts.append(genai.tool_response_part(block.get("tool_use_id"), result))
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": block.get("thinking")})
        elif kind in ("image", "document"):
            parts.append({"type": "blob", "modality": kind, "content": f"<{kind} omitted>"})
        else:
            parts.append({"type": str(kind)})
    return parts


def _anthropic_reply(attributes: Attributes, reply: Mapping[str, Any]) -> None:
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, reply.get("id"))
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, reply.get("model"))
    stop = reply.get("stop_reason")
    if isinstance(stop, str):
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [stop]
    record_anthropic_usage(attributes, reply.get("usage"))
    message = genai.message(
        reply.get("role") or "assistant", _anthropic_parts(reply.get("content")), stop
    )
    genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [message])


# -- Text (every other model) ---------------------------------------------------------------------
def _text_request(attributes: Attributes, body: Any, raw: object) -> None:
    if not isinstance(body, Mapping):
        if isinstance(body, str):
            message = genai.message("user", [genai.text_part(body)])
            genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, [message])
        return
    settings = dict(body)
    for config in ("textGenerationConfig", "imageGenerationConfig"):  # Titan, Nova Canvas
        nested = settings.pop(config, None)
        if isinstance(nested, Mapping):
            settings.update(nested)
    prompt = next((settings.pop(key) for key in _PROMPT_KEYS if key in settings), None)
    texts = settings.pop("texts", None)  # Cohere embeddings
    prompts = settings.pop("text_prompts", None)  # Stability: [{"text", "weight"}]
    parameters = {
        _TEXT_PARAMETERS.get(key, key): value
        for key, value in settings.items()
        if key not in ("messages", "images") and not _is_image(key, value)
    }
    converse.record_parameters(attributes, parameters)
    if prompt is None and isinstance(texts, list):
        prompt = "\n".join(genai.texts(texts))
    if prompt is None and isinstance(prompts, list):
        pieces = [item.get("text") for item in prompts if isinstance(item, Mapping)]
        prompt = "\n".join(genai.texts(pieces))
    if prompt is None:
        prompt = json.dumps(body)  # a format not known here: the body as the user's text
    message = genai.message("user", [genai.text_part(prompt)])
    genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, [message])


def _is_image(key: str, value: object) -> bool:
    """An image in a request (Titan's ``inputImage``, Stability's ``init_image``): never
    recorded. Not a count of images (``numberOfImages``)."""
    return "image" in key.lower() and not isinstance(value, (int, float))


def _text_of(reply: Any) -> tuple[str | None, object]:
    """A text-format reply's (or stream chunk's) text and finish reason."""
    if isinstance(reply, str):
        return reply, None
    if not isinstance(reply, Mapping):
        return None, None
    for key in ("generation", "completion", "outputText", "text"):  # Llama, Claude, Titan, Cohere
        if isinstance(reply.get(key), str):
            reason = reply.get("stop_reason") or reply.get("completionReason")
            return reply[key], reason or reply.get("finish_reason")
    for key in ("results", "outputs", "generations"):  # Titan, Mistral, Cohere: the first one
        items = reply.get(key)
        if isinstance(items, list) and items:
            return _text_of(items[0])
    return None, None


def _text_reply(attributes: Attributes, reply: Any) -> None:
    text, reason = _text_of(reply)
    if isinstance(reason, str):
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason]
    if isinstance(reply, Mapping):
        genai.set_usage(
            attributes,
            input_tokens=reply.get("inputTextTokenCount", reply.get("prompt_token_count")),
            output_tokens=reply.get("generation_token_count"),
        )
    if text is not None:
        message = genai.message("assistant", [genai.text_part(text)], reason)
        genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [message])


# -- Streams ------------------------------------------------------------------------------------
class _AnthropicBlock:
    __slots__ = ("call_id", "kind", "name", "pieces")

    def __init__(self, block: Mapping[str, Any]) -> None:
        self.kind = block.get("type")
        self.call_id = block.get("id")
        self.name = block.get("name")
        self.pieces: list[str] = []


class InvokeStream:
    """Rebuilds a streamed ``invoke_model`` reply from its ``chunk`` events (each the JSON bytes
    of one event of the model's own stream)."""

    def __init__(self, body_format: str) -> None:
        self.format = body_format
        self.metrics: Mapping[str, Any] | None = None
        # Anthropic
        self.message: Mapping[str, Any] = {}
        self.usage: dict[str, Any] = {}
        self.blocks: dict[int, _AnthropicBlock] = {}
        self.stop: object = None
        # Nova
        self.converse = converse.ConverseStream() if body_format == NOVA else None
        # text
        self.text: list[str] = []

    def add(self, event: Any) -> None:
        chunk = event.get("chunk")
        if chunk is None:
            return
        data = json.loads(chunk.get("bytes") or b"null")
        if not isinstance(data, dict):
            return
        metrics = data.get(_METRICS)
        if metrics is not None:
            self.metrics = metrics
        if self.format == ANTHROPIC:
            self._anthropic(data)
        elif self.converse is not None:
            self.converse.add(data)
        else:
            text, reason = _text_of(data)
            if text:
                self.text.append(text)
            if reason:
                self.stop = reason

    def _anthropic(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "content_block_delta":
            block = self.blocks.get(data.get("index", 0))
            delta = data.get("delta") or {}
            piece = delta.get("text", delta.get("partial_json", delta.get("thinking")))
            if block is not None and isinstance(piece, str):
                block.pieces.append(piece)
        elif kind == "content_block_start":
            self.blocks[data.get("index", 0)] = _AnthropicBlock(data.get("content_block") or {})
        elif kind == "message_start":
            self.message = data.get("message") or {}
            self.usage.update(self.message.get("usage") or {})
        elif kind == "message_delta":
            self.stop = (data.get("delta") or {}).get("stop_reason") or self.stop
            self.usage.update(data.get("usage") or {})

    def record(self, attributes: Attributes) -> None:
        if self.converse is not None:
            self.converse.record(attributes)
        elif self.format == ANTHROPIC:
            self._record_anthropic(attributes)
        else:
            if isinstance(self.stop, str):
                attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [self.stop]
            if self.text and self.format == TEXT:
                message = genai.message(
                    "assistant", [genai.text_part("".join(self.text))], self.stop
                )
                genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [message])
        if self.metrics is not None:
            # Bedrock's own counts, for what the model's events did not say.
            counts: Attributes = {}
            converse.record_counts(
                counts,
                input_tokens=self.metrics.get("inputTokenCount"),
                output_tokens=self.metrics.get("outputTokenCount"),
                cache_read=self.metrics.get("cacheReadInputTokenCount"),
                cache_write=self.metrics.get("cacheWriteInputTokenCount"),
            )
            _fill(attributes, counts)

    def _record_anthropic(self, attributes: Attributes) -> None:
        genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, self.message.get("id"))
        genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, self.message.get("model"))
        if isinstance(self.stop, str):
            attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [self.stop]
        if self.usage:
            record_anthropic_usage(attributes, self.usage)
        if not self.blocks and not self.message:
            return
        parts = []
        for _, block in sorted(self.blocks.items()):
            joined = "".join(block.pieces)
            if block.kind == "tool_use":
                parts.append(genai.tool_call_part(block.call_id, block.name, joined or "{}"))
            elif block.kind == "thinking":
                parts.append({"type": "reasoning", "content": joined})
            else:
                parts.append(genai.text_part(joined))
        role = self.message.get("role") or "assistant"
        genai.set_content(
            attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [genai.message(role, parts, self.stop)]
        )
