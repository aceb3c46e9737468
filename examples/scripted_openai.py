"""A tiny scripted OpenAI-compatible server on 127.0.0.1, so the examples run offline.

It answers ``/v1/chat/completions`` (streamed or not) and ``/v1/embeddings``. With tools on
offer it calls the first one each turn until the conversation has a result for every tool, then
answers from the tool results; without tools it answers from the last user message.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _reply(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    messages = body.get("messages") or []
    tools = [tool["function"]["name"] for tool in body.get("tools") or []]
    results = [m for m in messages if m.get("role") == "tool"]
    question = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
    if tools and len(results) < len(tools):
        name = tools[len(results)]
        call = {
            "id": f"call_{len(results) + 1}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps({"city": "San Francisco"})},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    if results:
        facts = "; ".join(str(m.get("content")) for m in results)
        return {"role": "assistant", "content": f"Here is what I found: {facts}."}, "stop"
    if "Query:" in question:  # a RAG prompt: answer from the first retrieved passage
        lines = [line.strip() for line in question.split("---------------------")[1].splitlines()]
        passage = next((line for line in lines if line and ":" not in line[:20]), "")
        return {"role": "assistant", "content": f"From the documents: {passage}"}, "stop"
    return {"role": "assistant", "content": f"You asked: {question}"}, "stop"


def _vector(text: str) -> list[float]:
    """A bag of words hashed into 64 buckets: texts sharing words land near each other."""
    buckets = [0.0] * 64
    for word in text.lower().split():
        word = word.strip(".,?!'\"")
        if len(word) > 3:  # skip the small words every sentence shares
            buckets[sum(map(ord, word)) % 64] += 1.0
    return buckets


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages") or []) + 8
    return {
        "prompt_tokens": prompt,
        "completion_tokens": len(text.split()) + 1,
        "total_tokens": prompt + len(text.split()) + 1,
    }


def _chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    message, finish = _reply(body)
    base = {
        "id": "chatcmpl-demo",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": body.get("model"),
    }
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}
    for call in message.get("tool_calls") or []:
        delta = {"tool_calls": [{"index": 0, **call}]}
        yield {**base, "choices": [{"index": 0, "delta": delta}]}
    for word in (message.get("content") or "").split(" "):
        if word:
            yield {**base, "choices": [{"index": 0, "delta": {"content": word + " "}}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": _usage(body, message.get("content") or "")}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if self.path.endswith("/embeddings"):
            inputs = body.get("input")
            texts = inputs if isinstance(inputs, list) else [inputs]
            vectors = [
                {"object": "embedding", "index": i, "embedding": _vector(str(text))}
                for i, text in enumerate(texts)
            ]
            count = len(texts)
            usage = {"prompt_tokens": 4 * count, "total_tokens": 4 * count}
            return self._send(
                {"object": "list", "data": vectors, "model": body.get("model"), "usage": usage}
            )
        if body.get("stream"):
            return self._stream(body)
        message, finish = _reply(body)
        return self._send(
            {
                "id": "chatcmpl-demo",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": _usage(body, message.get("content") or ""),
            }
        )

    def _send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = [f"data: {json.dumps(chunk)}\n\n" for chunk in _chunks(body)] + [
            "data: [DONE]\n\n"
        ]
        for event in events:
            data = event.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


def start() -> str:
    """Start the server in a daemon thread; returns its ``/v1`` base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"
