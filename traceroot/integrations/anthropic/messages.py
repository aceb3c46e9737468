"""``/v1/messages``: ``create`` (streamed or not), ``parse``, the ``stream()`` helper, the beta
variants and the tool runner's calls; and ``/v1/messages/count_tokens``.

Anthropic's content blocks become parts of the OpenTelemetry GenAI shape: ``text``,
``tool_call`` (``tool_use`` and the server and MCP tool uses), ``tool_call_response``
(``tool_result``), ``reasoning`` (``thinking``), and media as references (a URL, a file id, or a
``data:`` URL whose payload is left out), never their bytes.

Usage: Anthropic's ``input_tokens`` leaves out the cached part of the prompt, which comes as
``cache_read_input_tokens`` and ``cache_creation_input_tokens``; the GenAI conventions'
``gen_ai.usage.input_tokens`` counts all input. So it is the sum of the three, and the two cache
counts are recorded as well (``gen_ai.usage.cache_read.input_tokens``,
``gen_ai.usage.cache_creation.input_tokens``), as Anthropic's own telemetry does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.trace import Span

from traceroot import genai, semconv, spans, written_messages
from traceroot.genai import Attributes, field
from traceroot.spans import SpanKind

PARAMETERS: Final = (
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tool_choice",
    "thinking",
    "service_tier",
    "output_config",
)
# A data payload up to this long is kept whole in its data: URL (it is no bigger than the note
# that would replace it).
_DATA_KEEP: Final = 64


class MessagesEndpoint:
    operation = semconv.OPERATION_CHAT

    def start(self, model: str | None, provider: str, attributes: Attributes) -> Span:
        return genai.start_llm_span(self.operation, model, provider=provider, attributes=attributes)

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None:
        # The body's few keys against the list, not the list against the body.
        parameters = {
            name: value for name, value in body.items() if value is not None and name in PARAMETERS
        }
        genai.set_model_parameters(attributes, parameters, as_json="unmapped")
        output_config, output_format = body.get("output_config"), body.get("output_format")
        if output_config is not None or output_format is not None:
            output_format = field(output_config, "format") or output_format
            if field(output_format, "type") == "json_schema":
                attributes[semconv.GEN_AI_OUTPUT_TYPE] = "json"
        record_content_request(attributes, body)
        tools = body.get("tools")
        if isinstance(tools, (list, tuple)) and tools:
            genai.set_json(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, list(tools))

    def record_response(self, attributes: Attributes, response: Any) -> None:
        get = genai.reader(response)
        record_identity(attributes, response, get)
        reason = get(response, "stop_reason", None)
        if isinstance(reason, str):
            attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason]
        record_usage(attributes, get(response, "usage", None))
        content = get(response, "content", None)
        if content is not None:
            genai.set_written_content(
                attributes,
                semconv.GEN_AI_OUTPUT_MESSAGES,
                _text_reply_json(_block_texts(content), reason),
                lambda: [genai.message("assistant", parts(content), reason)],
            )

    def accumulator(self) -> MessageStream:
        return MessageStream()


class CountTokensEndpoint:
    """Counting a prompt's tokens is no model call (nothing is generated or billed): a plain
    span, its count under its own name, so no usage is summed for it."""

    operation = semconv.OPERATION_COUNT_TOKENS

    def start(self, model: str | None, provider: str, attributes: Attributes) -> Span:
        attributes[semconv.GEN_AI_PROVIDER_NAME] = provider
        genai.set_if(attributes, semconv.GEN_AI_REQUEST_MODEL, model)
        name = f"{self.operation} {model}" if model else self.operation
        return spans.start(name, SpanKind.SPAN, attributes=attributes)

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None:
        record_content_request(attributes, body)
        tools = body.get("tools")
        if isinstance(tools, (list, tuple)) and tools:
            genai.set_json(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, list(tools))

    def record_response(self, attributes: Attributes, response: Any) -> None:
        genai.set_if(
            attributes,
            semconv.ANTHROPIC_COUNT_TOKENS_INPUT_TOKENS,
            field(response, "input_tokens"),
        )

    def accumulator(self) -> MessageStream:
        return MessageStream()  # never streamed


def record_content_request(attributes: Attributes, body: Mapping[str, Any]) -> None:
    system = body.get("system")
    if system is not None:
        texts = _texts(system)
        genai.set_written_content(
            attributes,
            semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
            written_messages.texts_parts(texts) if texts is not None else None,
            lambda: parts(system),
        )
    messages = body.get("messages")
    if isinstance(messages, (list, tuple)):
        genai.set_written_content(
            attributes,
            semconv.GEN_AI_INPUT_MESSAGES,
            _text_messages_json(messages),
            lambda: [
                genai.message(field(message, "role") or "user", parts(field(message, "content")))
                for message in messages
            ],
        )


# -- Text only, written straight to JSON (traceroot.written_messages) -----------------------------
def _text_messages_json(messages: object) -> str | None:
    """The JSON of the request's messages when each is a dict of a role and text only."""
    written = []
    for message in messages:  # type: ignore[attr-defined]
        if message.__class__ is not dict:
            return None
        role = message.get("role")
        texts = _texts(message.get("content"))
        if role.__class__ is not str or not role or texts is None:
            return None
        written.append(written_messages.message(role, written_messages.texts_parts(texts)))
    return written_messages.array(written)


