"""OpenAI's message shapes as OpenTelemetry GenAI messages: Chat Completions messages and the
Responses API's input and output items, as request bodies, response objects or their dumps.

One home for the conversion: the OpenAI integration reads requests and responses with it, and the
OpenAI Agents SDK integration the same shapes its spans keep.
"""

from __future__ import annotations

from typing import Any

from traceroot import genai, written_messages
from traceroot.genai import field


# -- Chat Completions ------------------------------------------------------------------------------
def chat_messages(messages: object) -> list[dict[str, Any]] | None:
    """Chat Completions messages (dicts, message objects or their dumps); ``None`` if not a list."""
    if not isinstance(messages, (list, tuple)):
        return None
    return [_chat_message(message) for message in messages]


def chat_messages_json(messages: object) -> str | None:
    """The JSON of :func:`chat_messages` written straight from the request, for a list of
    text-only messages given as dicts (what most requests are); ``None`` for anything else."""
    if messages.__class__ is not list:
        return None
    written = []
    for message in messages:
        if message.__class__ is not dict:
            return None
        role, content = message.get("role"), message.get("content")
        if (
            role.__class__ is not str
            or content.__class__ is not str
            or role in ("tool", "function")
            or message.get("tool_calls")
        ):
            return None
        written.append(written_messages.message(role, written_messages.text_parts(content)))
    return written_messages.array(written)


def _chat_message(message: Any) -> dict[str, Any]:
    role = field(message, "role")
    if role in ("tool", "function"):
        # ``function``: the deprecated form of a tool result, named by the function it answers.
        call_id = field(message, "tool_call_id") or field(message, "name")
        return genai.message(role, [genai.tool_response_part(call_id, _chat_text(message))])
    content = field(message, "content")
    calls = field(message, "tool_calls") or []
    # An assistant turn that only calls tools may say so with empty text (Mistral does).
    parts = chat_content_parts(content) if content or not calls else []
    for call in calls:
        function = field(call, "function")
        parts.append(
            genai.tool_call_part(
                field(call, "id"), field(function, "name"), field(function, "arguments")
            )
        )
    return genai.message(role, parts)


def _chat_text(message: Any) -> Any:
    content = field(message, "content")
    if isinstance(content, list):
        return " ".join(genai.texts(field(part, "text") for part in content))
    return content


def chat_content_parts(content: object) -> list[dict[str, Any]]:
    """A message's ``content`` (text, or a list of typed parts) as GenAI parts."""
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
        elif kind == "refusal":
            parts.append(genai.text_part(field(part, "refusal")))
        elif kind == "thinking":
            thought = field(part, "thinking")
            text = " ".join(genai.texts(field(piece, "text") for piece in thought or ()))
            parts.append({"type": "reasoning", "content": text})
        else:
            parts.append({"type": str(kind)})
    return parts


def chat_output_json(role: object, content: object, finish_reason: object) -> str | None:
    """The JSON of :func:`chat_output_message` for a reply of text only (no refusal, no tool
    calls: the caller has checked), written straight; ``None`` for anything else."""
    if (
        role.__class__ is not str
        or not (content is None or content.__class__ is str)
        or not (finish_reason is None or finish_reason.__class__ is str)
    ):
        return None
    parts = written_messages.text_parts(content) if content else "[]"
    return written_messages.message(role, parts, finish_reason)


def chat_output_message(message: Any, finish_reason: object) -> dict[str, Any]:
    content = field(message, "content")
    parts = chat_content_parts(content) if content else []
    refusal = field(message, "refusal")
    if refusal:
        parts.append({"type": "refusal", "content": refusal})
    for call in field(message, "tool_calls") or []:
        function = field(call, "function")
        parts.append(
            genai.tool_call_part(
                field(call, "id"), field(function, "name"), field(function, "arguments")
            )
        )
    return genai.message(field(message, "role") or "assistant", parts, finish_reason)


# -- Responses API ---------------------------------------------------------------------------------
def response_input_messages(value: object) -> list[dict[str, Any]]:
    """The ``input`` of a Responses API request: a string or a list of input items."""
    if value is None:
        return []
    if isinstance(value, str):
        return [genai.message("user", [genai.text_part(value)])]
    messages: list[dict[str, Any]] = []
    for item in value if isinstance(value, (list, tuple)) else [value]:
        kind = field(item, "type")
        if kind == "function_call":
            part = genai.tool_call_part(
                field(item, "call_id"), field(item, "name"), field(item, "arguments")
            )
            messages.append(genai.message("assistant", [part]))
        elif kind == "function_call_output":
            part = genai.tool_response_part(field(item, "call_id"), field(item, "output"))
            messages.append(genai.message("tool", [part]))
        elif field(item, "role") is not None:
            messages.append(
                genai.message(field(item, "role"), _response_content_parts(field(item, "content")))
            )
        else:
            messages.append(genai.message("user", [{"type": str(kind)}]))
    return messages


def response_output_message(output: list[Any], reason: object = None) -> dict[str, Any]:
    """A response's output items as one assistant message: its text and its function calls."""
    parts: list[dict[str, Any]] = []
    for item in output:
        kind = field(item, "type")
        if kind == "message":
            parts.extend(_response_content_parts(field(item, "content")))
        elif kind == "function_call":
            parts.append(
                genai.tool_call_part(
                    field(item, "call_id"), field(item, "name"), field(item, "arguments")
                )
            )
    return genai.message("assistant", parts, reason)


def _response_content_parts(content: object) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [genai.text_part(content)]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, (list, tuple)) else []:
        kind = field(part, "type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(genai.text_part(field(part, "text")))
        elif kind == "input_image":
            url = field(part, "image_url") or field(part, "file_id")
            parts.append(genai.uri_part(str(url), "image"))
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": field(part, "refusal")})
        else:
            parts.append({"type": str(kind)})
    return parts
