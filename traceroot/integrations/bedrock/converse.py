"""The Converse API (``converse``, ``converse_stream``): its messages, system prompt, tools,
``inferenceConfig``, stop reason and usage, in the GenAI shape.

Amazon Nova's ``invoke_model`` format (``schemaVersion: messages-v1``) is the same shape, so
:mod:`.invoke` reads it with these functions too, and the request parameters and token counts of
every Bedrock format are recorded here (:func:`record_parameters`, :func:`record_counts`).

Parameters: numbers and flags are settings; any other value (a string, a list, a dict: what
``additionalModelRequestFields`` or a model's own body holds beyond the known parameters) may be
the user's content, so the JSON of all parameters holds it only with content capture on.

Usage: Bedrock's input count (``inputTokens``, ``inputTokenCount``, the
``x-amzn-bedrock-input-token-count`` header) leaves out the cached part of the prompt, which comes
as the cache read and cache write counts; the GenAI conventions' ``gen_ai.usage.input_tokens``
counts all input. So it is the sum of the three, and the two cache counts are recorded as well
(``gen_ai.usage.cache_read.input_tokens``, ``gen_ai.usage.cache_creation.input_tokens``), as for
the other providers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from traceroot import genai, semconv
from traceroot.genai import Attributes

# inferenceConfig's names -> the names genai.set_model_parameters knows.
PARAMETERS: Final = {
    "maxTokens": "max_tokens",
    "temperature": "temperature",
    "topP": "top_p",
    "topK": "top_k",
    "stopSequences": "stop_sequences",
}
# Parameters that are settings whatever their value's type (stop sequences are a list).
_SETTINGS: Final = frozenset((*semconv.MODEL_PARAMETER_ATTRIBUTES, "tool_choice"))


class Converse:
    """One ``converse`` or ``converse_stream`` call."""

    operation = semconv.OPERATION_CHAT
    reads_body = False  # the reply is parsed by botocore: there is no body

    def record_request(self, attributes: Attributes, params: Mapping[str, Any]) -> None:
        parameters = dict(_parameters(params.get("inferenceConfig")))
        extra = params.get("additionalModelRequestFields")
        if isinstance(extra, Mapping):
            parameters.update(extra)
        tool_config = params.get("toolConfig")
        if isinstance(tool_config, Mapping):
            if tool_config.get("toolChoice") is not None:
                parameters["tool_choice"] = tool_config["toolChoice"]
            record_tool_definitions(attributes, tool_config.get("tools"))
        record_parameters(attributes, parameters)
        record_messages(attributes, params.get("messages"), params.get("system"))

    def record_response(self, attributes: Attributes, response: Any, body: bytes | None) -> None:
        record_reply(attributes, response)

    def accumulator(self) -> ConverseStream:
        return ConverseStream()


def _parameters(config: object) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        return {}
    return {PARAMETERS.get(str(key), str(key)): value for key, value in config.items()}


def record_parameters(attributes: Attributes, parameters: Mapping[str, Any]) -> None:
    """A request's parameters as ``gen_ai.request.*``, and as JSON when some have no attribute of
    their own: values that may be content (see the module docstring) only with content on."""
    settings = {key: value for key, value in parameters.items() if _is_setting(key, value)}
    genai.set_model_parameters(attributes, settings, as_json="unmapped")
    if len(settings) < len(parameters):
        genai.set_content(attributes, semconv.LLM_MODEL_PARAMETERS, dict(parameters))


def _is_setting(key: str, value: object) -> bool:
    return value is None or isinstance(value, (int, float)) or key in _SETTINGS


def record_messages(attributes: Attributes, messages: object, system: object) -> None:
    if isinstance(messages, (list, tuple)):
        genai.set_content(
            attributes, semconv.GEN_AI_INPUT_MESSAGES, [input_message(m) for m in messages]
        )
    if isinstance(system, (list, tuple)) and system:
        parts = [part for block in system if (part := content_part(block)) is not None]
        genai.set_content(attributes, semconv.GEN_AI_SYSTEM_INSTRUCTIONS, parts)


def record_tool_definitions(attributes: Attributes, tools: object) -> None:
    """Tool specs as GenAI function definitions (kept with content off: they are code)."""
    if not isinstance(tools, (list, tuple)) or not tools:
        return
    definitions = []
    for tool in tools:
        spec = tool.get("toolSpec") if isinstance(tool, Mapping) else None
        if isinstance(spec, Mapping):
            schema = spec.get("inputSchema")
            definitions.append(
                {
                    "type": "function",
                    "name": spec.get("name"),
                    "description": spec.get("description"),
                    "parameters": schema.get("json") if isinstance(schema, Mapping) else None,
                }
            )
        else:
            definitions.append(tool)  # a cachePoint or a system tool: as given
    genai.set_json(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, definitions)


def record_reply(attributes: Attributes, response: Any) -> None:
    """The reply of ``converse`` (or Nova's ``invoke_model``): message, stop reason, usage."""
    if not isinstance(response, Mapping):
        return
    stop = response.get("stopReason")
    if isinstance(stop, str):
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [stop]
    record_usage(attributes, response.get("usage"))
    output = response.get("output")
    message = output.get("message") if isinstance(output, Mapping) else None
    if isinstance(message, Mapping):
        genai.set_content(
            attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [output_message(message, stop)]
        )


def record_usage(attributes: Attributes, usage: object) -> None:
    """Converse's ``usage``, or Nova's in ``invoke_model`` (whose cache counts end in ``Count``)."""
    if isinstance(usage, Mapping):
        record_counts(
            attributes,
            input_tokens=usage.get("inputTokens"),
            output_tokens=usage.get("outputTokens"),
            cache_read=usage.get("cacheReadInputTokens", usage.get("cacheReadInputTokenCount")),
            cache_write=usage.get("cacheWriteInputTokens", usage.get("cacheWriteInputTokenCount")),
        )


def record_counts(
    attributes: Attributes,
    *,
    input_tokens: object,
    output_tokens: object,
    cache_read: object,
    cache_write: object,
) -> None:
    """Bedrock's token counts as ``gen_ai.usage.*``: the input counts the cached part of the
    prompt too (see the module docstring)."""
    if isinstance(input_tokens, int):
        for cached in (cache_read, cache_write):
            if isinstance(cached, int):
                input_tokens += cached
    genai.set_usage(
        attributes,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_creation_tokens=cache_write,
    )


def input_message(message: Any) -> dict[str, Any]:
    if not isinstance(message, Mapping):
        return genai.message(None, [])
    blocks = message.get("content") or []
    parts = [part for block in blocks if (part := content_part(block)) is not None]
    role = message.get("role")
    # A turn of nothing but tool results answers tool calls: the GenAI "tool" role.
    if parts and all(part["type"] == "tool_call_response" for part in parts):
        role = "tool"
    return genai.message(role, parts)


def output_message(message: Mapping[str, Any], stop: object) -> dict[str, Any]:
    blocks = message.get("content") or []
    parts = [part for block in blocks if (part := content_part(block)) is not None]
    return genai.message(message.get("role") or "assistant", parts, stop)


def content_part(block: object) -> dict[str, Any] | None:
    """One content block of a Converse message as a GenAI part; ``None`` for cache points."""
    if not isinstance(block, Mapping):
        return None
    if "text" in block:
        return genai.text_part(block["text"])
    if "toolUse" in block:
        use = block["toolUse"]
        return genai.tool_call_part(use.get("toolUseId"), use.get("name"), use.get("input"))
    if "toolResult" in block:
        result = block["toolResult"]
        return genai.tool_response_part(result.get("toolUseId"), _tool_result(result))
    if "reasoningContent" in block:
        reasoning = block["reasoningContent"].get("reasoningText") or {}
        return {"type": "reasoning", "content": reasoning.get("text")}
    if "guardContent" in block:
        return genai.text_part((block["guardContent"].get("text") or {}).get("text"))
    if "cachePoint" in block:
        return None
    for modality in ("image", "document", "video", "audio"):
        if modality in block:
            return _media_part(modality, block[modality])
    return {"type": next(iter(block), "unknown")}


def _media_part(modality: str, media: Any) -> dict[str, Any]:
    source = media.get("source") if isinstance(media, Mapping) else None
    location = source.get("s3Location") if isinstance(source, Mapping) else None
    if isinstance(location, Mapping) and isinstance(location.get("uri"), str):
        return genai.uri_part(location["uri"], modality)
    part: dict[str, Any] = {
        "type": "blob",
        "modality": modality,
        "content": f"<{modality} omitted>",
    }
    if isinstance(media, Mapping) and media.get("format"):
        part["format"] = media["format"]
    return part


def _tool_result(result: Mapping[str, Any]) -> object:
    """A tool result's content: its text when it is all text, else the blocks' values."""
    values = []
    for block in result.get("content") or []:
        if isinstance(block, Mapping):
            values.append(block.get("text", block.get("json", block)))
    if values and all(isinstance(value, str) for value in values):
        return "\n".join(values)
    return values[0] if len(values) == 1 else values


class _Block:
    __slots__ = ("arguments", "call_id", "kind", "name", "text")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.text: list[str] = []
        self.arguments: list[str] = []
        self.call_id: object = None
        self.name: object = None


class ConverseStream:
    """Rebuilds the reply of ``converse_stream`` (and of Nova's streamed ``invoke_model``) from
    its events: each a one-key dict (``contentBlockDelta``, ``metadata``, ...)."""

    def __init__(self) -> None:
        self.role: object = None
        self.blocks: dict[int, _Block] = {}
        self.stop: object = None
        self.usage: object = None

    def _block(self, payload: Mapping[str, Any], kind: str) -> _Block:
        index = payload.get("contentBlockIndex", 0)
        block = self.blocks.get(index)
        if block is None:
            block = self.blocks[index] = _Block(kind)
        return block

    def add(self, event: Any) -> None:
        delta = event.get("contentBlockDelta")
        if delta is not None:  # the common case first
            content = delta.get("delta") or {}
            if "text" in content:
                self._block(delta, "text").text.append(content["text"])
            elif "toolUse" in content:
                self._block(delta, "tool").arguments.append(content["toolUse"].get("input", ""))
            elif "reasoningContent" in content:
                text = content["reasoningContent"].get("text")
                if text:
                    self._block(delta, "reasoning").text.append(text)
            return
        start = event.get("contentBlockStart")
        if start is not None:
            use = (start.get("start") or {}).get("toolUse")
            if use is not None:
                block = self._block(start, "tool")
                block.kind, block.call_id, block.name = (
                    "tool",
                    use.get("toolUseId"),
                    use.get("name"),
                )
        elif "messageStart" in event:
            self.role = event["messageStart"].get("role")
        elif "messageStop" in event:
            self.stop = event["messageStop"].get("stopReason")
        elif "metadata" in event:
            self.usage = event["metadata"].get("usage")

    def record(self, attributes: Attributes) -> None:
        if isinstance(self.stop, str):
            attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [self.stop]
        record_usage(attributes, self.usage)
        if not self.blocks and self.role is None:
            return
        parts = []
        for _, block in sorted(self.blocks.items()):
            if block.kind == "tool":
                arguments = "".join(block.arguments)
                parts.append(genai.tool_call_part(block.call_id, block.name, arguments))
            elif block.kind == "reasoning":
                parts.append({"type": "reasoning", "content": "".join(block.text)})
            else:
                parts.append(genai.text_part("".join(block.text)))
        message = genai.message(self.role or "assistant", parts, self.stop)
        genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [message])
