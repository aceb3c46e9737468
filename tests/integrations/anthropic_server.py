"""A scripted Anthropic-compatible HTTP server on 127.0.0.1 for the tests.

Stateless, so concurrent callers never see each other's replies: the model name picks the
behaviour and the reply echoes the last user message. Replies use the wire format of the Messages
API, as the ``anthropic`` client parses it: a JSON ``message``, or with ``"stream": true`` the
server-sent events ``message_start``, ``ping``, then per content block ``content_block_start``,
``content_block_delta`` (``text_delta`` / ``input_json_delta`` / ``thinking_delta`` and
``signature_delta``) and ``content_block_stop``, then ``message_delta`` (stop reason and the
cumulative usage) and ``message_stop``.

- any model: replies ``"echo: <last user text>"``, stop reason ``end_turn``; usage counts words
  (input: the last user text + 5, output: the reply), with ``cache_read_input_tokens`` 2 and
  ``cache_creation_input_tokens`` 3, so that every usage field is non-zero and distinct
- ``tool-model``: says ``"Let me check the weather."`` and asks for ``get_weather`` (stop reason
  ``tool_use``) until a ``tool_result`` block is in the conversation, then answers
- ``thinking-model`` (or a request with ``thinking`` enabled): a ``thinking`` block before the
  text, and ``output_tokens_details.thinking_tokens``
- ``error-<status>`` (``error-429``, ``error-500``, ...): that HTTP error with an Anthropic error
  body (``{"type": "error", "error": {"type": ..., "message": ...}}``); ``retry-after-ms: 1`` keeps
  the client's retries fast
- ``stream-error``: a stream that sends an ``error`` event (``overloaded_error``) after its first
  text delta, as the API does when it fails mid-stream
- ``cut-stream``: a stream that stops mid-way without finishing its body
- ``slow-stream``: events 50 ms apart

The platform clients' paths answer as ``/v1/messages`` does, the model taken from the path:
Bedrock's ``/model/<model>/invoke`` (not its streaming path, whose AWS event-stream framing this
server does not speak) and Vertex's ``.../publishers/anthropic/models/<model>:rawPredict`` and
``:streamRawPredict`` (server-sent events).

``POST /v1/messages/count_tokens`` answers ``{"input_tokens": N}`` with the ``input_tokens`` that
``/v1/messages`` reports for the same body. Every response has a ``request-id`` header. Every
request is recorded (path, lowercase headers, body) for assertions.
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

TOOL_MODELS = ("tool-model",)
THINKING_MODELS = ("thinking-model",)
WEATHER_TOOL_USE = {
    "type": "tool_use",
    "id": "toolu_weather_1",
    "name": "get_weather",
    "input": {"city": "San Francisco"},
}
CACHE_READ_TOKENS = 2
CACHE_CREATION_TOKENS = 3
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class AnthropicServer:
    url: str
    """The client's ``base_url``: the API paths (``/v1/messages``) go after it."""
    requests: list[Recorded] = field(default_factory=list)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"
        ]
        return " ".join(texts)
    return ""


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message that has text (a turn of tool results has none)."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            text = _text_of(message.get("content"))
            if text:
                return text
    return ""


def _has_tool_result(body: dict[str, Any]) -> bool:
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        ):
            return True
    return False


