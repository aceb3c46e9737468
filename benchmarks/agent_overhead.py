"""Tool-calling agents with a fake model: instrumented over bare, per invoke.

Two agents, each asked one question that takes one tool call and a final answer (two model calls,
one tool run): LangGraph's ``create_react_agent`` and LangChain's ``create_agent``. The model is
LangChain's fake chat model replaying the same two replies, so the figure is the agent machinery
and the instrumentation, nothing else. Paired blocks in one process (``_common.paired``): bare,
and with traceroot's LangChain integration on, in rotating order; CPU time per invoke. Budget:
1.6x the uninstrumented invoke.

    python benchmarks/agent_overhead.py [--calls 60 --rounds 15]
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from collections.abc import Callable
from typing import Any

from _common import Variant, paired, set_up_tracing
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

import traceroot

BUDGET = 1.6
USAGE: Any = {"input_tokens": 40, "output_tokens": 12, "total_tokens": 52}


class ToolCallingFake(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self  # the scripted replies already say which tool to call


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny and 21 C in {city}."


def model() -> ToolCallingFake:
    call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call-1"}
    replies = [
        AIMessage(content="", tool_calls=[call], usage_metadata=USAGE),
        AIMessage(content="It is sunny and 21 C in Paris.", usage_metadata=USAGE),
    ]
    return ToolCallingFake(messages=itertools.cycle(replies))


def agents() -> dict[str, Callable[[], object]]:
    question = {"messages": [{"role": "user", "content": "What is the weather in Paris?"}]}
    found: dict[str, Callable[[], object]] = {}
    try:
        from langgraph.prebuilt import create_react_agent

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated in LangGraph 1.x in favour of create_agent
            graph = create_react_agent(model(), tools=[get_weather])
        found["LangGraph create_react_agent"] = lambda: graph.invoke(question)
    except ImportError:
        pass
    try:
        from langchain.agents import create_agent

        agent = create_agent(model(), tools=[get_weather])
        found["LangChain create_agent"] = lambda: agent.invoke(question)
    except ImportError:
        pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    set_up_tracing()
    print("Tool-calling agents, fake model (2 model calls + 1 tool per invoke; CPU per invoke)")
    with traceroot.using_attributes(session_id="bench", user_id="bench"):
        for label, invoke in agents().items():
            traced = Variant(
                fn=invoke,
                on=lambda: traceroot.instrument(integrations=["langchain"]),
                off=traceroot.uninstrument,
            )
            bare_us, overheads = paired(invoke, {"traceroot": traced}, args.calls, args.rounds)
            ratio = (bare_us + overheads["traceroot"]) / bare_us
            status = "within" if ratio <= BUDGET else "OVER"
            print(f"  {label}")
            print(f"    uninstrumented   {bare_us:8.1f} us")
            print(
                f"    traceroot        {bare_us + overheads['traceroot']:8.1f} us   "
                f"(ratio {ratio:.2f}; {status} the {BUDGET} budget)"
            )


if __name__ == "__main__":
    main()
