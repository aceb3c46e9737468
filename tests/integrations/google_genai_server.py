"""A scripted Gemini Developer API server on 127.0.0.1 for the tests.

Stateless, so concurrent callers never see each other's replies: the model name (in the path,
``/v1beta/models/{model}:{method}``) picks the behaviour and the reply echoes the last user text.
Replies use the REST wire format the ``google-genai`` client parses: a ``GenerateContentResponse``
as JSON, or for ``:streamGenerateContent?alt=sse`` server-sent events (``data: {...}``) of
partial responses, the last one with the finish reason and the full usage.

- any model: replies ``"echo: <last user text>"``, finish reason ``STOP``; usage counts words
  (prompt: the last user text + 5, candidates: the reply), ``cachedContentTokenCount`` 2 and
  ``thoughtsTokenCount`` 1, so that every usage field is non-zero and distinct
- ``tool-model``: says ``"Let me check the weather."`` and calls ``get_weather`` until a
  ``functionResponse`` is in the conversation, then answers
- ``thinking-model``: a thought part (``"thought": true``) before the text
- ``error-<status>`` (``error-400``, ``error-429``, ``error-500``...): that HTTP error with a Google
  error body (``{"error": {"code", "message", "status"}}``)
- ``stream-error``: a stream that sends an error object after its first chunk, as the API does
  when it fails mid-stream
- ``cut-stream``: a stream that stops mid-way without finishing its body
- ``slow-stream``: chunks 50 ms apart

``:countTokens`` answers ``{"totalTokens": N}``; ``:batchEmbedContents`` and ``:embedContent``
answer one three-number vector per input. Every request is recorded (path, lowercase headers,
body) for assertions.
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

WEATHER_CALL = {"name": "get_weather", "args": {"city": "San Francisco"}}
CACHED_TOKENS = 2
THOUGHTS_TOKENS = 1
STATUSES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass
class GeminiServer:
    url: str
    """The client's ``HttpOptions.base_url``."""
    requests: list[Recorded] = field(default_factory=list)


def last_user_text(body: dict[str, Any]) -> str:
    for content in reversed(body.get("contents") or []):
        if content.get("role", "user") == "user":
            texts = [p["text"] for p in content.get("parts") or [] if "text" in p]
            if texts:
                return " ".join(texts)
    return ""


def _has_function_response(body: dict[str, Any]) -> bool:
    return any(
        "functionResponse" in part
        for content in body.get("contents") or []
        for part in content.get("parts") or []
    )


def reply_parts(model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    if model == "tool-model" and not _has_function_response(body):
        return [{"text": "Let me check the weather."}, {"functionCall": dict(WEATHER_CALL)}]
    if model == "tool-model":
        return [{"text": "It is sunny in San Francisco."}]
    parts: list[dict[str, Any]] = []
    if model == "thinking-model":
        parts.append({"text": f"The user said: {last_user_text(body)}", "thought": True})
    parts.append({"text": f"echo: {last_user_text(body)}"})
    return parts


def usage(body: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    prompt = len(last_user_text(body).split()) + 5
    candidates = sum(
        len(p["text"].split()) if "text" in p else len(json.dumps(p).split())
        for p in parts
        if not p.get("thought")
    )
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "cachedContentTokenCount": CACHED_TOKENS,
        "thoughtsTokenCount": THOUGHTS_TOKENS,
        "totalTokenCount": prompt + candidates + THOUGHTS_TOKENS,
    }


def response(model: str, body: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a non-streaming ``:generateContent`` reply."""
    parts = reply_parts(model, body)
    return {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": usage(body, parts),
        "modelVersion": f"{model}-001",
        "responseId": "resp-test-1",
    }


def stream_chunks(model: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The partial responses of a ``:streamGenerateContent`` reply: text word by word, a
    function call whole, the finish reason and full usage on the last."""
    parts = reply_parts(model, body)
    pieces: list[dict[str, Any]] = []
    for part in parts:
        if "text" in part:
            words = part["text"].split(" ")
            for position, word in enumerate(words):
                text = word if position == len(words) - 1 else word + " "
                pieces.append({**part, "text": text})
        else:
            pieces.append(part)
    prompt = usage(body, parts)["promptTokenCount"]
    for index, piece in enumerate(pieces):
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [piece]}, "index": 0}
        chunk: dict[str, Any] = {
            "candidates": [candidate],
            "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
            "modelVersion": f"{model}-001",
            "responseId": "resp-test-2",
        }
        if index == len(pieces) - 1:
            candidate["finishReason"] = "STOP"
            chunk["usageMetadata"] = usage(body, parts)
        yield chunk


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message or f"scripted {status}",
            "status": STATUSES.get(status, "UNKNOWN"),
        }
    }


class _Handler(RecordingHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.record()
        self._json(error_body(404, "not found"), 404)

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        path, body = self.record()
        resource, _, method = path.rpartition(":")
        model = resource.rpartition("models/")[2]
        if model.startswith("error-"):
            status = int(model.split("-")[1])
            return self._json(error_body(status), status)
        if method == "generateContent":
            return self._json(response(model, body))
        if method == "streamGenerateContent":
            return self._sse(model, body)
        if method == "countTokens":
            return self._json({"totalTokens": len(last_user_text(body).split()) + 5})
        if method == "batchEmbedContents":
            requests = body.get("requests") or []
            return self._json({"embeddings": [{"values": [0.1, 0.2, 0.3]} for _ in requests]})
        if method == "embedContent":
            return self._json({"embedding": {"values": [0.1, 0.2, 0.3]}})
        return self._json(error_body(404, "not found"), 404)

    def _json(self, payload: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, model: str, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, chunk in enumerate(stream_chunks(model, body)):
            if model == "cut-stream" and index == 2:
                # Stop mid-body: no terminating chunk, the connection just goes away.
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if model == "stream-error" and index == 1:
                self._event(error_body(503, "The model is overloaded."))
                break
            if model == "slow-stream":
                time.sleep(0.05)
            self._event(chunk)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _event(self, payload: dict[str, Any]) -> None:
        write_chunk(self.wfile, f"data: {json.dumps(payload)}\r\n\r\n".encode())


def start_gemini_server() -> tuple[GeminiServer, ThreadingHTTPServer]:
    server, recorded, port = serve(_Handler)
    return GeminiServer(f"http://127.0.0.1:{port}", recorded), server