def _thinks(body: dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    enabled = isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
    return body.get("model") in THINKING_MODELS or enabled


def input_tokens(body: dict[str, Any]) -> int:
    """The uncached input tokens of a request: the words of the last user text, plus 5."""
    return len(last_user_text(body).split()) + 5


def reply_blocks(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The content blocks a messages request gets, and its stop reason."""
    model = body.get("model", "")
    if model in TOOL_MODELS and not _has_tool_result(body):
        text = {"type": "text", "text": "Let me check the weather."}
        return [text, dict(WEATHER_TOOL_USE)], "tool_use"
    if model in TOOL_MODELS:
        return [{"type": "text", "text": "It is sunny in San Francisco."}], "end_turn"
    blocks: list[dict[str, Any]] = []
    if _thinks(body):
        thinking = f"The user said: {last_user_text(body)}"
        blocks.append({"type": "thinking", "thinking": thinking, "signature": "sig_test_1"})
    blocks.append({"type": "text", "text": f"echo: {last_user_text(body)}"})
    return blocks, "end_turn"


def _usage(body: dict[str, Any], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    output = 0
    thinking = 0
    for block in blocks:
        if block["type"] == "text":
            output += len(block["text"].split())
        elif block["type"] == "thinking":
            thinking += len(block["thinking"].split())
        else:
            output += len(json.dumps(block.get("input", {})).split())
    usage: dict[str, Any] = {
        "input_tokens": input_tokens(body),
        "output_tokens": output + thinking,
        "cache_read_input_tokens": CACHE_READ_TOKENS,
        "cache_creation_input_tokens": CACHE_CREATION_TOKENS,
        "cache_creation": {
            "ephemeral_5m_input_tokens": CACHE_CREATION_TOKENS,
            "ephemeral_1h_input_tokens": 0,
        },
        "service_tier": "standard",
    }
    if thinking:
        usage["output_tokens_details"] = {"thinking_tokens": thinking}
    return usage


def message(body: dict[str, Any], message_id: str = "msg_test_1") -> dict[str, Any]:
    """The JSON body of a non-streaming ``/v1/messages`` reply."""
    blocks, stop_reason = reply_blocks(body)
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": f"{body.get('model')}-2026",
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": _usage(body, blocks),
    }


def _block_events(index: int, block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind = block["type"]
    if kind == "text":
        yield {
            "type": "content_block_start",
            "index": index,
            "content_block": {**block, "text": ""},
        }
        words = block["text"].split(" ")
        for position, word in enumerate(words):
            piece = word if position == len(words) - 1 else word + " "
            delta = {"type": "text_delta", "text": piece}
            yield {"type": "content_block_delta", "index": index, "delta": delta}
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        yield {"type": "content_block_start", "index": index, "content_block": start}
        text = block["thinking"]
        for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
            delta = {"type": "thinking_delta", "thinking": piece}
            yield {"type": "content_block_delta", "index": index, "delta": delta}
        delta = {"type": "signature_delta", "signature": block["signature"]}
        yield {"type": "content_block_delta", "index": index, "delta": delta}
    else:
        yield {
            "type": "content_block_start",
            "index": index,
            "content_block": {**block, "input": {}},
        }
        arguments = json.dumps(block["input"])
        for piece in ("", arguments[:10], arguments[10:]):
            delta = {"type": "input_json_delta", "partial_json": piece}
            yield {"type": "content_block_delta", "index": index, "delta": delta}
    yield {"type": "content_block_stop", "index": index}


def message_events(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The server-sent events of a streamed ``/v1/messages`` reply, each with its ``type``."""
    final = message(body, "msg_test_2")
    usage = final["usage"]
    started_usage = {k: v for k, v in usage.items() if k != "output_tokens_details"}
    started = {
        **final,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**started_usage, "output_tokens": 1},
    }
    yield {"type": "message_start", "message": started}
    yield {"type": "ping"}
    for index, block in enumerate(final["content"]):
        yield from _block_events(index, block)
    # The API's message_delta carries cumulative usage: input and cache counts as well as output.
    delta_usage = {
        key: usage[key]
        for key in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "output_tokens",
            "output_tokens_details",
        )
        if key in usage
    }
    delta = {"stop_reason": final["stop_reason"], "stop_sequence": None}
    yield {"type": "message_delta", "delta": delta, "usage": delta_usage}
    yield {"type": "message_stop"}


def _platform_model(path: str) -> str | None:
    """The model in a Bedrock or Vertex messages path, or ``None`` for another path."""
    if path.startswith("/model/") and path.endswith("/invoke"):
        return path[len("/model/") : -len("/invoke")]
    marker = "/publishers/anthropic/models/"
    if marker in path and path.endswith(("rawPredict", "RawPredict")):
        return path.split(marker, 1)[1].rsplit(":", 1)[0]
    return None


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {
            "type": ERROR_TYPES.get(status, "api_error"),
            "message": message or f"scripted {status}",
        },
        "request_id": f"req_test_{status}",
    }


class _Handler(RecordingHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.record()
        self._json(error_body(404, "not found"), 404)

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        path, body = self.record()
        model = str(body.get("model", ""))
        if model.startswith("error-"):
            status = int(model.split("-")[1])
            return self._json(error_body(status), status)
        if path.endswith(("/v1/messages/count_tokens", "/count-tokens:rawPredict")):
            return self._json({"input_tokens": input_tokens(body)})
        platform_model = _platform_model(path)
        if platform_model is not None:
            body = {**body, "model": platform_model}
            if path.endswith(":streamRawPredict"):
                return self._sse(message_events(body), platform_model)
            return self._json(message(body))
        if path.endswith("/v1/messages"):
            if body.get("stream"):
                return self._sse(message_events(body), model)
            return self._json(message(body))
        return self._json(error_body(404, "not found"), 404)

    def _json(self, payload: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", f"req_test_{status}")
        if status >= 400:
            self.send_header("retry-after-ms", "1")
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: Iterator[dict[str, Any]], model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("request-id", "req_test_stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deltas = 0
        for index, event in enumerate(events):
            if model == "cut-stream" and index == 3:
                # Stop mid-body: no terminating chunk, the connection just goes away.
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if model == "stream-error" and deltas == 1:
                event = {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                }
                self._event(event)
                break
            if model == "slow-stream":
                time.sleep(0.05)
            self._event(event)
            deltas += event["type"] == "content_block_delta"
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _event(self, event: dict[str, Any]) -> None:
        write_chunk(self.wfile, f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())


def start_anthropic_server() -> tuple[AnthropicServer, ThreadingHTTPServer]:
    server, recorded, port = serve(_Handler)
    return AnthropicServer(f"http://127.0.0.1:{port}", recorded), server
