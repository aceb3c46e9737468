"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for the tests.

Stateless, so concurrent callers never see each other's replies: the model name picks the
behaviour and the reply echoes the last user message.

- any model: replies ``"echo: <last user text>"``; usage counts words (cached 2, reasoning 1)
- ``tool-model`` (or ``gpt-4.1-nano``): asks for ``get_weather`` until a tool result is in the
  conversation
- ``two-tools``: asks for ``get_weather``, then ``get_time``, then answers (Chat Completions
  and Responses alike)
- ``error-429`` / ``error-500``: that HTTP error with an OpenAI error body
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
    "id": "call_weather_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "San Francisco"}'},
}
# Clients that check model names (LlamaIndex's OpenAI LLM) use a real name for the tool model.
TOOL_MODELS = ("tool-model", "gpt-4.1-nano")
TIME_CALL = {
    "id": "call_time_1",
    "type": "function",
    "function": {"name": "get_time", "arguments": '{"city": "San Francisco"}'},
}


@dataclass
class OpenAIServer:
    url: str
    requests: list[Recorded] = field(default_factory=list)


def _last_user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
                return str(content)
    value = body.get("input", body.get("prompt", ""))
    if isinstance(value, list):
        for item in reversed(value):
            if isinstance(item, dict) and item.get("role") == "user":
                content = item.get("content")
                if isinstance(content, list):
                    return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
                return str(content)
        return " ".join(str(v) for v in value if isinstance(v, str))
    return str(value)


def _has_tool_result(body: dict[str, Any]) -> bool:
    messages = body.get("messages") or []
    if any(isinstance(m, dict) and m.get("role") == "tool" for m in messages):
        return True
    items = body.get("input") if isinstance(body.get("input"), list) else []
    return any(isinstance(i, dict) and i.get("type") == "function_call_output" for i in items)


def _usage(prompt: str, reply: str) -> dict[str, Any]:
    prompt_tokens, completion_tokens = len(prompt.split()) + 5, len(reply.split())
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 2},
        "completion_tokens_details": {"reasoning_tokens": 1},
    }


