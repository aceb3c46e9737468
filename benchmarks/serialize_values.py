"""Per-call cost of ``serialize.to_json`` on the values spans typically carry.

CPU time of the calling thread, median of 7 rounds. The LangGraph ``Send`` cases are what a
LangGraph agent's conditional edges return once per invoke: recorded by their fields, not by a
``repr`` of the whole graph state.

    python benchmarks/serialize_values.py [calls per round, default 2000]
"""

from __future__ import annotations

import statistics
import sys
import time
import types

from traceroot.serialize import to_json


def values() -> dict[str, object]:
    from langchain_core.messages import AIMessage, HumanMessage
    from langgraph.types import Send

    messages = [HumanMessage("What's the weather in Paris?"), AIMessage("Sunny, 21 C.")] * 3
    return {
        "str (short)": "plain answer",
        "str (2 KB)": "lorem ipsum dolor sit amet " * 80,
        "dict of args": {"query": "weather in Paris", "k": 3, "filters": {"lang": "en"}},
        "list of 20 dicts": [{"id": i, "text": f"doc {i}", "score": 0.5} for i in range(20)],
        "pydantic message": messages[0],
        "SimpleNamespace": types.SimpleNamespace(answer="42", sources=["a", "b"], score=0.9),
        "LangGraph Send": Send("tools", {"messages": messages, "step": 2}),
        "list of 3 Sends": [Send("tools", {"messages": messages, "i": i}) for i in range(3)],
    }


def per_call_us(value: object, calls: int) -> float:
    rounds = []
    for _ in range(7):
        start = time.process_time()
        for _ in range(calls):
            to_json(value)
        rounds.append((time.process_time() - start) / calls * 1e6)
    return statistics.median(rounds)


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    for name, value in values().items():
        print(f"  {name:<20} {per_call_us(value, calls):8.2f} us   {to_json(value)[:60]}")


if __name__ == "__main__":
    main()
