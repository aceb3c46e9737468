"""What traceroot costs on other tracers' spans: at start on the app's thread, at export off it.

At start, the context processor stamps the session on another tracer's span and, for a GenAI
span, types it and reports a model call to the one-llm-span-per-call protocol. At export, the
reader maps an OpenInference span's attributes onto a copy. The first is measured against the
same span on a provider with no traceroot processor (alternating rounds, CPU time per span); the
second per span read.

    python benchmarks/foreign_spans.py [--calls 20000 --rounds 9]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable

from _common import DropExporter, timed
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

import traceroot
from traceroot.foreign import read
from traceroot.processor import ContextProcessor

_START = {"openinference.span.kind": "LLM", "llm.system": "openai"}
_END = {
    "llm.model_name": "gpt-4o-mini",
    "llm.token_count.prompt": 12,
    "llm.token_count.completion": 40,
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "You are terse.",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.content": "What's the weather in SF?",
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.content": "Sunny.",
    "llm.invocation_parameters": json.dumps({"temperature": 0.2, "max_tokens": 64}),
    "input.value": json.dumps({"messages": [{"role": "user", "content": "What's the weather"}]}),
    "input.mime_type": "application/json",
    "output.value": "Sunny.",
}


def _provider(with_traceroot: bool) -> TracerProvider:
    provider = TracerProvider()
    if with_traceroot:
        provider.add_span_processor(ContextProcessor())
    provider.add_span_processor(SimpleSpanProcessor(DropExporter()))
    return provider


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    traceroot.instrument(exporter="none", integrations=[])
    plain = _provider(False).get_tracer("openinference.instrumentation.openai")
    ours = _provider(True).get_tracer("openinference.instrumentation.openai")

    def span_on(tracer: Tracer) -> Callable[[], object]:
        def make() -> object:
            span = tracer.start_span("ChatCompletion", attributes=_START)
            span.set_attributes(_END)
            span.end()
            return span

        return make

    bare, traced = span_on(plain), span_on(ours)
    kept = InMemorySpanExporter()
    keeper = TracerProvider()
    keeper.add_span_processor(SimpleSpanProcessor(kept))
    keeper.get_tracer("openinference.instrumentation.openai").start_span(
        "ChatCompletion", attributes={**_START, **_END}
    ).end()
    (sample,) = kept.get_finished_spans()

    rounds: dict[str, list[float]] = {"bare": [], "traced": [], "read": []}
    with traceroot.using_attributes(session_id="bench", user_id="u"):
        for _ in range(args.rounds):
            rounds["bare"].append(timed(bare, args.calls))
            rounds["traced"].append(timed(traced, args.calls))
            rounds["read"].append(timed(lambda: read(sample), args.calls // 4))
    bare_us = statistics.median(rounds["bare"])
    traced_us = statistics.median(rounds["traced"])
    print("another tracer's OpenInference LLM span (start, 13 attributes, end), per span:")
    print(f"  without traceroot                 {bare_us:6.1f} us")
    print(
        f"  with traceroot's processor        {traced_us:6.1f} us   (+{traced_us - bare_us:.1f} us:"
        " session stamped, typed, model call registered)"
    )
    print(
        f"  read at export (export thread)    {statistics.median(rounds['read']):6.1f} us"
        "   (a copy with model, usage, messages, input and output mapped)"
    )


if __name__ == "__main__":
    main()
