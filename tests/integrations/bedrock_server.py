"""A scripted Amazon Bedrock runtime server on 127.0.0.1 for the tests.

It speaks the REST wire format ``boto3.client("bedrock-runtime")`` talks: ``POST
/model/{modelId}/converse`` and ``/invoke`` answer JSON; ``/converse-stream`` and
``/invoke-with-response-stream`` answer an AWS event stream (``application/vnd.amazon.eventstream``,
binary framed: see :func:`event_message`). Stateless: the model id picks the behaviour.

Converse (``/converse``, ``/converse-stream``):

- any model: replies ``"echo: <last user text>"``, stop reason ``end_turn``; usage counts words
  (input: the last user text + 5, output: the reply) with ``cacheReadInputTokens`` 2 and
  ``cacheWriteInputTokens`` 3
- ``tool-model``: says ``"Let me check the weather."`` and asks for ``get_weather`` (stop reason
  ``tool_use``) until a ``toolResult`` block is in the conversation, then answers
- ``error-<status>`` (``error-400``, ``error-429``): that HTTP error, a JSON body ``{"message"}``
  and the ``x-amzn-ErrorType`` header naming the exception (``ValidationException``, ...)
- ``stream-error``: a stream that sends a ``modelStreamErrorException`` after its first delta
  (after its first chunk for ``/invoke-with-response-stream``)
- ``cut-stream``: a stream that stops mid-way without finishing its body

Invoke (``/invoke``, ``/invoke-with-response-stream``): a model id with ``anthropic`` takes and
answers the Anthropic Messages format (the replies of :mod:`.anthropic_server`; a stream's events
are ``chunk`` events whose bytes are those events' JSON, the last with
``amazon-bedrock-invocationMetrics``); a body with ``"schemaVersion": "messages-v1"`` (Amazon
Nova) gets the Converse reply and events as JSON, with Nova's spelling of the cache counts
(``cacheReadInputTokenCount``, ``cacheWriteInputTokenCount``); a model id with ``embed`` answers
a Titan embedding (``{"embedding": [0.125, ...], "inputTextTokenCount"}``); any other model
answers the Titan text format (``{"inputTextTokenCount", "results": [{"outputText",
"tokenCount", "completionReason"}]}``).
Every ``/invoke`` reply has the ``x-amzn-bedrock-input-token-count`` and
``-output-token-count`` headers (an embedding's input count is its words + 10, so that a test
can tell it from the body's); a model id with ``cached`` adds the ``-cache-read-input-`` and
``-cache-write-input-token-count`` headers (:data:`CACHE_READ_TOKENS`, :data:`CACHE_WRITE_TOKENS`),
and the same counts to a Titan text stream's invocation metrics.
Every request is recorded (path, lowercase headers, body).
"""

from __future__ import annotations

import base64
import binascii
import json
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from . import anthropic_server
from .local_http import Recorded, RecordingHandler, serve, write_chunk

CACHE_READ_TOKENS = 2
CACHE_WRITE_TOKENS = 3
WEATHER_TOOL_USE = {
    "toolUseId": "tooluse_weather_1",
    "name": "get_weather",
    "input": {"city": "San Francisco"},
}
ERROR_TYPES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
REQUEST_ID = "bedrock-req-0001"


@dataclass
class BedrockServer:
    url: str
    """The client's ``endpoint_url``."""
    requests: list[Recorded] = field(default_factory=list)


# -- The AWS event stream encoding ----------------------------------------------------------------
_STRING = 7  # header value type: a UTF-8 string with a 2-byte length


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(raw_name))
        + raw_name
        + struct.pack("!BH", _STRING, len(raw_value))
        + raw_value
    )


def event_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: a prelude (total length, headers length, the prelude's CRC32),
    the headers, the payload, and the CRC32 of all that came before."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", binascii.crc32(prelude))
    body = prelude + encoded + payload
    return body + struct.pack("!I", binascii.crc32(body))


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return event_message(headers, json.dumps(payload).encode())


