"""LangChain messages, results and documents in the shapes traceroot records."""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
from collections.abc import Sequence
from json.encoder import encode_basestring as quote
from typing import Any, Final

from traceroot import genai, secrets, semconv, spans, written_messages
from traceroot.genai import field

_ROLES: Final = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "tool",
    "developer": "system",
}


def readable(value: Any) -> Any:
    """A chain's input or output with LangChain messages in the GenAI shape: far smaller and
    cheaper than dumping every field of each message model."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {key: readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    if isinstance(value, _message_types()):
        return _message(value)
    if isinstance(value, _prompt_value_types()):
        # The same shape as a model span's input messages, so the text can be shared.
        return input_messages(value.to_messages())  # type: ignore[attr-defined]
    fields = _graph_command_fields(value)
    if fields is not None:
        return {key: readable(item) for key, item in fields.items()}
    return value


def _graph_command_fields(value: Any) -> dict[str, Any] | None:
    """The fields of a LangGraph ``Send`` or ``Command``, which carry graph state (messages
    included) to a node: recorded by the same fields as any object, with the messages inside in
    the GenAI shape rather than dumped whole (several times the size, and the time)."""
    graph_types = sys.modules.get("langgraph.types")  # no such value before LangGraph is loaded
    if graph_types is None:
        return None
    send = getattr(graph_types, "Send", None)
    if send is not None and isinstance(value, send):
        return {"node": getattr(value, "node", None), "arg": getattr(value, "arg", None)}
    command = getattr(graph_types, "Command", None)  # LangGraph 0.2.24 and later
    if command is not None and isinstance(value, command) and dataclasses.is_dataclass(value):
        return {field.name: getattr(value, field.name, None) for field in dataclasses.fields(value)}
    return None


@functools.cache
def _message_types() -> tuple[type, ...]:
    from langchain_core.messages import BaseMessage

    return (BaseMessage,)


@functools.cache
def _prompt_value_types() -> tuple[type, ...]:
    from langchain_core.prompt_values import PromptValue

    return (PromptValue,)


def input_messages(messages: Sequence[Any]) -> list[dict[str, Any]]:
    return [_message(message) for message in messages]


def plain_json(value: Any) -> str | None:
    """The JSON of what :func:`readable` makes of ``value``, written straight from the messages,
    for what carries most prompts, replies and graph state: a prompt value, a list of messages or
    one message (text content, tool calls with plain arguments, tool results), or a dict of those
    and of plain values (strings, numbers, nested such dicts) under ordinary keys. ``None`` for
    anything else, which takes the general path.

    Object keys it writes are the GenAI shape's own or were checked one by one (and a tool call's
    arguments as a whole) against the secret names, so no secret-named key can be in it.
    """
    if value.__class__ is dict:
        return _plain_object(value, 0)
    if isinstance(value, str):
        return None  # recorded as itself, ruled out before any class check
    if isinstance(value, list):
        return _plain_messages(value)
    if isinstance(value, _message_types()):
        return _plain_message(value)
    if isinstance(value, _prompt_value_types()):
        return _plain_messages(value.to_messages())  # type: ignore[attr-defined]
    return None


def plain_value_json(value: Any) -> str | None:
    """The JSON :func:`traceroot.serialize.to_json` makes of a tool's arguments or result, written
    straight, for a string or a dict or list of plain values (:func:`_plain_value`, no messages:
    those ``to_json`` dumps whole); ``None`` for anything else, which takes the general path."""
    kind = value.__class__
    if kind is str:
        return quote(value)
    if kind is dict:
        return _plain_object(value, 0, messages=False)
    if kind is list:
        return _plain_list(value, 0)
    return None


def _plain_messages(messages: list[Any]) -> str | None:
    if not messages or not isinstance(messages[0], _message_types()):
        return None
    written = []
    for message in messages:
        text = _plain_message(message) if isinstance(message, _message_types()) else None
        if text is None:
            return None
        written.append(text)
    return "[" + ",".join(written) + "]"


# Values nested deeper than this take the general path (graph state is one or two levels deep).
_PLAIN_DEPTH: Final = 4
_BIG_INT: Final = 1 << 63
_RECORD_NAMES: Final = frozenset(secrets.RECORD_NAME_FIELDS)


def _plain_object(value: dict[Any, Any], depth: int, messages: bool = True) -> str | None:
    """A dict as the general path writes it, or ``None``: each key a plain string that is no
    secret's name, each value a plain one (:func:`_plain_value`); not a ``{"name": ...,
    "value": ...}`` record, which the general path looks into."""
    if depth > _PLAIN_DEPTH or ("value" in value and not _RECORD_NAMES.isdisjoint(value)):
        return None
    written = []
    for key, item in value.items():
        if key.__class__ is not str:
            return None
        quoted = quote(key)
        if secrets.is_secret_spelling(quoted[1:-1]):
            return None
        text = _plain_value(item, depth, messages)
        if text is None:
            return None
        written.append(quoted + ":" + text)
    return "{" + ",".join(written) + "}"


def _plain_value(item: Any, depth: int, messages: bool) -> str | None:
    """A string, number, boolean, ``None``, such a dict or list, or (where ``messages``: in graph
    state, not in a tool call's arguments, whose messages the general path dumps whole) a message
    or a list of messages, as the general path writes it; else ``None``."""
    kind = item.__class__
    if kind is str:
        return quote(item)
    if item is None:
        return "null"
    if kind is bool:
        return "true" if item else "false"
    if kind is int:
        return int.__repr__(item) if -_BIG_INT < item < _BIG_INT else None
    if kind is float:
        return float.__repr__(item) if math.isfinite(item) else None
    if kind is dict:
        return _plain_object(item, depth + 1, messages)
    if kind is list:
        if messages and item and isinstance(item[0], _message_types()):
            return _plain_messages(item)
        return _plain_list(item, depth + 1)
    if messages and isinstance(item, _message_types()):
        return _plain_message(item)
    return None


def _plain_list(items: list[Any], depth: int) -> str | None:
    """A list of plain values with no message in it; not a ``["Authorization", ...]`` pair (a
    list whose first item names a secret), which the general path looks into."""
    if depth > _PLAIN_DEPTH:
        return None
    first = items[0] if items else None
    if first.__class__ is str and secrets.is_secret_spelling(quote(first)[1:-1]):
        return None
    written = []
    for item in items:
        text = _plain_value(item, depth, False)
        if text is None:
            return None
        written.append(text)
    return "[" + ",".join(written) + "]"


_PLAIN_ROLES: Final = {
    "human": "user",
    "system": "system",
    "developer": "system",
    "ai": "assistant",
}


def _plain_message(message: Any) -> str | None:
    """:func:`_message`'s JSON for a message with text content (and an assistant's tool calls
    with plain arguments), or a tool's text result; else ``None``."""
    kind = getattr(message, "type", None)
    content = getattr(message, "content", None)
    if content.__class__ is not str:
        return None
    if kind == "tool":
        call_id = getattr(message, "tool_call_id", None)
        if not (call_id is None or call_id.__class__ is str):
            return None
        part = '{"type":"tool_call_response","id":' + _quote_or_null(call_id)
        return '{"role":"tool","parts":[' + part + ',"response":' + quote(content) + "}]}"
    role = _PLAIN_ROLES.get(kind) if kind.__class__ is str else None
    if role is None:
        return None
    parts = written_messages.text_parts(content) if content else "[]"
    if role != "assistant":
        return written_messages.message(role, parts)
    calls = getattr(message, "tool_calls", None)
    if calls:
        with_calls = _with_tool_calls(parts, calls)
        if with_calls is None:
            return None
        parts = with_calls
    reason = _own_finish_reason(message)
    if not (reason is None or reason.__class__ is str):
        return None
    return written_messages.message(role, parts, reason)


