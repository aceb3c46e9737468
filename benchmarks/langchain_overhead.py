"""LangChain ``prompt | model | parser`` invoke with a fake chat model: instrumented over bare.

The same chain runs in one process, in alternating rounds, with traceroot's LangChain integration
off and on (spans to a no-op exporter). The figure is the ratio of the medians; budget 1.8
(same workload, measured when this budget was set: OpenLLMetry 2.7, OpenInference 4.0,
TraceRoot SDK 0.5 5.2).

    python benchmarks/langchain_overhead.py [--calls 500 --rounds 15]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from _common import off_and_on, set_up_tracing
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate


def replies() -> Iterator[AIMessage]:
    usage = {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17}
    while True:
        yield AIMessage(content="The answer is 42.", usage_metadata=usage)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    set_up_tracing()

    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are terse."), ("user", "What is {topic}?")]
    )
    chain = prompt | GenericFakeChatModel(messages=replies()) | StrOutputParser()

    def invoke() -> Any:
        return chain.invoke({"topic": "the answer"})

    bare_us, traced_us = off_and_on(invoke, "langchain", args.calls, args.rounds)
    print("LangChain prompt | model | parser invoke, fake chat model (CPU per call, medians)")
    print(f"  uninstrumented   {bare_us:7.1f} us")
    print(f"  traceroot        {traced_us:7.1f} us   (ratio {traced_us / bare_us:.2f}; budget 1.8)")


if __name__ == "__main__":
    main()
