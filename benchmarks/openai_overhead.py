"""Per-call cost of the OpenAI integration against a hand-written span with the same attributes.

The real ``openai`` client runs on a mocked HTTP transport (canned replies, no sockets), so the
figures are the client's own work plus instrumentation. Rounds alternate, in one process:

- bare: no span at all (the floor);
- hand-written: a plain OpenTelemetry span recording the same attributes traceroot records
  (type, operation, provider, model, parameters, server, messages, usage, finish reasons, output);
- traceroot: ``traceroot.instrument(integrations=["openai"])``.

Each round's overheads are taken against that round's own floor; the report gives medians, for a
plain chat call and for a streamed one (20 chunks, with the usage chunk). Budget: traceroot at
most 1.5x the hand-written span.

    python benchmarks/openai_overhead.py [--calls 300 --rounds 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from typing import Any

from _common import set_up_tracing, timed
from opentelemetry import trace

import traceroot
from traceroot import semconv

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the answer to everything?"},
]
REPLY = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-bench",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "The answer is 42."},
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }
).encode()


def _stream_body() -> bytes:
    base = {
        "id": "chatcmpl-2",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-bench",
    }
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    events += [
        {**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "}}]} for i in range(20)
    ]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 12, "completion_tokens": 20, "total_tokens": 32}
    events.append({**base, "choices": [], "usage": usage})
    lines = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


STREAM_BODY = _stream_body()


def mocked_client() -> Any:
    import openai
    import openai._base_client as base_client

    # openai 1.x and 2.x are built on httpx, later majors on its successor httpx2.
    http_module = getattr(base_client, "httpx2", None) or base_client.httpx

    def handler(request: Any) -> Any:
        streaming = b'"stream":true' in request.content.replace(b" ", b"")
        if streaming:
            headers = {"content-type": "text/event-stream"}
            return http_module.Response(200, headers=headers, content=STREAM_BODY)
        return http_module.Response(
            200, headers={"content-type": "application/json"}, content=REPLY
        )

    http_client = openai.DefaultHttpxClient(transport=http_module.MockTransport(handler))
    return openai.OpenAI(
        api_key="sk-bench",
        base_url="http://bench.invalid/v1",
        http_client=http_client,
        max_retries=0,
    )


def input_parts() -> str:
    parts = [
        {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]} for m in MESSAGES
    ]
    return json.dumps(parts)


def request_attributes(span: Any, client: Any, stream: bool) -> None:
    span.set_attribute(semconv.SPAN_TYPE, "llm")
    span.set_attribute(semconv.GEN_AI_OPERATION_NAME, "chat")
    span.set_attribute(semconv.GEN_AI_PROVIDER_NAME, "openai")
    span.set_attribute(semconv.GEN_AI_REQUEST_MODEL, "gpt-bench")
    span.set_attribute(semconv.GEN_AI_REQUEST_TEMPERATURE, 0.2)
    span.set_attribute(semconv.GEN_AI_REQUEST_STREAM, stream)
    span.set_attribute(semconv.SERVER_ADDRESS, client.base_url.host)
    span.set_attribute(semconv.GEN_AI_INPUT_MESSAGES, input_parts())


def response_attributes(
    span: Any, response_id: str, model: str, text: str, reason: str, usage: Any
) -> None:
    span.set_attribute(semconv.GEN_AI_RESPONSE_ID, response_id)
    span.set_attribute(semconv.GEN_AI_RESPONSE_MODEL, model)
    span.set_attribute(semconv.GEN_AI_RESPONSE_FINISH_REASONS, [reason])
    span.set_attribute(semconv.GEN_AI_USAGE_INPUT_TOKENS, usage.prompt_tokens)
    span.set_attribute(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, usage.completion_tokens)
    output = {
        "role": "assistant",
        "parts": [{"type": "text", "content": text}],
        "finish_reason": reason,
    }
    span.set_attribute(semconv.GEN_AI_OUTPUT_MESSAGES, json.dumps([output]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    set_up_tracing()
    tracer = trace.get_tracer("hand-written")
    client = mocked_client()

    def call() -> Any:
        return client.chat.completions.create(model="gpt-bench", messages=MESSAGES, temperature=0.2)

    def hand_call() -> Any:
        with tracer.start_as_current_span("chat gpt-bench") as span:
            request_attributes(span, client, False)
            result = call()
            choice = result.choices[0]
            text, reason = choice.message.content, choice.finish_reason
            response_attributes(span, result.id, result.model, text, reason, result.usage)
            return result

    def stream() -> list[Any]:
        chunks = client.chat.completions.create(
            model="gpt-bench",
            messages=MESSAGES,
            temperature=0.2,
            stream=True,
            stream_options={"include_usage": True},
        )
        return list(chunks)

    def hand_stream() -> list[Any]:
        with tracer.start_as_current_span("chat gpt-bench") as span:
            request_attributes(span, client, True)
            chunks, text, reason, usage, first = [], [], "", None, None
            for chunk in stream():
                first = first or chunk
                chunks.append(chunk)
                for choice in chunk.choices:
                    text.append(choice.delta.content or "")
                    reason = choice.finish_reason or reason
                usage = chunk.usage or usage
            response_attributes(span, first.id, first.model, "".join(text), reason, usage)
            return chunks

    print("OpenAI chat call, real client on a mocked transport (CPU per call, medians)")
    for label, bare, hand in (("chat", call, hand_call), ("stream", stream, hand_stream)):
        floor, hand_cost, our_cost = measure(bare, hand, args.calls, args.rounds)
        print(f"  {label:<6} uninstrumented                {floor:7.1f} us")
        print(f"  {label:<6} hand-written span, same attrs {hand_cost:+7.1f} us")
        ratio = f"({our_cost / hand_cost:.2f}x hand-written)"
        print(f"  {label:<6} traceroot                     {our_cost:+7.1f} us  {ratio}")


def measure(
    bare: Callable[[], Any], hand: Callable[[], Any], calls: int, rounds: int
) -> tuple[float, float, float]:
    traceroot.instrument(integrations=["openai"])
    timed(bare, 50)  # warm caches and the first patch
    traceroot.uninstrument()
    timed(hand, 50)
    floors, hands, ours = [], [], []
    with traceroot.using_attributes(session_id="bench", user_id="u"):
        for _ in range(rounds):
            floor_before = timed(bare, calls)
            hand_now = timed(hand, calls)
            traceroot.instrument(integrations=["openai"])
            ours_now = timed(bare, calls)
            traceroot.uninstrument()
            floor = (floor_before + timed(bare, calls)) / 2
            floors.append(floor)
            hands.append(hand_now - floor)
            ours.append(ours_now - floor)
    return statistics.median(floors), statistics.median(hands), statistics.median(ours)


if __name__ == "__main__":
    main()
