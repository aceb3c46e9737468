"""Per-call cost of the OpenAI integration against a hand-written span with the same attributes.

A canned OpenAI-compatible server runs in a child process on 127.0.0.1; the real ``openai``
client calls it. Rounds alternate three ways of making the same call in one process:

- bare: no span at all (the floor);
- hand-written: a span that records what our span records (model, parameters, messages, usage,
  finish reasons, output) with plain OpenTelemetry calls;
- traceroot: ``traceroot.instrument(integrations=["openai"])``.

Overhead is each median minus the bare median, in CPU time of the calling thread. Budget:
traceroot at most 1.5x hand-written.

    python benchmarks/openai_overhead.py [--calls 200 --rounds 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import traceroot
from traceroot import semconv

SERVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
REPLY = json.dumps({
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-bench",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "The answer is 42."}}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
}).encode()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *args): pass
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(REPLY)))
        self.end_headers()
        self.wfile.write(REPLY)
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the answer to everything?"},
]


class DropExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def timed(fn: Callable[[], object], calls: int) -> float:
    """CPU time of this thread per call: what instrumentation adds is CPU work, and the
    server's scheduling noise stays out of it."""
    start = time.thread_time()
    for _ in range(calls):
        fn()
    return (time.thread_time() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        run(port, args.calls, args.rounds)
    finally:
        server.terminate()


def run(port: int, calls: int, rounds: int) -> None:
    import openai

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(DropExporter()))
    trace.set_tracer_provider(provider)
    traceroot.instrument(exporter="none", integrations=[])
    tracer = trace.get_tracer("hand-written")
    client = openai.OpenAI(
        api_key="sk-bench", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0
    )

    def bare() -> object:
        return client.chat.completions.create(model="gpt-bench", messages=MESSAGES, temperature=0.2)

    def hand_written() -> Any:
        # The same attributes traceroot records for this call, written the plain way.
        parts = [
            {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]}
            for m in MESSAGES
        ]
        with tracer.start_as_current_span("chat gpt-bench") as span:
            span.set_attribute(semconv.SPAN_TYPE, "llm")
            span.set_attribute(semconv.GEN_AI_OPERATION_NAME, "chat")
            span.set_attribute(semconv.GEN_AI_PROVIDER_NAME, "openai")
            span.set_attribute(semconv.GEN_AI_REQUEST_MODEL, "gpt-bench")
            span.set_attribute(semconv.GEN_AI_REQUEST_TEMPERATURE, 0.2)
            span.set_attribute(semconv.GEN_AI_REQUEST_STREAM, False)
            span.set_attribute(semconv.SERVER_ADDRESS, client.base_url.host)
            span.set_attribute(semconv.SERVER_PORT, client.base_url.port or 443)
            span.set_attribute(semconv.GEN_AI_INPUT_MESSAGES, json.dumps(parts))
            result: Any = bare()
            choice = result.choices[0]
            span.set_attribute(semconv.GEN_AI_RESPONSE_ID, result.id)
            span.set_attribute(semconv.GEN_AI_RESPONSE_MODEL, result.model)
            span.set_attribute(semconv.GEN_AI_RESPONSE_FINISH_REASONS, [choice.finish_reason])
            span.set_attribute(semconv.GEN_AI_USAGE_INPUT_TOKENS, result.usage.prompt_tokens)
            span.set_attribute(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, result.usage.completion_tokens)
            output = {
                "role": "assistant",
                "parts": [{"type": "text", "content": choice.message.content}],
            }
            output["finish_reason"] = choice.finish_reason
            span.set_attribute(semconv.GEN_AI_OUTPUT_MESSAGES, json.dumps([output]))
            return result

    traceroot.instrument(integrations=["openai"])
    timed(bare, 20)  # warm connections, caches and the first patch
    traceroot.uninstrument()
    timed(hand_written, 20)
    floor_figures: list[float] = []
    hand_overheads: list[float] = []
    our_overheads: list[float] = []
    with traceroot.using_attributes(session_id="bench", user_id="u"):
        for _ in range(rounds):
            # Each round's overheads are against that round's own floor, so slow spells of the
            # shared machine cancel out instead of landing on one side.
            floor_now = timed(bare, calls)
            hand_now = timed(hand_written, calls)
            traceroot.instrument(integrations=["openai"])
            ours_now = timed(bare, calls)
            traceroot.uninstrument()
            floor_after = timed(bare, calls)
            baseline = (floor_now + floor_after) / 2
            floor_figures.append(baseline)
            hand_overheads.append(hand_now - baseline)
            our_overheads.append(ours_now - baseline)
    floor = statistics.median(floor_figures)
    hand = statistics.median(hand_overheads)
    ours = statistics.median(our_overheads)
    print("OpenAI chat call, real client against a local server (per call)")
    print(f"  uninstrumented call (CPU)           {floor:8.1f} us")
    print(f"  hand-written span, same attributes  {hand:+8.1f} us")
    print(
        f"  traceroot openai integration        {ours:+8.1f} us   ({ours / hand:.2f}x hand-written)"
    )


if __name__ == "__main__":
    main()
