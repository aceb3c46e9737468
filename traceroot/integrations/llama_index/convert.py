"""LlamaIndex objects and events in the shapes traceroot records."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from traceroot import genai, semconv
from traceroot.genai import field


class CoreTypes(NamedTuple):
    """LlamaIndex's classes that traceroot tells apart, imported once LlamaIndex is in use.
    (Typed ``Any``: they are checked with ``isinstance``, then read by attribute.)"""

    llm: Any
    embedding: Any
    retriever: Any
    tool: Any
    component: Any
    node_with_score: Any
    node: Any
    query_bundle: Any
    chat_message: Any
    prompt: Any
    selector_prompt: Any
    event: Any
    stop_event: Any


class _Absent:
    """Stands for a class this LlamaIndex version does not have: nothing is an instance of it."""


@functools.cache
def core_types() -> CoreTypes:
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.base.llms.base import BaseLLM
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.prompts.base import BasePromptTemplate, SelectorPromptTemplate
    from llama_index.core.schema import BaseComponent, BaseNode, NodeWithScore, QueryBundle
    from llama_index.core.tools.types import BaseTool

    event: Any = _Absent
    stop_event: Any = _Absent
    try:  # workflows (agents) arrived in 0.11
        from llama_index.core.workflow import Event, StopEvent
    except ImportError:
        pass
    else:
        event, stop_event = Event, StopEvent
    return CoreTypes(
        llm=BaseLLM,
        embedding=BaseEmbedding,
        retriever=BaseRetriever,
        tool=BaseTool,
        component=BaseComponent,
        node_with_score=NodeWithScore,
        node=BaseNode,
        query_bundle=QueryBundle,
        chat_message=ChatMessage,
        prompt=BasePromptTemplate,
        selector_prompt=SelectorPromptTemplate,
        event=event,
        stop_event=stop_event,
    )


class Role(enum.Enum):
    """What a LlamaIndex object is to traceroot: the kind of span its public calls make."""

    LLM = "llm"
    EMBEDDING = "embedding"
    RETRIEVER = "retriever"
    TOOL = "tool"
    OTHER = "other"


# Every LlamaIndex call asks what its object is (a query makes 14 such calls, most on objects
# whose classes are abstract-base subclasses, where ``isinstance`` costs most): asked once a class.
_roles: dict[type, Role] = {}


def role(instance: Any) -> Role:
    """What ``instance`` is, by its class: the answer of :func:`classify`, kept per class."""
    found = _roles.get(type(instance))
    if found is None:
        found = _roles[type(instance)] = classify(instance)
    return found


def classify(instance: Any) -> Role:
    """What ``instance`` is, asked of LlamaIndex's base classes (the general path)."""
    types = core_types()
    if isinstance(instance, types.llm):
        return Role.LLM
    if isinstance(instance, types.embedding):
        return Role.EMBEDDING
    if isinstance(instance, types.retriever):
        return Role.RETRIEVER
    if isinstance(instance, types.tool):
        return Role.TOOL
    return Role.OTHER


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


def _chat_start(event: Any, attributes: dict[str, Any]) -> None:
    messages = [_message(m) for m in getattr(event, "messages", None) or ()]
    genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, messages)
    _model_dict(getattr(event, "model_dict", None), attributes)


def _completion_start(event: Any, attributes: dict[str, Any]) -> None:
    prompt = genai.message("user", [genai.text_part(getattr(event, "prompt", None))])
    genai.set_content(attributes, semconv.GEN_AI_INPUT_MESSAGES, [prompt])
    _model_dict(getattr(event, "model_dict", None), attributes)


def _chat_end(event: Any, attributes: dict[str, Any]) -> None:
    reply = getattr(event, "response", None)
    if reply is not None:
        output = _message(reply.message)
        genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [output])
        _usage(reply, attributes)


def _completion_end(event: Any, attributes: dict[str, Any]) -> None:
    reply = getattr(event, "response", None)
    if reply is not None:
        output = genai.message("assistant", [genai.text_part(getattr(reply, "text", None))])
        genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [output])
        _usage(reply, attributes)


def _embedding_end(event: Any, attributes: dict[str, Any]) -> None:
    chunks = getattr(event, "chunks", None) or []
    attributes[semconv.LLM_INPUT_COUNT] = len(chunks)
    vectors = getattr(event, "embeddings", None) or []
    if vectors and isinstance(vectors[0], (list, tuple)):
        attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vectors[0])


def _retrieval_end(event: Any, attributes: dict[str, Any]) -> None:
    nodes = getattr(event, "nodes", None) or []
    attributes[semconv.RETRIEVAL_DOCUMENT_COUNT] = len(nodes)


# The dispatcher's events that add attributes to their span, by class name; every other event
# (a query's or a synthesis's start and end, ...) adds nothing, and is passed over by name.
EVENT_READERS: Final[Mapping[str, Callable[[Any, dict[str, Any]], None]]] = {
    "LLMChatStartEvent": _chat_start,
    "LLMCompletionStartEvent": _completion_start,
    "LLMChatEndEvent": _chat_end,
    "LLMCompletionEndEvent": _completion_end,
    "EmbeddingEndEvent": _embedding_end,
    "RetrievalEndEvent": _retrieval_end,
}


def _model_dict(model: Any, attributes: dict[str, Any]) -> None:
    if not isinstance(model, Mapping):
        return
    genai.set_if(
        attributes, semconv.GEN_AI_REQUEST_MODEL, model.get("model") or model.get("model_name")
    )
    for key in ("temperature", "max_tokens", "top_p"):
        genai.set_if(attributes, semconv.MODEL_PARAMETER_ATTRIBUTES[key], model.get(key))
