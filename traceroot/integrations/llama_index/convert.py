"""LlamaIndex objects and events in the shapes traceroot records."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from traceroot import genai, semconv
from traceroot.genai import field

_TEXT_LIMIT: Final = 2_000  # characters of a retrieved node's text; the budget caps the rest


class CoreTypes(NamedTuple):
    llm: type
    embedding: type
    retriever: type
    tool: type


@functools.cache
def core_types() -> CoreTypes:
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.base.llms.base import BaseLLM
    from llama_index.core.tools.types import BaseTool

    return CoreTypes(BaseLLM, BaseEmbedding, BaseRetriever, BaseTool)


def provider(instance: Any) -> str:
    name = type(instance).__name__.lower()
    if "azure" in name:
        return semconv.PROVIDER_AZURE_OPENAI
    for known in ("openai", "anthropic", "mistral", "groq", "ollama", "gemini", "bedrock"):
        if known in name:
            return known
    return "llama_index"


def model_name(instance: Any) -> Any:
    metadata = getattr(instance, "metadata", None)
    return (
        getattr(instance, "model", None)
        or getattr(instance, "model_name", None)
        or getattr(metadata, "model_name", None)
    )


def tool_name(instance: Any) -> Any:
    return getattr(getattr(instance, "metadata", None), "name", None)


def arguments(bound_args: Any) -> Any:
    values = dict(getattr(bound_args, "arguments", {}) or {})
    values.pop("self", None)
    values.pop("cls", None)
    kwargs = values.pop("kwargs", None)
    if isinstance(kwargs, Mapping):
        values.update(kwargs)
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    """Query bundles become their text; messages their role and content."""
    query = getattr(value, "query_str", None)
    if isinstance(query, str):
        return query
    return value


def response(result: Any) -> Any:
    text = getattr(result, "response", None)
    if isinstance(text, str):
        return text
    return result


def _message(message: Any) -> dict[str, Any]:
    role = getattr(getattr(message, "role", None), "value", None) or str(
        getattr(message, "role", "user")
    )
    parts: list[dict[str, Any]] = []
    content = getattr(message, "content", None)
    if content:
        parts.append(genai.text_part(content))
    extra = getattr(message, "additional_kwargs", None) or {}
    for call in extra.get("tool_calls") or ():
        function = field(call, "function")
        parts.append(
            genai.tool_call_part(
                field(call, "id"), field(function, "name"), field(function, "arguments")
            )
        )
    if role == "tool":
        return genai.message(role, [genai.tool_response_part(extra.get("tool_call_id"), content)])
    return genai.message(role, parts)


def _usage(response: Any, attributes: dict[str, Any]) -> None:
    raw = getattr(response, "raw", None)
    usage = field(raw, "usage") if raw is not None else None
    extra = getattr(response, "additional_kwargs", None) or {}
    source = usage if usage is not None else extra
    genai.set_usage(
        attributes,
        input_tokens=field(source, "prompt_tokens", field(source, "input_tokens")),
        output_tokens=field(source, "completion_tokens", field(source, "output_tokens")),
    )
    genai.set_if(
        attributes, semconv.GEN_AI_RESPONSE_ID, field(raw, "id") if raw is not None else None
    )
    genai.set_if(
        attributes, semconv.GEN_AI_RESPONSE_MODEL, field(raw, "model") if raw is not None else None
    )


def _nodes(nodes: Any) -> list[dict[str, Any]]:
    found = []
    for scored in nodes or ():
        node = getattr(scored, "node", scored)
        text = getattr(node, "text", None) or (
            node.get_content() if hasattr(node, "get_content") else ""
        )
        found.append(
            {
                "id": getattr(node, "node_id", None),
                "score": getattr(scored, "score", None),
                "text": text[:_TEXT_LIMIT] if isinstance(text, str) else text,
            }
        )
    return found


def event_attributes(kind: str, event: Any, attributes: dict[str, Any]) -> None:
    """The attributes one dispatcher event adds to its span."""
    if kind == "LLMChatStartEvent":
        messages = [_message(m) for m in getattr(event, "messages", None) or ()]
        genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, messages)
        _model_dict(getattr(event, "model_dict", None), attributes)
    elif kind == "LLMCompletionStartEvent":
        prompt = genai.message("user", [genai.text_part(getattr(event, "prompt", None))])
        genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, [prompt])
        _model_dict(getattr(event, "model_dict", None), attributes)
    elif kind == "LLMChatEndEvent":
        reply = getattr(event, "response", None)
        if reply is not None:
            output = _message(reply.message)
            genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [output])
            _usage(reply, attributes)
    elif kind == "LLMCompletionEndEvent":
        reply = getattr(event, "response", None)
        if reply is not None:
            output = genai.message("assistant", [genai.text_part(getattr(reply, "text", None))])
            genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [output])
            _usage(reply, attributes)
    elif kind == "EmbeddingEndEvent":
        chunks = getattr(event, "chunks", None) or []
        attributes[semconv.LLM_INPUT_COUNT] = len(chunks)
        vectors = getattr(event, "embeddings", None) or []
        if vectors and isinstance(vectors[0], (list, tuple)):
            attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vectors[0])
    elif kind == "RetrievalEndEvent":
        nodes = getattr(event, "nodes", None) or []
        attributes[semconv.RETRIEVAL_DOCUMENT_COUNT] = len(nodes)
        genai.set_content(attributes, semconv.SPAN_OUTPUT, _nodes(nodes))


def _model_dict(model: Any, attributes: dict[str, Any]) -> None:
    if not isinstance(model, Mapping):
        return
    genai.set_if(
        attributes, semconv.GEN_AI_REQUEST_MODEL, model.get("model") or model.get("model_name")
    )
    for key in ("temperature", "max_tokens", "top_p"):
        genai.set_if(attributes, semconv.MODEL_PARAMETER_ATTRIBUTES[key], model.get(key))
