"""Per-call cost of ``@observe`` against a hand-written span carrying the same attributes.

Both run in the same process on the same SDK provider (context processor on, spans dropped by a
no-op exporter), in alternating rounds; each figure is the median round. The hand-written span is
the floor any instrumentation pays: start a span, set type, input and output as JSON (and the same
in GenAI and OpenInference terms, as @observe records on a tool), end it.

    python benchmarks/observe_overhead.py [--calls 20000 --rounds 9]
"""

from __future__ import annotations

import argparse
import json
import statistics

from _common import set_up_tracing, timed
from opentelemetry import trace

import traceroot
from traceroot import semconv


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    set_up_tracing()
    tracer = trace.get_tracer("hand-written")

    def work(query: str, k: int = 3) -> list[str]:
        return [query] * k

    def hand_written() -> object:
        # What @observe records on a tool: its type, input and output, and the same in GenAI and
        # OpenInference terms (operation, tool name, kind, arguments and result).
        with tracer.start_as_current_span(
            "work",
            attributes={
                semconv.SPAN_TYPE: "tool",
                semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_EXECUTE_TOOL,
                semconv.GEN_AI_TOOL_NAME: "work",
                semconv.OPENINFERENCE_SPAN_KIND: semconv.OPENINFERENCE_KIND_TOOL,
            },
        ) as span:
            arguments = json.dumps({"query": "q", "k": 3})
            span.set_attribute(semconv.SPAN_INPUT, arguments)
            result = work("q")
            output = json.dumps(result)
            span.set_attributes(
                {
                    semconv.SPAN_OUTPUT: output,
                    semconv.GEN_AI_TOOL_CALL_ARGUMENTS: arguments,
                    semconv.GEN_AI_TOOL_CALL_RESULT: output,
                }
            )
            return result

    observed = traceroot.observe(type="tool")(work)

    def bare() -> object:
        return work("q")

    def via_observe() -> object:
        return observed("q")

    with traceroot.using_attributes(session_id="bench", user_id="u"):
        rounds: dict[str, list[float]] = {"bare": [], "hand": [], "observe": []}
        for _ in range(args.rounds):
            rounds["bare"].append(timed(bare, args.calls))
            rounds["hand"].append(timed(hand_written, args.calls))
            rounds["observe"].append(timed(via_observe, args.calls))
    bare_us = statistics.median(rounds["bare"])
    hand = statistics.median(rounds["hand"]) - bare_us
    ours = statistics.median(rounds["observe"]) - bare_us
    print("per-call overhead, inside using_attributes (session + user stamped on every span)")
    print(f"  hand-written span + attributes  {hand:6.1f} us")
    ratio = ours / hand
    print(
        f"  @observe                        {ours:6.1f} us   ({ratio:.2f}x the hand-written span)"
    )


if __name__ == "__main__":
    main()
