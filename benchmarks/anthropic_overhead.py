"""Per-call cost of the Anthropic integration against a hand-written span with the same attributes.

The real ``anthropic`` client runs on a mocked HTTP transport (canned replies, no sockets), so the
figures are the client's own work plus instrumentation. Blocks of calls alternate in one process,
in rotating order (:func:`_common.paired`):

- bare: no span at all (the floor; on anthropic 2.x the client is made with
  ``open_telemetry=False``, so the SDK's own span is off too);
- hand-written: the cheapest span a careful engineer would write for the same attributes traceroot
  records (type, session, user, operation, provider, model, parameters, server, system prompt,
  messages, usage with the cache counts, finish reasons, output): a tracer of a plain SDK provider
  with no traceroot processor, the request's attributes at start, the response's in one call;
- traceroot: ``traceroot.instrument(integrations=["anthropic"])``, inside ``using_attributes``;
- on 2.x also, for reference: the SDK's own span (a client with its telemetry on, traceroot's
  integration off), which traceroot leaves out for the calls it covers.

The report gives medians, for a plain ``messages.create`` and for a streamed one (20 text deltas).
Budget: traceroot at most 1.5x the hand-written span (issue 15; 1.3x is issue 19's aim).

    python benchmarks/anthropic_overhead.py [--calls 20 --rounds 40]
"""

from __future__ import annotations

import argparse
import inspect
import json
from collections.abc import Callable
from typing import Any

from _common import Variant, paired, plain_tracer, print_against_hand, set_up_tracing

import traceroot
from traceroot import semconv

SYSTEM = "You are a helpful assistant."
MESSAGES = [{"role": "user", "content": "What is the answer to everything?"}]
USAGE = {
    "input_tokens": 12,
    "output_tokens": 5,
    "cache_read_input_tokens": 4,
    "cache_creation_input_tokens": 0,
}
REPLY = json.dumps(
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-bench",
        "content": [{"type": "text", "text": "The answer is 42."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": USAGE,
    }
).encode()


def _stream_body() -> bytes:
    start = {
        "id": "msg_2",
        "type": "message",
        "role": "assistant",
        "model": "claude-bench",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**USAGE, "output_tokens": 1},
    }
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    block = {"type": "text", "text": ""}
    events.append({"type": "content_block_start", "index": 0, "content_block": block})
    events += [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": f"w{i} "},
        }
        for i in range(20)
    ]
    events.append({"type": "content_block_stop", "index": 0})
    delta = {"stop_reason": "end_turn", "stop_sequence": None}
    events.append(
        {"type": "message_delta", "delta": delta, "usage": {**USAGE, "output_tokens": 20}}
    )
    events.append({"type": "message_stop"})
    lines = [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events]
    return "".join(lines).encode()


STREAM_BODY = _stream_body()


def mocked_client(*, own_telemetry: bool = False) -> Any:
    import anthropic
    import anthropic._base_client as base_client

    # anthropic 0.x is built on httpx, 2.x on its successor httpx2.
    http_module = getattr(base_client, "httpx2", None) or base_client.httpx

    def handler(request: Any) -> Any:
        streaming = b'"stream":true' in request.content.replace(b" ", b"")
        if streaming:
            headers = {"content-type": "text/event-stream"}
            return http_module.Response(200, headers=headers, content=STREAM_BODY)
        return http_module.Response(
            200, headers={"content-type": "application/json"}, content=REPLY
        )

    options: dict[str, Any] = {}
    if "open_telemetry" in inspect.signature(anthropic.Anthropic).parameters:
        options["open_telemetry"] = None if own_telemetry else False
    elif own_telemetry:
        return None  # 0.x: no telemetry of its own
    http_client = anthropic.DefaultHttpxClient(transport=http_module.MockTransport(handler))
    return anthropic.Anthropic(
        api_key="sk-ant-bench",
        base_url="http://bench.invalid",
        http_client=http_client,
        max_retries=0,
        **options,
    )


def _parts(text: str) -> list[dict[str, str]]:
    return [{"type": "text", "content": text}]


