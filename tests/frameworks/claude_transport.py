"""A Claude Code CLI stand-in for the Claude Agent SDK tests: a custom ``Transport`` that answers
the SDK's control requests and replays a recorded ``--output-format stream-json`` conversation.

The real transport runs the Claude Code CLI (a Node binary) as a subprocess; it cannot run here
(no binary, no network). What the SDK does with the CLI's messages (parse them, route control
requests, end the stream on ``result``) runs for real; only the subprocess is replaced.

The recording: a system ``init`` message carrying the session id, two model calls that each ask
for a tool (the CLI sends one ``assistant`` message per content block, the API message's usage
repeated on each), the tools' results as ``user`` messages, a final answer, and the ``result``
message with the run's total usage and cost.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from claude_agent_sdk import Transport

SESSION = "3f1c9a52-claude-session"
MODEL = "claude-sonnet-4-5"


def _usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": 100,
        "cache_creation_input_tokens": 0,
    }


# Per model call: (message id, usage). The result's usage is their sum.
CALLS = (("msg_01", _usage(20, 30)), ("msg_02", _usage(40, 25)), ("msg_03", _usage(60, 12)))
TOTAL_INPUT = sum(usage["input_tokens"] for _, usage in CALLS)
TOTAL_OUTPUT = sum(usage["output_tokens"] for _, usage in CALLS)
COST = 0.0123


def _assistant(message_id: str, usage: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [block],
            "stop_reason": None,
            "usage": usage,
        },
        "parent_tool_use_id": None,
        "session_id": SESSION,
        "uuid": f"uuid-{message_id}-{block['type']}",
    }


def _tool_result(call_id: str, content: str, is_error: bool) -> dict[str, Any]:
    return {
        "type": "user",
        "message": {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": call_id,
                    "content": content,
                    "is_error": is_error,
                }
            ],
        },
        "parent_tool_use_id": None,
        "session_id": SESSION,
        "uuid": f"uuid-result-{call_id}",
    }


def conversation(*, failing_tool: bool = False) -> list[dict[str, Any]]:
    """The CLI's messages for "Weather in Paris?": Bash, then Read, then the answer."""
    (first, first_usage), (second, second_usage), (third, third_usage) = CALLS
    return [
        {
            "type": "system",
            "subtype": "init",
            "cwd": "/work",
            "session_id": SESSION,
            "tools": ["Bash", "Read"],
            "mcp_servers": [],
            "model": MODEL,
            "permissionMode": "default",
            "apiKeySource": "none",
            "claude_code_version": "2.1.300",
            "uuid": "uuid-init",
        },
        _assistant(first, first_usage, {"type": "text", "text": "Let me look that up."}),
        _assistant(
            first,
            first_usage,
            {
                "type": "tool_use",
                "id": "toolu_bash",
                "name": "Bash",
                "input": {"command": "curl wttr.in/Paris"},
            },
        ),
        _tool_result("toolu_bash", "Paris: sunny, 21C", False),
        _assistant(
            second,
            second_usage,
            {
                "type": "tool_use",
                "id": "toolu_read",
                "name": "Read",
                "input": {"file_path": "/work/notes.txt"},
            },
        ),
        _tool_result(
            "toolu_read",
            "File does not exist." if failing_tool else "Bring an umbrella anyway.",
            failing_tool,
        ),
        _assistant(third, third_usage, {"type": "text", "text": "Sunny in Paris, 21C."}),
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "duration_ms": 5000,
            "duration_api_ms": 4200,
            "num_turns": 3,
            "result": "Sunny in Paris, 21C.",
            "session_id": SESSION,
            "total_cost_usd": COST,
            "usage": {
                "input_tokens": TOTAL_INPUT,
                "output_tokens": TOTAL_OUTPUT,
                "cache_read_input_tokens": 300,
                "cache_creation_input_tokens": 0,
            },
            "uuid": "uuid-result",
        },
    ]


class ReplayTransport(Transport):
    """Answers every control request with success and, once the prompt is written, replays
    ``messages``; records what the SDK wrote."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.written: list[dict[str, Any]] = []
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._ready = False

    async def connect(self) -> None:
        self._ready = True

    async def write(self, data: str) -> None:
        for line in data.splitlines():
            if not line.strip():
                continue
            sent = json.loads(line)
            self.written.append(sent)
            if sent.get("type") == "control_request":
                response = {"subtype": "success", "request_id": sent["request_id"], "response": {}}
                await self._queue.put({"type": "control_response", "response": response})
            elif sent.get("type") == "user":
                for message in self.messages:
                    await self._queue.put(message)

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            message = await self._queue.get()
            if message is None:
                return
            yield message

    async def close(self) -> None:
        self._ready = False
        await self._queue.put(None)

    def is_ready(self) -> bool:
        return self._ready

    async def end_input(self) -> None:
        await self._queue.put(None)
