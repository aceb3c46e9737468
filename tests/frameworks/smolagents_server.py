"""The local OpenAI-compatible server with one more scripted model, for smolagents.

smolagents' ``ToolCallingAgent`` finishes only when the model calls its ``final_answer`` tool, and
sends tool results back as user messages (``Observation: ...``), not as ``tool`` messages, so
``two-tools`` would ask for ``get_weather`` forever. Model ``two-tools-final`` counts the
answered calls instead: ``get_weather``, then ``get_time``, then ``final_answer``. Every other
model behaves as on :mod:`tests.integrations.openai_server`.
"""

from __future__ import annotations

import json
import re
from http.server import ThreadingHTTPServer
from typing import Any

from ..integrations.local_http import serve
from ..integrations.openai_server import (
    TIME_CALL,
    WEATHER_CALL,
    OpenAIServer,
    _Handler,
    _last_user_text,
    _usage,
)

MODEL = "two-tools-final"
_ANSWERED = re.compile(r"^(?:Observation|Error):$", re.MULTILINE)
ANSWER = "Sunny, and it is noon."
FINAL_CALL = {
    "id": "call_final_1",
    "type": "function",
    "function": {"name": "final_answer", "arguments": json.dumps({"answer": ANSWER})},
}


def _reply(body: dict[str, Any]) -> dict[str, Any]:
    # Each tool call made so far is answered by an observation or an error, in user messages
    # (smolagents merges consecutive ones).
    texts = [
        part.get("text", "") if isinstance(part, dict) else str(part)
        for message in body.get("messages") or []
        if message.get("role") == "user"
        for part in (
            message["content"]
            if isinstance(message.get("content"), list)
            else [message.get("content")]
        )
    ]
    turns = sum(len(_ANSWERED.findall(text or "")) for text in texts)
    call = (WEATHER_CALL, TIME_CALL, FINAL_CALL)[min(turns, 2)]
    return {
        "id": f"chatcmpl-smol-{turns}",
        "object": "chat.completion",
        "created": 1,
        "model": f"{MODEL}-2026",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "finish_reason": "tool_calls",
                "logprobs": None,
            }
        ],
        "usage": _usage(_last_user_text(body), ""),
    }


class _SmolagentsHandler(_Handler):
    _read: tuple[str, dict[str, Any]] | None = None

    def record(self) -> tuple[str, dict[str, Any]]:
        """Read and record the request once, however often asked (the base handler asks too)."""
        if self._read is None:
            self._read = super().record()
        return self._read

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        try:
            path, body = self.record()
            if body.get("model") == MODEL and path.endswith("/chat/completions"):
                return self._json(_reply(body))
            return super().do_POST()
        finally:
            self._read = None  # a kept-alive connection's next request


def start_smolagents_server() -> tuple[OpenAIServer, ThreadingHTTPServer]:
    server, recorded, port = serve(_SmolagentsHandler)
    return OpenAIServer(f"http://127.0.0.1:{port}/v1", recorded), server