def request_attributes(client: Any, stream: bool) -> dict[str, Any]:
    inputs = [{"role": m["role"], "parts": _parts(m["content"])} for m in MESSAGES]
    return {
        semconv.SESSION_ID: "bench",
        semconv.USER_ID: "u",
        semconv.SPAN_TYPE: "llm",
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "anthropic",
        semconv.GEN_AI_REQUEST_MODEL: "claude-bench",
        semconv.GEN_AI_REQUEST_MAX_TOKENS: 256,
        semconv.GEN_AI_REQUEST_STREAM: stream,
        semconv.SERVER_ADDRESS: client.base_url.host,
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS: json.dumps(_parts(SYSTEM)),
        semconv.GEN_AI_INPUT_MESSAGES: json.dumps(inputs),
    }


def response_attributes(
    response_id: str, model: str, text: str, reason: str, usage: Any
) -> dict[str, Any]:
    cached = usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    output = {"role": "assistant", "parts": _parts(text), "finish_reason": reason}
    return {
        semconv.GEN_AI_RESPONSE_ID: response_id,
        semconv.GEN_AI_RESPONSE_MODEL: model,
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: [reason],
        semconv.GEN_AI_USAGE_INPUT_TOKENS: usage.input_tokens + cached,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: usage.cache_read_input_tokens,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: usage.cache_creation_input_tokens,
        semconv.GEN_AI_OUTPUT_MESSAGES: json.dumps([output]),
    }


def cases(client: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Each case's uninstrumented call and its hand-written counterpart."""
    tracer = plain_tracer()
    call, stream = call_with(client), stream_with(client)

    def hand_call() -> Any:
        attributes = request_attributes(client, False)
        with tracer.start_as_current_span("chat claude-bench", attributes=attributes) as span:
            result = call()
            text = result.content[0].text
            span.set_attributes(
                response_attributes(result.id, result.model, text, result.stop_reason, result.usage)
            )
            return result

    def hand_stream() -> list[Any]:
        attributes = request_attributes(client, True)
        with tracer.start_as_current_span("chat claude-bench", attributes=attributes) as span:
            events, text, reason, usage, first = [], [], "", None, None
            for event in stream():
                events.append(event)
                if event.type == "message_start":
                    first, usage = event.message, event.message.usage
                elif event.type == "content_block_delta":
                    text.append(event.delta.text)
                elif event.type == "message_delta":
                    reason = event.delta.stop_reason
                    usage = event.usage
            span.set_attributes(
                response_attributes(first.id, first.model, "".join(text), reason, usage)
            )
            return events

    return {"create": (call, hand_call), "stream": (stream, hand_stream)}


def call_with(on: Any) -> Callable[[], Any]:
    def call() -> Any:
        return on.messages.create(
            model="claude-bench", max_tokens=256, system=SYSTEM, messages=MESSAGES
        )

    return call


def stream_with(on: Any) -> Callable[[], Any]:
    def stream() -> list[Any]:
        events = on.messages.create(
            model="claude-bench", max_tokens=256, system=SYSTEM, messages=MESSAGES, stream=True
        )
        return list(events)

    return stream


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    import anthropic

    set_up_tracing()
    client = mocked_client()
    sdk_client = mocked_client(own_telemetry=True)
    print(
        f"Anthropic messages.create (anthropic {anthropic.__version__}), real client on a mocked "
        "transport (CPU per call, medians)"
    )
    ours = {
        "on": lambda: traceroot.instrument(integrations=["anthropic"]),
        "off": traceroot.uninstrument,
    }
    own_calls = {"create": call_with, "stream": stream_with}
    with traceroot.using_attributes(session_id="bench", user_id="u"):
        for label, (bare, hand) in cases(client).items():
            variants = {"hand": Variant(hand), "traceroot": Variant(bare, **ours)}
            if sdk_client is not None:
                variants["sdk"] = Variant(own_calls[label](sdk_client))
            floor, overheads = paired(bare, variants, args.calls, args.rounds)
            print_against_hand(label, floor, overheads)


if __name__ == "__main__":
    main()
