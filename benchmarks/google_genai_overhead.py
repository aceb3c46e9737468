"""Per-call cost of the Google GenAI integration against a hand-written span with the same
attributes.

The real ``google-genai`` client runs on a mocked HTTP transport (canned replies, no sockets), so
the figures are the client's own work plus instrumentation. Rounds alternate, in one process:
bare (no span), a hand-written OpenTelemetry span recording the same attributes traceroot
records (type, operation, provider, model, parameters, server, messages with the system
instruction, usage with the cached and thinking tokens, finish reasons, output), and
``traceroot.instrument(integrations=["google_genai"])``. Medians, for ``generate_content`` and
for ``generate_content_stream`` (20 chunks). Budget: traceroot at most 1.3x the hand-written span.

    python benchmarks/google_genai_overhead.py [--calls 300 --rounds 15]
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

SYSTEM = "You are a helpful assistant."
PROMPT = "What is the answer to everything?"
USAGE = {
    "promptTokenCount": 12,
    "candidatesTokenCount": 5,
    "cachedContentTokenCount": 2,
    "thoughtsTokenCount": 1,
    "totalTokenCount": 18,
}


def _reply(text: str, last: bool = True) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if last:
        candidate["finishReason"] = "STOP"
    return {
        "candidates": [candidate],
        "usageMetadata": USAGE if last else {"promptTokenCount": 12},
        "modelVersion": "gemini-bench-001",
        "responseId": "resp-1",
    }


REPLY = json.dumps(_reply("The answer is 42.")).encode()
STREAM_BODY = "".join(
    f"data: {json.dumps(_reply(f'w{i} ', last=i == 19))}\r\n\r\n" for i in range(20)
).encode()


def mocked_client() -> Any:
    from google import genai
    from google.genai import _api_client, types

    http_module = getattr(_api_client, "httpx2", None) or _api_client.httpx

    def handler(request: Any) -> Any:
        if "streamGenerateContent" in str(request.url):
            headers = {"content-type": "text/event-stream"}
            return http_module.Response(200, headers=headers, content=STREAM_BODY)
        return http_module.Response(
            200, headers={"content-type": "application/json"}, content=REPLY
        )

    transport = http_module.MockTransport(handler)
    options = types.HttpOptions(
        base_url="http://bench.invalid", client_args={"transport": transport}
    )
    return genai.Client(api_key="bench-key", http_options=options)


def request_attributes(span: Any, stream: bool) -> None:
    span.set_attribute(semconv.SPAN_TYPE, "llm")
    span.set_attribute(semconv.GEN_AI_OPERATION_NAME, "generate_content")
    span.set_attribute(semconv.GEN_AI_PROVIDER_NAME, "gcp.gemini")
    span.set_attribute(semconv.GEN_AI_REQUEST_MODEL, "gemini-bench")
    span.set_attribute(semconv.GEN_AI_REQUEST_TEMPERATURE, 0.2)
    span.set_attribute(semconv.GEN_AI_REQUEST_STREAM, stream)
    span.set_attribute(semconv.SERVER_ADDRESS, "bench.invalid")
    messages = [
        {"role": "system", "parts": [{"type": "text", "content": SYSTEM}]},
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]},
    ]
    span.set_attribute(semconv.GEN_AI_INPUT_MESSAGES, json.dumps(messages))


def response_attributes(span: Any, response: Any, text: str) -> None:
    usage = response.usage_metadata
    reason = response.candidates[0].finish_reason.value.lower()
    span.set_attribute(semconv.GEN_AI_RESPONSE_ID, response.response_id)
    span.set_attribute(semconv.GEN_AI_RESPONSE_MODEL, response.model_version)
    span.set_attribute(semconv.GEN_AI_RESPONSE_FINISH_REASONS, [reason])
    span.set_attribute(semconv.GEN_AI_USAGE_INPUT_TOKENS, usage.prompt_token_count)
    output = usage.candidates_token_count + usage.thoughts_token_count
    span.set_attribute(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, output)
    span.set_attribute(
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cached_content_token_count
    )
    span.set_attribute(semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.thoughts_token_count)
    message = {"role": "assistant", "parts": [{"type": "text", "content": text}]}
    span.set_attribute(
        semconv.GEN_AI_OUTPUT_MESSAGES, json.dumps([message | {"finish_reason": reason}])
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    set_up_tracing()
    tracer = trace.get_tracer("hand-written")
    client = mocked_client()
    from google.genai import types

    config = types.GenerateContentConfig(system_instruction=SYSTEM, temperature=0.2)

    def call() -> Any:
        return client.models.generate_content(model="gemini-bench", contents=PROMPT, config=config)

    def hand_call() -> Any:
        with tracer.start_as_current_span("generate_content gemini-bench") as span:
            request_attributes(span, False)
            result = call()
            response_attributes(span, result, result.text)
            return result

    def stream() -> list[Any]:
        return list(
            client.models.generate_content_stream(
                model="gemini-bench", contents=PROMPT, config=config
            )
        )

    def hand_stream() -> list[Any]:
        with tracer.start_as_current_span("generate_content gemini-bench") as span:
            request_attributes(span, True)
            chunks = stream()
            text = "".join(chunk.text or "" for chunk in chunks)
            response_attributes(span, chunks[-1], text)
            return chunks

    print(
        "Google GenAI generate_content, real client on a mocked transport (CPU per call, medians)"
    )
    for label, bare, hand in (("call", call, hand_call), ("stream", stream, hand_stream)):
        floor, hand_cost, our_cost = measure(bare, hand, args.calls, args.rounds)
        print(f"  {label:<6} uninstrumented                {floor:7.1f} us")
        print(f"  {label:<6} hand-written span, same attrs {hand_cost:+7.1f} us")
        ratio = f"({our_cost / hand_cost:.2f}x hand-written)"
        print(f"  {label:<6} traceroot                     {our_cost:+7.1f} us  {ratio}")


def measure(
    bare: Callable[[], Any], hand: Callable[[], Any], calls: int, rounds: int
) -> tuple[float, float, float]:
    """As in openai_overhead.py: each round's costs over that round's own floor."""
    traceroot.instrument(integrations=["google_genai"])
    timed(bare, 50)  # warm caches and the first patch
    traceroot.uninstrument()
    timed(hand, 50)
    floors, hands, ours = [], [], []
    with traceroot.using_attributes(session_id="bench", user_id="u"):
        for _ in range(rounds):
            floor_before = timed(bare, calls)
            hand_now = timed(hand, calls)
            traceroot.instrument(integrations=["google_genai"])
            ours_now = timed(bare, calls)
            traceroot.uninstrument()
            floor = (floor_before + timed(bare, calls)) / 2
            floors.append(floor)
            hands.append(hand_now - floor)
            ours.append(ours_now - floor)
    return statistics.median(floors), statistics.median(hands), statistics.median(ours)


if __name__ == "__main__":
    main()
