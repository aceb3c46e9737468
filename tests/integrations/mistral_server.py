"""A scripted server speaking Mistral's chat API on 127.0.0.1, for the tests.

``POST /v1/chat/completions`` and ``POST /v1/agents/completions``, JSON or, with ``"stream":
true``, server-sent events (``data: {chunk}`` lines, then ``data: [DONE]``) where the chunk with
the finish reason carries the usage and a tool call arrives whole, as Mistral sends them.
``POST /v1/embeddings`` answers three-dimensional vectors. Stateless: the model name picks the behaviour, the reply echoes the last user message.

- any model: replies ``"echo: <last user text>"``; usage counts words (2 of the prompt cached)
- ``tool-model`` (or an agent id): asks for ``get_weather`` until a tool result is in the
  conversation
- ``error-401`` / ``error-429`` / ``error-500``: that HTTP error with Mistral's error body
- ``cut-stream``: a stream that stops mid-way without finishing its body
- ``slow-stream``: chunks 50 ms apart
Every request is recorded (path, headers, body) for assertions.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from .local_http import Recorded, RecordingHandler, serve, write_chunk

WEATHER_CALL = {
    "id": "wQ3a9xYz1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    "index": 0,
}


@dataclass
class MistralServer:
    url: str
    requests: list[Recorded] = field(default_factory=list)


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            return _text(message.get("content"))
    return ""


def _reply(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    wants_tool = body.get("model") == "tool-model" or "agent_id" in body
    answered = any(m.get("role") == "tool" for m in body.get("messages") or [])
    if wants_tool and not answered:
        return {"role": "assistant", "content": "", "tool_calls": [WEATHER_CALL]}, "tool_calls"
    if wants_tool:
        return {"role": "assistant", "content": "Sunny in Paris.", "tool_calls": None}, "stop"
    text = f"echo: {_last_user_text(body)}"
    return {"role": "assistant", "content": text, "tool_calls": None}, "stop"


def _usage(body: dict[str, Any], reply: str) -> dict[str, Any]:
    prompt, completion = len(_last_user_text(body).split()) + 5, len(reply.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 2},
    }


def _model(body: dict[str, Any]) -> str:
    return f"{body.get('model') or 'agent-model'}-2507"


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    message, finish = _reply(body)
    return {
        "id": "cmpl-mistral-1",
        "object": "chat.completion",
        "created": 1,
        "model": _model(body),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _usage(body, message["content"] or ""),
    }


def _chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    message, finish = _reply(body)
    base = {"id": "cmpl-mistral-2", "object": "chat.completion.chunk", "created": 1}
    base["model"] = _model(body)
    first = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    yield {**base, "choices": [first]}
    if message["tool_calls"]:
        delta = {"content": "", "tool_calls": message["tool_calls"]}
        yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    else:
        for word in message["content"].split(" "):
            delta = {"content": word + " "}
            yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    last = {"index": 0, "delta": {"content": ""}, "finish_reason": finish}
    yield {**base, "choices": [last], "usage": _usage(body, message["content"] or "")}


def _embeddings(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("input")  # the client's ``inputs``, on the wire as Mistral names it
    count = len(inputs) if isinstance(inputs, list) else 1
    return {
        "id": "emb-mistral-1",
        "object": "list",
        "model": body.get("model"),
        "data": [
            {"object": "embedding", "index": i, "embedding": [0.125, 0.25, 0.5]}
            for i in range(count)
        ],
        "usage": {"prompt_tokens": 4 * count, "completion_tokens": 0, "total_tokens": 4 * count},
    }


class _Handler(RecordingHandler):
    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        path, body = self.record()
        model = str(body.get("model", ""))
        if model.startswith("error-"):
            status = int(model.split("-")[1])
            error = {
                "object": "error",
                "message": f"scripted {status}",
                "type": "invalid_request_error" if status < 500 else "internal_error",
                "param": None,
                "code": str(3000 + status),
            }
            return self._json(error, status)
        if path == "/v1/embeddings":
            return self._json(_embeddings(body))
        if path not in ("/v1/chat/completions", "/v1/agents/completions"):
            return self._json({"object": "error", "message": "not found", "type": "x"}, 404)
        if body.get("stream"):
            return self._sse(body)
        return self._json(_completion(body))

    def _json(self, payload: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, body: dict[str, Any]) -> None:
        model = body.get("model")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, chunk in enumerate(_chunks(body)):
            if model == "cut-stream" and index == 3:
                # Stop mid-body: no terminating chunk, the connection just goes away.
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if model == "slow-stream":
                time.sleep(0.05)
            write_chunk(self.wfile, f"data: {json.dumps(chunk)}\n\n".encode())
        write_chunk(self.wfile, b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def start_mistral_server() -> tuple[MistralServer, ThreadingHTTPServer]:
    server, recorded, port = serve(_Handler)
    return MistralServer(f"http://127.0.0.1:{port}", recorded), server