def exception_event(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return event_message(headers, json.dumps({"message": message}).encode())


# -- Converse ------------------------------------------------------------------------------------
def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            texts = [block["text"] for block in message.get("content", []) if "text" in block]
            if texts:
                return " ".join(texts)
    return ""


def _has_tool_result(body: dict[str, Any]) -> bool:
    return any(
        "toolResult" in block
        for message in body.get("messages") or []
        for block in message.get("content", [])
    )


def converse_reply(model: str, body: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a ``/converse`` reply."""
    if model == "tool-model" and not _has_tool_result(body):
        content: list[dict[str, Any]] = [
            {"text": "Let me check the weather."},
            {"toolUse": dict(WEATHER_TOOL_USE)},
        ]
        stop = "tool_use"
    elif model == "tool-model":
        content, stop = [{"text": "It is sunny in San Francisco."}], "end_turn"
    else:
        content, stop = [{"text": f"echo: {last_user_text(body)}"}], "end_turn"
    output = sum(len(block["text"].split()) for block in content if "text" in block)
    inputs = len(last_user_text(body).split()) + 5
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {
            "inputTokens": inputs,
            "outputTokens": output,
            "totalTokens": inputs + output,
            "cacheReadInputTokens": CACHE_READ_TOKENS,
            "cacheWriteInputTokens": CACHE_WRITE_TOKENS,
        },
        "metrics": {"latencyMs": 12},
    }


def converse_events(model: str, body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The events of a ``/converse-stream`` reply: ``(event type, payload)``."""
    reply = converse_reply(model, body)
    yield "messageStart", {"role": "assistant"}
    for index, block in enumerate(reply["output"]["message"]["content"]):
        if "toolUse" in block:
            use = block["toolUse"]
            start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
            yield "contentBlockStart", {"start": start, "contentBlockIndex": index}
            arguments = json.dumps(use["input"])
            for piece in (arguments[:10], arguments[10:]):
                delta = {"toolUse": {"input": piece}}
                yield "contentBlockDelta", {"delta": delta, "contentBlockIndex": index}
        else:
            words = block["text"].split(" ")
            for position, word in enumerate(words):
                piece = word if position == len(words) - 1 else word + " "
                yield "contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": index}
        yield "contentBlockStop", {"contentBlockIndex": index}
    yield "messageStop", {"stopReason": reply["stopReason"]}
    yield "metadata", {"usage": reply["usage"], "metrics": {"latencyMs": 20}}


# -- Invoke --------------------------------------------------------------------------------------
def nova_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """Converse's usage as Nova's ``invoke_model`` spells it."""
    spelled = {k: v for k, v in usage.items() if not k.startswith("cache")}
    spelled["cacheReadInputTokenCount"] = usage["cacheReadInputTokens"]
    spelled["cacheWriteInputTokenCount"] = usage["cacheWriteInputTokens"]
    return spelled


def titan_reply(body: dict[str, Any]) -> dict[str, Any]:
    prompt = str(body.get("inputText", ""))
    text = f"echo: {prompt}"
    return {
        "inputTextTokenCount": len(prompt.split()),
        "results": [
            {"tokenCount": len(text.split()), "outputText": text, "completionReason": "FINISH"}
        ],
    }


def invoke_reply(model: str, body: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    """The JSON body of an ``/invoke`` reply, and its input and output token counts."""
    if body.get("schemaVersion") == "messages-v1":
        reply = converse_reply(model, body)
        reply["usage"] = nova_usage(reply["usage"])
        return reply, reply["usage"]["inputTokens"], reply["usage"]["outputTokens"]
    if "embed" in model:
        count = len(str(body.get("inputText", "")).split())
        return {"embedding": [0.125] * 4, "inputTextTokenCount": count}, count + 10, 0
    if "anthropic" in model:
        reply = anthropic_server.message({**body, "model": model})
        usage = reply["usage"]
        return reply, usage["input_tokens"], usage["output_tokens"]
    reply = titan_reply(body)
    return reply, reply["inputTextTokenCount"], reply["results"][0]["tokenCount"]


def invoke_chunks(model: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The JSON objects an ``/invoke-with-response-stream`` reply's chunks carry."""
    if body.get("schemaVersion") == "messages-v1":
        for kind, payload in converse_events(model, body):
            if kind == "metadata":
                payload = {**payload, "usage": nova_usage(payload["usage"])}
            yield {kind: payload}
        return
    if "anthropic" in model:
        events = [
            e
            for e in anthropic_server.message_events({**body, "model": model})
            if e["type"] != "ping"
        ]
        final = anthropic_server.message({**body, "model": model})
        metrics = {
            "inputTokenCount": final["usage"]["input_tokens"],
            "outputTokenCount": final["usage"]["output_tokens"],
            "invocationLatency": 30,
            "firstByteLatency": 10,
        }
        events[-1] = {**events[-1], "amazon-bedrock-invocationMetrics": metrics}
        yield from events
        return
    reply = titan_reply(body)
    text = reply["results"][0]["outputText"]
    half = len(text) // 2
    yield {"outputText": text[:half], "index": 0, "totalOutputTextTokenCount": None}
    metrics = {
        "inputTokenCount": reply["inputTextTokenCount"],
        "outputTokenCount": reply["results"][0]["tokenCount"],
        "invocationLatency": 30,
        "firstByteLatency": 10,
    }
    if "cached" in model:
        metrics["cacheReadInputTokenCount"] = CACHE_READ_TOKENS
        metrics["cacheWriteInputTokenCount"] = CACHE_WRITE_TOKENS
    yield {
        "outputText": text[half:],
        "index": 0,
        "completionReason": "FINISH",
        "inputTextTokenCount": reply["inputTextTokenCount"],
        "totalOutputTextTokenCount": reply["results"][0]["tokenCount"],
        "amazon-bedrock-invocationMetrics": metrics,
    }


class _Handler(RecordingHandler):
    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        path, body = self.record()
        parts = path.split("/")  # "", "model", <model id>, <action>
        if len(parts) != 4 or parts[1] != "model":
            return self._error(404, "no such path")
        model, action = unquote(parts[2]), parts[3]
        if model.startswith("error-"):
            return self._error(int(model.split("-")[1]), f"scripted {model}")
        if action == "converse":
            return self._json(converse_reply(model, body))
        if action == "converse-stream":
            events = (event(kind, payload) for kind, payload in converse_events(model, body))
            return self._stream(events, model)
        if action == "invoke":
            reply, inputs, outputs = invoke_reply(model, body)
            return self._json(reply, tokens=(inputs, outputs), cached="cached" in model)
        if action == "invoke-with-response-stream":
            chunks = (
                event("chunk", {"bytes": base64.b64encode(json.dumps(c).encode()).decode()})
                for c in invoke_chunks(model, body)
            )
            return self._stream(chunks, model, error_at=1)
        return self._error(404, "no such action")

    def _json(
        self,
        payload: dict[str, Any],
        status: int = 200,
        tokens: tuple[int, int] | None = None,
        cached: bool = False,
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", REQUEST_ID)
        if tokens is not None:
            self.send_header("x-amzn-bedrock-input-token-count", str(tokens[0]))
            self.send_header("x-amzn-bedrock-output-token-count", str(tokens[1]))
        if cached:
            self.send_header("x-amzn-bedrock-cache-read-input-token-count", str(CACHE_READ_TOKENS))
            self.send_header(
                "x-amzn-bedrock-cache-write-input-token-count", str(CACHE_WRITE_TOKENS)
            )
        if status >= 400:
            kind = ERROR_TYPES.get(status, "InternalServerException")
            self.send_header("x-amzn-ErrorType", f"{kind}:http://internal.amazon.com/coral/")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._json({"message": message}, status)

    def _stream(self, messages: Iterator[bytes], model: str, error_at: int = 2) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("x-amzn-RequestId", REQUEST_ID)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, message in enumerate(messages):
            if model == "cut-stream" and index == 3:
                # Stop mid-body: no terminating chunk, the connection just goes away.
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if model == "stream-error" and index == error_at:
                write_chunk(
                    self.wfile, exception_event("modelStreamErrorException", "Model overloaded")
                )
                break
            write_chunk(self.wfile, message)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def start_bedrock_server() -> tuple[BedrockServer, ThreadingHTTPServer]:
    server, recorded, port = serve(_Handler)
    return BedrockServer(f"http://127.0.0.1:{port}", recorded), server