def _with_tool_calls(parts: str, calls: Any) -> str | None:
    """``parts`` (written) with a part for each tool call, or ``None`` unless each is a dict with
    a string (or no) id and name and plain arguments (:func:`_plain_object`)."""
    if calls.__class__ is not list:
        return None
    written = [parts[1:-1]] if parts != "[]" else []
    for call in calls:
        if call.__class__ is not dict:
            return None
        call_id, name, arguments = call.get("id"), call.get("name"), call.get("args")
        if arguments.__class__ is not dict:
            return None
        if not (call_id is None or call_id.__class__ is str):
            return None
        if not (name is None or name.__class__ is str):
            return None
        encoded = _plain_object(arguments, 1, messages=False)
        if encoded is None:
            return None
        written.append(
            '{"type":"tool_call","id":'
            + _quote_or_null(call_id)
            + ',"name":'
            + _quote_or_null(name)
            + ',"arguments":'
            + encoded
            + "}"
        )
    return "[" + ",".join(written) + "]"


def _quote_or_null(text: str | None) -> str:
    return "null" if text is None else quote(text)


def _own_finish_reason(message: Any) -> Any:
    """Why the model stopped, as the message itself says."""
    metadata = getattr(message, "response_metadata", None)
    return (metadata and (metadata.get("finish_reason") or metadata.get("stop_reason"))) or None