def _texts(content: object) -> list[str] | None:
    """The texts of content that is a string or a list of text blocks as sent (dicts), else
    ``None``."""
    if content.__class__ is str:
        return [content]
    if content.__class__ is not list:
        return None
    texts = []
    for block in content:
        if block.__class__ is not dict or block.get("type") != "text":
            return None
        text = block.get("text")
        if text.__class__ is not str:
            return None
        texts.append(text)
    return texts


def _block_texts(content: object) -> list[str] | None:
    """The texts of a reply's content when all its blocks are text (the SDK's models)."""
    if not isinstance(content, list):
        return None
    texts = []
    for block in content:
        text = getattr(block, "text", None)
        if getattr(block, "type", None) != "text" or text.__class__ is not str:
            return None
        texts.append(text)
    return texts


def _text_reply_json(texts: list[str] | None, reason: object) -> str | None:
    if texts is None or not (reason is None or reason.__class__ is str):
        return None
    parts = written_messages.texts_parts(texts)
    return written_messages.array([written_messages.message("assistant", parts, reason)])


def record_identity(attributes: Attributes, message: Any, get: genai.Reader = field) -> None:
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, get(message, "id", None))
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, get(message, "model", None))


def record_usage(attributes: Attributes, usage: Any, *, output: bool = True) -> None:
    """Anthropic's usage as ``gen_ai.usage.*``: the input counts the cached tokens too (see the
    module docstring); ``output=False`` leaves out the output count (a stream's placeholder)."""
    if usage is None:
        return
    get = genai.reader(usage)
    input_tokens = get(usage, "input_tokens", None)
    cache_read = get(usage, "cache_read_input_tokens", None)
    cache_creation = get(usage, "cache_creation_input_tokens", None)
    if isinstance(input_tokens, int):
        for cached in (cache_read, cache_creation):
            if isinstance(cached, int):
                input_tokens += cached
    genai.set_usage(
        attributes,
        input_tokens=input_tokens,
        output_tokens=get(usage, "output_tokens", None) if output else None,
        cache_read_tokens=cache_read,
        cache_creation_tokens=cache_creation,
        reasoning_tokens=field(get(usage, "output_tokens_details", None), "thinking_tokens"),
    )
    tier = get(usage, "service_tier", None)
    if tier is not None:
        genai.set_if(attributes, semconv.ANTHROPIC_RESPONSE_SERVICE_TIER, tier)


# -- Content blocks -> GenAI parts ----------------------------------------------------------------
def parts(content: object) -> list[dict[str, Any]]:
    """The parts of a message's ``content``: a string, or a list of content blocks (dicts as
    sent, or the SDK's models, as a reply passed back in is)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [genai.text_part(content)]
    if isinstance(content, (list, tuple)):
        return [part(block) for block in content]
    return [part(content)]


def part(block: Any) -> dict[str, Any]:
    kind = field(block, "type")
    if kind == "text":
        return genai.text_part(field(block, "text"))
    if kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
        return genai.tool_call_part(field(block, "id"), field(block, "name"), field(block, "input"))
    if kind == "tool_result" or (isinstance(kind, str) and kind.endswith("_tool_result")):
        return genai.tool_response_part(
            field(block, "tool_use_id"), _result(field(block, "content"))
        )
    if kind == "thinking":
        return {"type": "reasoning", "content": field(block, "thinking")}
    if kind in ("image", "document"):
        return _media(kind, field(block, "source"))
    return {"type": str(kind)}


def _result(content: object) -> object:
    """A tool result's content: its text when it is all text, else its parts."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        converted = [part(block) for block in content]
        if all(item["type"] == "text" for item in converted):
            return " ".join(genai.texts(item["content"] for item in converted))
        return converted
    return {"type": str(field(content, "type"))}