def chat_reply(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The message a chat request gets, and its finish reason."""
    model = body.get("model", "")
    if model == "two-tools":
        results = sum(1 for m in body.get("messages") or [] if m.get("role") == "tool")
        if results < 2:
            call = WEATHER_CALL if results == 0 else TIME_CALL
            return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        return {"role": "assistant", "content": "Sunny, and it is noon."}, "stop"
    if model in TOOL_MODELS and not _has_tool_result(body):
        return {"role": "assistant", "content": None, "tool_calls": [WEATHER_CALL]}, "tool_calls"
    if model in TOOL_MODELS:
        return {"role": "assistant", "content": "It is sunny in San Francisco."}, "stop"
    return {"role": "assistant", "content": f"echo: {_last_user_text(body)}"}, "stop"


def _chat_completion(body: dict[str, Any]) -> dict[str, Any]:
    message, finish = chat_reply(body)
    if body.get("response_format", {}).get("type") == "json_schema":
        message = {"role": "assistant", "content": json.dumps({"city": "Paris", "temperature": 21})}
    reply = message.get("content") or ""
    return {
        "id": "chatcmpl-test-1",
        "object": "chat.completion",
        "created": 1,
        "model": f"{body.get('model')}-2026",
        "service_tier": "default",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _usage(_last_user_text(body), reply),
    }


def _chat_chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    message, finish = chat_reply(body)
    base = {"id": "chatcmpl-test-2", "object": "chat.completion.chunk", "created": 1}
    base["model"] = f"{body.get('model')}-2026"
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    if message.get("tool_calls"):
        call = message["tool_calls"][0]
        first = {"index": 0, "id": call["id"], "type": "function"}
        first["function"] = {"name": call["function"]["name"], "arguments": ""}
        yield {**base, "choices": [{"index": 0, "delta": {"tool_calls": [first]}}]}
        arguments = call["function"]["arguments"]
        for piece in (arguments[:10], arguments[10:]):
            delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
            yield {**base, "choices": [{"index": 0, "delta": delta}]}
    else:
        for word in message["content"].split(" "):
            yield {**base, "choices": [{"index": 0, "delta": {"content": word + " "}}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = _usage(_last_user_text(body), message.get("content") or "")
        yield {**base, "choices": [], "usage": usage}


def _responses_tool_call(body: dict[str, Any]) -> dict[str, Any] | None:
    """The tool call a Responses request gets (as in :func:`chat_reply`), or ``None``."""
    items = body.get("input") if isinstance(body.get("input"), list) else []
    results = sum(
        1 for i in items if isinstance(i, dict) and i.get("type") == "function_call_output"
    )
    if body.get("model") == "two-tools" and results < 2:
        return WEATHER_CALL if results == 0 else TIME_CALL
    if body.get("model") == "tool-model" and results == 0:
        return WEATHER_CALL
    return None


def _response_object(body: dict[str, Any]) -> dict[str, Any]:
    text = f"echo: {_last_user_text(body)}"
    output: list[dict[str, Any]]
    call = _responses_tool_call(body)
    if call is not None:
        output = [
            {
                "type": "function_call",
                "id": f"fc_{call['id']}",
                "call_id": call["id"],
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
                "status": "completed",
            }
        ]
    else:
        if body.get("model") == "two-tools":
            text = "Sunny, and it is noon."
        if (body.get("text") or {}).get("format", {}).get("type") == "json_schema":
            text = json.dumps({"city": "Paris", "temperature": 21})
        content = [{"type": "output_text", "text": text, "annotations": []}]
        output = [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": content,
            }
        ]
    usage = _usage(_last_user_text(body), text)
    return {
        "id": "resp_test_1",
        "object": "response",
        "created_at": 1,
        "model": f"{body.get('model')}-2026",
        "status": "completed",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "output_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
            "input_tokens_details": {"cached_tokens": 2},
            "output_tokens_details": {"reasoning_tokens": 1},
        },
    }


def _response_events(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    final = _response_object(body)
    started = {**final, "status": "in_progress", "output": [], "usage": None}
    sequence = iter(range(1000))
    yield (
        "response.created",
        {"type": "response.created", "response": started, "sequence_number": next(sequence)},
    )
    item = final["output"][0]
    if item["type"] == "message":
        empty = {**item, "status": "in_progress", "content": []}
        yield (
            "response.output_item.added",
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": empty,
                "sequence_number": next(sequence),
            },
        )
        part = {"type": "output_text", "text": "", "annotations": []}
        yield (
            "response.content_part.added",
            {
                "type": "response.content_part.added",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "part": part,
                "sequence_number": next(sequence),
            },
        )
        text = item["content"][0]["text"]
        for word in text.split(" "):
            yield (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "content_index": 0,
                    "delta": word + " ",
                    "logprobs": [],
                    "sequence_number": next(sequence),
                },
            )
        yield (
            "response.output_text.done",
            {
                "type": "response.output_text.done",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "text": text,
                "logprobs": [],
                "sequence_number": next(sequence),
            },
        )
    yield (
        "response.output_item.done",
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": item,
            "sequence_number": next(sequence),
        },
    )
    yield (
        "response.completed",
        {"type": "response.completed", "response": final, "sequence_number": next(sequence)},
    )


def embedding_reply(body: dict[str, Any]) -> dict[str, Any]:
    """The reply to an embeddings request: 4-dimensional vectors, 3 input tokens per input."""
    inputs = body.get("input")
    count = len(inputs) if isinstance(inputs, list) else 1
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": [0.125, 0.25, 0.5, 0.75]}
            for i in range(count)
        ],
        "model": body.get("model"),
        "usage": {"prompt_tokens": 3 * count, "total_tokens": 3 * count},
    }


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    text = f"echo: {body.get('prompt')}"
    return {
        "id": "cmpl-test-1",
        "object": "text_completion",
        "created": 1,
        "model": body.get("model"),
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 4,
            "completion_tokens": len(text.split()),
            "total_tokens": 4 + len(text.split()),
        },
    }


def _completion_chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    text = f"echo: {body.get('prompt')}"
    for word in text.split(" "):
        yield {
            "id": "cmpl-test-2",
            "object": "text_completion",
            "created": 1,
            "model": body.get("model"),
            "choices": [{"text": word + " ", "index": 0, "logprobs": None, "finish_reason": None}],
        }
    yield {
        "id": "cmpl-test-2",
        "object": "text_completion",
        "created": 1,
        "model": body.get("model"),
        "choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}],
    }


class _Handler(RecordingHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.record()
        self._json({"error": {"message": "not found", "type": "invalid_request_error"}}, 404)

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        path, body = self.record()
        model = str(body.get("model", ""))
        if model.startswith("error-"):
            status = int(model.split("-")[1])
            error = {
                "error": {
                    "message": f"scripted {status}",
                    "type": "test_error",
                    "code": str(status),
                }
            }
            return self._json(error, status)
        stream = bool(body.get("stream"))
        if path.endswith("/chat/completions"):
            if stream:
                return self._sse((None, chunk) for chunk in _chat_chunks(body))
            return self._json(_chat_completion(body))
        if path.endswith("/responses"):
            if stream:
                return self._sse(_response_events(body))
            return self._json(_response_object(body))
        if path.endswith("/embeddings"):
            return self._json(embedding_reply(body))
        if path.endswith("/completions"):
            if stream:
                return self._sse((None, chunk) for chunk in _completion_chunks(body))
            return self._json(_completion(body))
        return self._json({"error": {"message": "not found"}}, 404)

    def _json(self, payload: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("retry-after-ms", "1")
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: Iterator[tuple[str | None, dict[str, Any]]]) -> None:
        model = self.server.recorded[-1].body.get("model")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, (event, payload) in enumerate(events):
            if model == "cut-stream" and index == 3:
                # Stop mid-body: no terminating chunk, the connection just goes away.
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if model == "slow-stream":
                time.sleep(0.05)
            text = (f"event: {event}\n" if event else "") + f"data: {json.dumps(payload)}\n\n"
            self._chunk(text.encode())
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        write_chunk(self.wfile, data)


def start_openai_server() -> tuple[OpenAIServer, ThreadingHTTPServer]:
    server, recorded, port = serve(_Handler)
    return OpenAIServer(f"http://127.0.0.1:{port}/v1", recorded), server
