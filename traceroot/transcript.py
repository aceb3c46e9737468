"""Chat messages found in stored values, as lines of text: what ``traceroot show`` prints.

A span's input or output often holds a conversation in one of a few shapes: the GenAI
conventions' messages (``{"role", "parts"}``, as ``gen_ai.input.messages`` and traceroot's
LangChain integration record them), chat-completion messages (``{"role", "content",
"tool_calls"}``), LangChain messages dumped field by field (``{"type": "ai", "content",
"tool_calls"}``) or as constructors (``{"lc": 1, "id": [..., "AIMessage"]}``), and the LangGraph
values that carry them: a graph state (``{"messages": [...]}``), a node's ``Command`` (``{"update",
"goto", "graph", "resume"}``) and a ``Send``. :func:`chat_lines` reads any of them, nested in any
of the others, as ``role: text`` lines, tool calls as ``-> name(arguments)`` and tool results as
``<- result``. Anything else is not a chat: ``None``, and the caller shows it as it is.

The lines are plain text, neither escaped nor shortened: the caller makes them fit a terminal.
"""

from __future__ import annotations

import json
from typing import Any, Final

# LangChain message types (``BaseMessage.type``) and constructor names, as chat roles.
_ROLES: Final = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
    "function": "tool",
    "chat": "",  # the message's own ``role`` says
    "HumanMessage": "user",
    "AIMessage": "assistant",
    "SystemMessage": "system",
    "ToolMessage": "tool",
    "FunctionMessage": "tool",
    "ChatMessage": "",
}
_COMMAND_KEYS: Final = frozenset({"graph", "update", "resume", "goto"})
_TEXT_BLOCKS: Final = frozenset({"text", "input_text", "output_text"})


def chat_lines(value: Any) -> list[str] | None:
    """The messages in ``value`` (parsed JSON) as lines, or ``None`` when it holds no chat.

    >>> chat_lines({"messages": [{"type": "human", "content": "hi"}]})
    ['user: hi']
    """
    if isinstance(value, list):
        if not value:
            return None
        lines: list[str] = []
        for item in value:
            found = _item(item)
            if found is None:
                return None
            lines.extend(found)
        return lines
    return _item(value)


def _item(value: Any) -> list[str] | None:
    """One element: a message, a tool call, a graph state, a ``Command`` or a ``Send``."""
    if not isinstance(value, dict):
        return None
    message = _message(value)
    if message is not None:
        return [message]
    if _is_tool_call(value):
        return [_call(value)]
    if isinstance(value.get("messages"), list):
        return _state(value)
    if "update" in value and value.keys() <= _COMMAND_KEYS:
        return _command(value)
    if value.keys() == {"node", "arg"}:
        return _send(value["node"], value["arg"])
    if value.get("__type") == "tool_call_with_context" and _is_tool_call(value.get("tool_call")):
        # What LangGraph's ToolNode gets per call: the call, and the whole state beside it.
        return [_call(value["tool_call"])]
    return None


def _state(state: dict[str, Any]) -> list[str] | None:
    """A graph state: its messages, then its other keys as ``key: value``."""
    lines: list[str] = []
    for message in state["messages"]:
        found = _item(message)
        if found is None:
            return None
        lines.extend(found)
    if not state["messages"]:
        lines.append("(no messages)")
    lines.extend(f"{key}: {_compact(item)}" for key, item in state.items() if key != "messages")
    return lines


def _command(command: dict[str, Any]) -> list[str] | None:
    update = command.get("update")
    lines = [] if update is None else chat_lines(update) or [f"update: {_compact(update)}"]
    goto = command.get("goto")
    for target in goto if isinstance(goto, list) else [goto] if goto else []:
        if isinstance(target, dict) and target.keys() == {"node", "arg"}:
            lines.extend(_send(target["node"], target["arg"]))
        else:
            lines.append(f"goto: {_compact(target)}")
    if command.get("resume") is not None:
        lines.append(f"resume: {_compact(command['resume'])}")
    if command.get("graph") is not None:
        lines.append(f"graph: {_compact(command['graph'])}")
    return lines or None