def _media(kind: str, source: Any) -> dict[str, Any]:
    modality = "image" if kind == "image" else "document"
    source_type = field(source, "type")
    if source_type == "url":
        return genai.uri_part(str(field(source, "url")), modality)
    if source_type == "file":
        return {"type": "file", "modality": modality, "file_id": field(source, "file_id")}
    if source_type == "base64":
        data = field(source, "data")
        size = len(data) if isinstance(data, str) else 0
        payload = data if size <= _DATA_KEEP else f"<{size} characters omitted>"
        mime = field(source, "media_type")
        return {"type": "uri", "modality": modality, "uri": f"data:{mime};base64,{payload}"}
    if source_type == "text":  # a plain-text document: its text is the content
        return genai.text_part(field(source, "data"))
    return {"type": kind, "modality": modality}


# -- Streams --------------------------------------------------------------------------------------
# The field of each kind of content delta that carries its piece (signatures and citations add
# nothing to the recorded output).
_DELTA_FIELDS: Final = {
    "text_delta": "text",
    "input_json_delta": "partial_json",
    "thinking_delta": "thinking",
}


class _Block:
    __slots__ = ("block", "pieces")

    def __init__(self, block: Any) -> None:
        self.block = block
        self.pieces: list[str] = []


class MessageStream:
    """Rebuilds a streamed Message from its events: ``message_start`` (identity, input usage),
    the content blocks and their deltas, ``message_delta`` (stop reason, final usage)."""

    def __init__(self) -> None:
        self.message: Any = None
        self.blocks: dict[int, _Block] = {}
        self.stop_reason: object = None
        self.usage: dict[str, Any] = {}
        self.delta_seen = False

    def starts_output(self, event: Any) -> bool:
        """Time to first chunk is time to the first content: ``message_start`` only opens it."""
        return getattr(event, "type", None) == "content_block_delta"

    def add(self, event: Any) -> None:
        # Once per event: plain getattr on the SDK's event models.
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            block = self.blocks.get(getattr(event, "index", 0))
            if block is None:
                return
            delta = getattr(event, "delta", None)
            name = _DELTA_FIELDS.get(getattr(delta, "type", None))  # type: ignore[arg-type]
            piece = getattr(delta, name, None) if name else None
            if piece:
                block.pieces.append(piece)
        elif kind == "content_block_start":
            self.blocks[getattr(event, "index", 0)] = _Block(getattr(event, "content_block", None))
        elif kind == "message_start":
            self.message = getattr(event, "message", None)
            self._merge_usage(getattr(self.message, "usage", None))
        elif kind == "message_delta":
            self.delta_seen = True
            self.stop_reason = getattr(getattr(event, "delta", None), "stop_reason", None)
            self._merge_usage(getattr(event, "usage", None))

    def _merge_usage(self, usage: Any) -> None:
        if usage is None:
            return
        values = usage if isinstance(usage, dict) else vars(usage)
        for key, value in values.items():
            if value is not None:
                self.usage[key] = value

    def record(self, attributes: Attributes) -> None:
        if self.message is not None:
            record_identity(attributes, self.message)
        if isinstance(self.stop_reason, str):
            attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [self.stop_reason]
        # message_start's output count is a placeholder until message_delta gives the real one.
        record_usage(attributes, self.usage or None, output=self.delta_seen)
        if self.message is None and not self.blocks:
            return
        blocks = [self.blocks[index] for index in sorted(self.blocks)]
        genai.set_written_content(
            attributes,
            semconv.GEN_AI_OUTPUT_MESSAGES,
            _text_reply_json(self._texts(blocks), self.stop_reason),
            lambda: [
                genai.message("assistant", [self._block(b) for b in blocks], self.stop_reason)
            ],
        )

    @staticmethod
    def _texts(blocks: list[_Block]) -> list[str] | None:
        texts = []
        for entry in blocks:
            text = getattr(entry.block, "text", None)
            if getattr(entry.block, "type", None) != "text" or text.__class__ is not str:
                return None
            texts.append(text + "".join(entry.pieces))
        return texts

    @staticmethod
    def _block(entry: _Block) -> dict[str, Any]:
        block, text = entry.block, "".join(entry.pieces)
        kind = field(block, "type")
        if kind == "text":
            return genai.text_part((field(block, "text") or "") + text)
        if kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
            arguments: object = text if text else field(block, "input")
            return genai.tool_call_part(field(block, "id"), field(block, "name"), arguments)
        if kind == "thinking":
            return {"type": "reasoning", "content": (field(block, "thinking") or "") + text}
        return part(block)