def _message(message: Any) -> dict[str, Any]:
    # Only attributes the message type has are read: a missing one on a pydantic model costs a
    # raised and caught AttributeError, many times the price of a hit.
    kind = getattr(message, "type", None)
    role = _ROLES.get(kind) if isinstance(kind, str) else None
    if role is None:
        role = getattr(message, "role", None) or str(kind)
    if role == "tool":
        response = genai.tool_response_part(
            getattr(message, "tool_call_id", None), getattr(message, "content", None)
        )
        return genai.message(role, [response])
    parts = _content_parts(getattr(message, "content", None))
    if role != "assistant":
        return genai.message(role, parts)
    for call in getattr(message, "tool_calls", None) or ():
        parts.append(
            genai.tool_call_part(field(call, "id"), field(call, "name"), field(call, "args"))
        )
    return genai.message(role, parts, _own_finish_reason(message))


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [genai.text_part(content)]
    parts: list[dict[str, Any]] = []
    for block in content if isinstance(content, list) else [content]:
        if isinstance(block, str):
            parts.append(genai.text_part(block))
            continue
        kind = field(block, "type")
        if kind == "text":
            parts.append(genai.text_part(field(block, "text")))
        elif kind == "image_url":
            image = field(block, "image_url")
            url = image if isinstance(image, str) else field(image, "url")
            parts.append(genai.uri_part(str(url), "image"))
        elif kind in ("image", "audio", "file", "video"):
            url = field(block, "url") or field(block, "file_id")
            if url:
                parts.append(genai.uri_part(str(url), str(kind)))
            else:
                parts.append({"type": "blob", "modality": kind, "content": f"<{kind} omitted>"})
        elif kind in ("tool_use", "tool_call"):
            arguments = field(block, "input", field(block, "args"))
            parts.append(genai.tool_call_part(field(block, "id"), field(block, "name"), arguments))
        else:
            parts.append({"type": str(kind)})
    return parts