def _send(node: Any, argument: Any) -> list[str]:
    lines = chat_lines(argument) or [_compact(argument)]
    if len(lines) == 1:
        return [f"send to {_compact(node)}: {lines[0]}"]
    return [f"send to {_compact(node)}:", *lines]


def _message(value: dict[str, Any]) -> str | None:
    """One message as ``role: text``, or ``None`` when ``value`` is not a message."""
    role = value.get("role")
    if isinstance(role, str) and isinstance(value.get("parts"), list):
        return _line(role, _parts(value["parts"]))
    if isinstance(role, str) and "content" in value:
        return _line(role, _content(role, value))
    kind = value.get("type")
    if isinstance(kind, str) and "content" in value:
        role = _ROLES.get(kind.removesuffix("Chunk"))
        if role is not None:
            return _line(role or str(value.get("role", "?")), _content(role, value))
    ids = value.get("id")
    if (
        value.get("lc") == 1
        and isinstance(ids, list)
        and ids
        and isinstance(value.get("kwargs"), dict)
    ):
        # ``langchain_core.load.dumpd``: the message's fields are its constructor's arguments.
        role = _ROLES.get(str(ids[-1]).removesuffix("Chunk"))
        if role is not None:
            fields = value["kwargs"]
            return _line(role or str(fields.get("role", "?")), _content(role, fields))
    return None


def _line(role: str, text: str) -> str:
    return f"{role}: {text}" if text else f"{role}: (empty)"


def _content(role: str, message: dict[str, Any]) -> str:
    """A chat-completion or LangChain message's text, tool calls and tool result."""
    pieces = [_blocks(message.get("content"))]
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        pieces.extend(_call(call) for call in calls if isinstance(call, dict))
    text = " ".join(piece for piece in pieces if piece)
    if role == "tool":
        return f"<- {text}"
    return text


def _blocks(content: Any) -> str:
    """Message content: a string, or a list of content blocks (text, images, tool uses)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return _compact(content)
    shown = []
    for block in content:
        if isinstance(block, str):
            shown.append(block)
        elif not isinstance(block, dict):
            shown.append(_compact(block))
        elif block.get("type") in _TEXT_BLOCKS:
            shown.append(str(block.get("text", "")))
        elif block.get("type") == "tool_use":  # Anthropic's, inside LangChain content
            shown.append(_call({"name": block.get("name"), "args": block.get("input")}))
        else:
            shown.append(f"<{block.get('type', '?')}>")
    return " ".join(shown)


def _parts(parts: list[Any]) -> str:
    """GenAI message parts: text, tool calls, tool results; other modalities by their type."""
    shown = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            shown.append(str(part.get("content")))
        elif kind == "tool_call":
            shown.append(_call(part))
        elif kind == "tool_call_response":
            shown.append(f"<- {_text(part.get('response'))}")
        elif kind == "reasoning":
            shown.append(f"(reasoning) {part.get('content')}")
        else:
            shown.append(f"<{kind}>")
    return " ".join(shown)


def _is_tool_call(value: Any) -> bool:
    """A LangChain ``ToolCall`` (``{"name", "args", "id", "type": "tool_call"}``)."""
    return isinstance(value, dict) and value.get("type") == "tool_call" and "name" in value


def _call(call: dict[str, Any]) -> str:
    """A tool call in any of the shapes: LangChain's ``args``, the GenAI part's ``arguments``,
    chat completions' ``function`` with its arguments as a JSON string."""
    function = call.get("function")
    if isinstance(function, dict):
        name, arguments = function.get("name"), function.get("arguments")
    else:
        name, arguments = call.get("name"), call.get("args", call.get("arguments"))
    if isinstance(arguments, str):
        shown = arguments  # already JSON, as the model wrote it
    else:
        shown = json.dumps(arguments, ensure_ascii=False, default=str)
    return f"-> {name}({shown})"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else _compact(value)


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
