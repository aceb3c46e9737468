"""A scripted OpenAI-compatible chat server that drives ``dspy.ReAct`` through two tools.

DSPy's ReAct asks for its next step in its adapter's text format (``[[ ## next_tool_name ## ]]``
fields), not with OpenAI tool calls, so the ``two-tools`` model of
:mod:`tests.integrations.openai_server` cannot drive it. Here every reply fills the output fields
the system prompt asks for: the agent step calls ``get_weather``, then ``get_time``, then
``finish`` (by the number of observations already in the trajectory); any other signature gets
each of its output fields filled with a short text. Usage counts words, like the other server.
Stateless, so concurrent callers (``dspy.Parallel``) never see each other's replies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from ..integrations.local_http import Recorded, RecordingHandler, serve

TOOL_STEPS = (
    ("get_weather", {"city": "San Francisco"}),
    ("get_time", {"city": "San Francisco"}),
    ("finish", {}),
)
ANSWER = "Sunny, and it is noon."
_OUTPUT_FIELDS = re.compile(
    r"Your output fields are:\n(.*?)\n(?:All interactions|In adhering)", re.S
)
_FIELD = re.compile(r"^\d+\. `(\w+)`", re.M)
_OBSERVATION = re.compile(r"\[\[ ## observation_(\d+) ## \]\]")


@dataclass
class DSPyServer:
    url: str
    requests: list[Recorded] = field(default_factory=list)

    def model_calls(self) -> int:
        return sum(1 for request in self.requests if request.path.endswith("/chat/completions"))


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def _values(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The output fields the system prompt asks for, filled as the script says."""
    system = next((_text(m) for m in messages if m.get("role") == "system"), "")
    found = _OUTPUT_FIELDS.search(system)
    names = _FIELD.findall(found.group(1)) if found else ["answer"]
    if "next_tool_name" in names:
        user = next((_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
        step = min(len(set(_OBSERVATION.findall(user))), len(TOOL_STEPS) - 1)
        tool, arguments = TOOL_STEPS[step]
        return {
            "next_thought": f"I should call {tool}.",
            "next_tool_name": tool,
            "next_tool_args": arguments,
        }
    return {name: ANSWER if name == "answer" else f"Some {name}." for name in names}


def chat_reply(body: dict[str, Any]) -> str:
    """The assistant's text for a chat request, in DSPy's ChatAdapter format."""
    values = _values(body.get("messages") or [])
    parts = [
        f"[[ ## {name} ## ]]\n{json.dumps(value) if isinstance(value, dict) else value}"
        for name, value in values.items()
    ]
    return "\n\n".join([*parts, "[[ ## completed ## ]]"])


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    reply = chat_reply(body)
    prompt = " ".join(_text(m) for m in body.get("messages") or [])
    prompt_tokens, completion_tokens = len(prompt.split()), len(reply.split())
    return {
        "id": "chatcmpl-dspy-1",
        "object": "chat.completion",
        "created": 1,
        "model": f"{body.get('model')}-2026",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class _Handler(RecordingHandler):
    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        path, body = self.record()
        if path.endswith("/chat/completions") and not body.get("stream"):
            return self._json(_completion(body), 200)
        return self._json({"error": {"message": "not scripted", "type": "invalid_request"}}, 404)

    def _json(self, payload: dict[str, Any], status: int) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def start_dspy_server() -> tuple[DSPyServer, ThreadingHTTPServer]:
    server, recorded, port = serve(_Handler)
    return DSPyServer(f"http://127.0.0.1:{port}/v1", recorded), server
