"""Per-call cost of the Anthropic integration against a hand-written span with the same attributes.

The real ``anthropic`` client runs on a mocked HTTP transport (canned replies, no sockets), so the
figures are the client's own work plus instrumentation. Rounds alternate, in one process:

- bare: no span at all (the floor; on anthropic 2.x the client is made with
  ``open_telemetry=False``, so the SDK's own span is off too);
- hand-written: a plain OpenTelemetry span recording the same attributes traceroot records
  (type, operation, provider, model, parameters, server, system prompt, messages, usage with the
  cache counts, finish reasons, output);
- traceroot: ``traceroot.instrument(integrations=["anthropic"])``;
- on 2.x also, for reference: the SDK's own span (a client with its telemetry on, traceroot's
  integration off), which traceroot leaves out for the calls it covers.

Each round's overheads are taken against that round's own floor; the report gives medians, for a
plain ``messages.create`` and for a streamed one (20 text deltas). Budget: traceroot at most 1.5x
the hand-written span.

    python benchmarks/anthropic_overhead.py [--calls 300 --rounds 15]
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
from collections.abc import Callable
from typing import Any

from _common import set_up_tracing, timed
from opentelemetry import trace

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


def request_attributes(span: Any, client: Any, stream: bool) -> None:
    span.set_attribute(semconv.SPAN_TYPE, "llm")
    span.set_attribute(semconv.GEN_AI_OPERATION_NAME, "chat")
    span.set_attribute(semconv.GEN_AI_PROVIDER_NAME, "anthropic")
    span.set_attribute(semconv.GEN_AI_REQUEST_MODEL, "claude-bench")
    span.set_attribute(semconv.GEN_AI_REQUEST_MAX_TOKENS, 256)
    span.set_attribute(semconv.GEN_AI_REQUEST_STREAM, stream)
    span.set_attribute(semconv.SERVER_ADDRESS, client.base_url.host)
    span.set_attribute(semconv.GEN_AI_SYSTEM_INSTRUCTIONS, json.dumps(_parts(SYSTEM)))
    inputs = [{"role": m["role"], "parts": _parts(m["content"])} for m in MESSAGES]
    span.set_attribute(semconv.GEN_AI_INPUT_MESSAGES, json.dumps(inputs))


def response_attributes(
    span: Any, response_id: str, model: str, text: str, reason: str, usage: Any
) -> None:
    span.set_attribute(semconv.GEN_AI_RESPONSE_ID, response_id)
    span.set_attribute(semconv.GEN_AI_RESPONSE_MODEL, model)
    span.set_attribute(semconv.GEN_AI_RESPONSE_FINISH_REASONS, [reason])
    cached = usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    span.set_attribute(semconv.GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens + cached)
    span.set_attribute(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens)
    span.set_attribute(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_input_tokens)
    span.set_attribute(
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cache_creation_input_tokens
    )
    output = {"role": "assistant", "parts": _parts(text), "finish_reason": reason}
    span.set_attribute(semconv.GEN_AI_OUTPUT_MESSAGES, json.dumps([output]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    import anthropic

    set_up_tracing()
    tracer = trace.get_tracer("hand-written")
    client = mocked_client()
    sdk_client = mocked_client(own_telemetry=True)

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

    call, stream = call_with(client), stream_with(client)

    def hand_call() -> Any:
        with tracer.start_as_current_span("chat claude-bench") as span:
            request_attributes(span, client, False)
            result = call()
            text = result.content[0].text
            response_attributes(
                span, result.id, result.model, text, result.stop_reason, result.usage
            )
            return result

    def hand_stream() -> list[Any]:
        with tracer.start_as_current_span("chat claude-bench") as span:
            request_attributes(span, client, True)
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
            response_attributes(span, first.id, first.model, "".join(text), reason, usage)
            return events

    print(
        f"Anthropic messages.create (anthropic {anthropic.__version__}), real client on a mocked "
        "transport (CPU per call, medians)"
    )
    for label, bare, hand, own in (
        ("create", call, hand_call, call_with(sdk_client) if sdk_client else None),
        ("stream", stream, hand_stream, stream_with(sdk_client) if sdk_client else None),
    ):
        floor, hand_cost, our_cost, sdk_cost = measure(bare, hand, own, args.calls, args.rounds)
        print(f"  {label:<6} uninstrumented                {floor:7.1f} us")
        print(f"  {label:<6} hand-written span, same attrs {hand_cost:+7.1f} us")
        ratio = f"({our_cost / hand_cost:.2f}x hand-written)"
        print(f"  {label:<6} traceroot                     {our_cost:+7.1f} us  {ratio}")
        if sdk_cost is not None:
            ratio = f"({sdk_cost / hand_cost:.2f}x hand-written)"
            print(f"  {label:<6} the SDK's own span (2.x)      {sdk_cost:+7.1f} us  {ratio}")


def measure(
    bare: Callable[[], Any],
    hand: Callable[[], Any],
    own: Callable[[], Any] | None,
    calls: int,
    rounds: int,
) -> tuple[float, float, float, float | None]:
    traceroot.instrument(integrations=["anthropic"])
    timed(bare, 50)  # warm caches and the first patch
    traceroot.uninstrument()
    timed(hand, 50)
    if own is not None:
        timed(own, 50)
    floors, hands, ours, sdks = [], [], [], []
    with traceroot.using_attributes(session_id="bench", user_id="u"):
        for _ in range(rounds):
            floor_before = timed(bare, calls)
            hand_now = timed(hand, calls)
            own_now = timed(own, calls) if own is not None else None
            traceroot.instrument(integrations=["anthropic"])
            ours_now = timed(bare, calls)
            traceroot.uninstrument()
            floor = (floor_before + timed(bare, calls)) / 2
            floors.append(floor)
            hands.append(hand_now - floor)
            ours.append(ours_now - floor)
            if own_now is not None:
                sdks.append(own_now - floor)
    sdk = statistics.median(sdks) if sdks else None
    return statistics.median(floors), statistics.median(hands), statistics.median(ours), sdk


if __name__ == "__main__":
    main()
