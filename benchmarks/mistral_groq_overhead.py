"""Per-call cost of the Mistral and Groq integrations against a hand-written span with the same
attributes (the budget every provider integration shares: at most 1.3x the hand-written span).

The real ``mistralai`` and ``groq`` clients run on mocked HTTP transports (canned replies, no
sockets), so the figures are the client's own work plus instrumentation, as CPU per call, medians
of alternating rounds in one process (see ``_common.off_and_on``).

    python benchmarks/mistral_groq_overhead.py [--calls 300 --rounds 15 --only groq]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from _common import off_and_on, set_up_tracing
from opentelemetry import trace

from traceroot import semconv

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the answer to everything?"},
]
REPLY = {
    "id": "cmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "bench-model",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "The answer is 42."},
        }
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
}


def _stream_body(usage_key: str) -> bytes:
    base = {"id": "cmpl-2", "object": "chat.completion.chunk", "created": 1, "model": "bench"}
    first = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    events = [{**base, "choices": [first]}]
    events += [
        {**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}]}
        for i in range(20)
    ]
    usage = {"prompt_tokens": 12, "completion_tokens": 20, "total_tokens": 32}
    last: dict[str, Any] = {
        **base,
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
    }
    last[usage_key] = usage if usage_key == "usage" else {"id": "req_1", "usage": usage}
    events.append(last)
    lines = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


def _handler(http: Any, stream_body: bytes) -> Callable[[Any], Any]:
    reply = json.dumps(REPLY).encode()

    def handle(request: Any) -> Any:
        if b'"stream":true' in request.content.replace(b" ", b""):
            return http.Response(
                200, headers={"content-type": "text/event-stream"}, content=stream_body
            )
        return http.Response(200, headers={"content-type": "application/json"}, content=reply)

    return handle


def mistral_calls() -> tuple[Callable[[], Any], Callable[[], Any], Any]:
    import httpx2
    from mistralai.client import Mistral

    transport = httpx2.MockTransport(_handler(httpx2, _stream_body("usage")))
    client = Mistral(
        api_key="bench",
        server_url="http://bench.invalid",
        client=httpx2.Client(transport=transport),
    )

    def call() -> Any:
        return client.chat.complete(model="bench-model", messages=MESSAGES, temperature=0.2)

    def stream() -> Any:
        return [event.data for event in client.chat.stream(model="bench-model", messages=MESSAGES)]

    return call, stream, "mistral_ai"


def groq_calls() -> tuple[Callable[[], Any], Callable[[], Any], Any]:
    import groq
    import httpx

    transport = httpx.MockTransport(_handler(httpx, _stream_body("x_groq")))
    client = groq.Groq(
        api_key="bench",
        base_url="http://bench.invalid",
        http_client=groq.DefaultHttpxClient(transport=transport),
        max_retries=0,
    )

    def call() -> Any:
        return client.chat.completions.create(
            model="bench-model", messages=MESSAGES, temperature=0.2
        )

    def stream() -> Any:
        return list(
            client.chat.completions.create(model="bench-model", messages=MESSAGES, stream=True)
        )

    return call, stream, "groq"


def hand_written(fn: Callable[[], Any], provider: str, streamed: bool) -> Callable[[], Any]:
    """A careful engineer's span: the same attributes, one ``set_attributes`` per side."""
    tracer = trace.get_tracer("hand-written")
    inputs = json.dumps(
        [
            {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]}
            for m in MESSAGES
        ]
    )

    def run() -> Any:
        with tracer.start_as_current_span("chat bench-model") as span:
            span.set_attributes(
                {
                    semconv.SPAN_TYPE: "llm",
                    semconv.GEN_AI_OPERATION_NAME: "chat",
                    semconv.GEN_AI_PROVIDER_NAME: provider,
                    semconv.GEN_AI_REQUEST_MODEL: "bench-model",
                    semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
                    semconv.GEN_AI_REQUEST_STREAM: streamed,
                    semconv.SERVER_ADDRESS: "bench.invalid",
                    semconv.GEN_AI_INPUT_MESSAGES: inputs,
                }
            )
            result = fn()
            if streamed:
                text, reason, usage, first = [], "", None, result[0]
                for chunk in result:
                    for choice in chunk.choices:
                        text.append(choice.delta.content or "")
                        reason = choice.finish_reason or reason
                    x_groq = getattr(chunk, "x_groq", None)
                    usage = chunk.usage or getattr(x_groq, "usage", None) or usage
                content, response_id, model = "".join(text), first.id, first.model
            else:
                choice = result.choices[0]
                content, reason, usage = choice.message.content, choice.finish_reason, result.usage
                response_id, model = result.id, result.model
            output = {"role": "assistant", "parts": [{"type": "text", "content": content}]}
            span.set_attributes(
                {
                    semconv.GEN_AI_RESPONSE_ID: response_id,
                    semconv.GEN_AI_RESPONSE_MODEL: model,
                    semconv.GEN_AI_RESPONSE_FINISH_REASONS: [reason],
                    semconv.GEN_AI_USAGE_INPUT_TOKENS: usage.prompt_tokens,
                    semconv.GEN_AI_USAGE_OUTPUT_TOKENS: usage.completion_tokens,
                    semconv.GEN_AI_OUTPUT_MESSAGES: json.dumps(
                        [{**output, "finish_reason": reason}]
                    ),
                }
            )
            return result

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--only", choices=("mistral", "groq"))
    args = parser.parse_args()
    set_up_tracing()
    print("Provider chat calls, real clients on mocked transports (CPU per call, medians)")
    for integration, make in (("mistral", mistral_calls), ("groq", groq_calls)):
        if args.only not in (None, integration):
            continue
        call, stream, provider = make()
        for label, fn, streamed in (("chat", call, False), ("stream", stream, True)):
            hand = hand_written(fn, provider, streamed)
            bare, ours, refs = off_and_on(fn, integration, args.calls, args.rounds, {"hand": hand})
            hand_cost, our_cost = refs["hand"] - bare, ours - bare
            name = f"{integration} {label}"
            print(f"  {name:<15} uninstrumented                {bare:7.1f} us")
            print(f"  {name:<15} hand-written span, same attrs {hand_cost:+7.1f} us")
            ratio = f"({our_cost / hand_cost:.2f}x hand-written)"
            print(f"  {name:<15} traceroot                     {our_cost:+7.1f} us  {ratio}")


if __name__ == "__main__":
    main()