def model_response(response: Any) -> tuple[dict[str, Any], Any]:
    """Attributes from an ``LLMResult``: response model and id, finish reasons, output messages
    and token usage.

    Also the message of a single-generation result when its output entry is exactly what
    :func:`readable` makes of it (the next step of a chain usually gets that very object), else
    ``None``.
    """
    attributes: dict[str, Any] = {}
    generations = getattr(response, "generations", None) or [[]]
    batch = generations[0] if generations else []
    llm_output = getattr(response, "llm_output", None) or {}
    if not isinstance(llm_output, dict):
        llm_output = {}
    reasons = []
    model: Any = llm_output.get("model_name")
    response_id = None
    counts = _Counts()
    for generation in batch:
        message = getattr(generation, "message", None)
        info = getattr(generation, "generation_info", None) or {}
        metadata = getattr(message, "response_metadata", None) or {}
        reasons.append(
            info.get("finish_reason")
            or metadata.get("finish_reason")
            or metadata.get("stop_reason")
        )
        if metadata:
            model = metadata.get("model_name") or metadata.get("model") or model
            response_id = response_id or metadata.get("id")
        if message is not None:
            counts.add(getattr(message, "usage_metadata", None))
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, model)
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_ID, response_id)
    known = [str(reason) for reason in reasons if reason is not None]
    if known:
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = known
    sole = _sole_message(batch, reasons)
    written = _plain_message(sole) if sole is not None else None
    if written is None or not spans.prewritten_into(
        attributes, semconv.GEN_AI_OUTPUT_MESSAGES, "[" + written + "]"
    ):
        outputs = [
            _output(generation, reason) for generation, reason in zip(batch, reasons, strict=True)
        ]
        genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, outputs)
    if not counts.seen:
        counts.add_provider_usage(llm_output.get("token_usage") or llm_output.get("usage"))
    if counts.seen:
        genai.set_usage(
            attributes,
            input_tokens=counts.input,
            output_tokens=counts.output,
            cache_read_tokens=counts.cache_read or None,
            reasoning_tokens=counts.reasoning or None,
        )
    return attributes, sole


def _output(generation: Any, reason: Any) -> dict[str, Any]:
    """One output message: the generation's message as an assistant's, with the finish reason."""
    message = getattr(generation, "message", None)
    if message is None:
        text = getattr(generation, "text", "")
        return genai.message("assistant", [genai.text_part(text)], reason)
    output = _message(message)
    output["role"] = "assistant"
    if reason is not None and output.get("finish_reason") != reason:
        output["finish_reason"] = reason
    return output


def _sole_message(batch: Sequence[Any], reasons: Sequence[Any]) -> Any:
    """The message of a one-generation result whose output entry is exactly :func:`readable`'s
    form of it (an assistant's message stopped for the reason it gives itself), else ``None``."""
    if len(batch) != 1:
        return None
    message = getattr(batch[0], "message", None)
    kind = getattr(message, "type", None)
    if message is None or not isinstance(kind, str) or _ROLES.get(kind) != "assistant":
        return None
    return message if reasons[0] == _own_finish_reason(message) else None


class _Counts:
    """Token counts summed over a result's generations."""

    __slots__ = ("cache_read", "input", "output", "reasoning", "seen")

    def __init__(self) -> None:
        self.input = self.output = self.cache_read = self.reasoning = 0
        self.seen = False

    def add(self, usage: Any) -> None:
        """A message's ``usage_metadata`` (LangChain's standard counts)."""
        if not usage:
            return
        self.seen = True
        self.input += field(usage, "input_tokens", 0) or 0
        self.output += field(usage, "output_tokens", 0) or 0
        self.cache_read += field(field(usage, "input_token_details", {}), "cache_read", 0) or 0
        self.reasoning += field(field(usage, "output_token_details", {}), "reasoning", 0) or 0

    def add_provider_usage(self, usage: Any) -> None:
        """Counts in the provider's own words, from ``llm_output`` (older integrations)."""
        if not usage:
            return
        self.input = field(usage, "prompt_tokens", field(usage, "input_tokens", 0)) or 0
        self.output = field(usage, "completion_tokens", field(usage, "output_tokens", 0)) or 0
        self.seen = bool(self.input or self.output)


def documents(found: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": getattr(document, "id", None),
            "content": getattr(document, "page_content", None),
            "metadata": getattr(document, "metadata", None),
        }
        for document in found
    ]
