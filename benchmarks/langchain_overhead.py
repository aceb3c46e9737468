"""LangChain ``prompt | model | parser`` invoke with a fake chat model: instrumented over bare.

The same chain runs in one process, in alternating rounds, with traceroot's LangChain integration
off and on (spans to a no-op exporter). The figure is the ratio of the medians; budget 1.8
(same workload, measured when this budget was set: OpenLLMetry 2.7, OpenInference 4.0,
TraceRoot SDK 0.5 5.2).

Two references say where the time goes: LangChain's own cost once any handler is present (an
empty one), and the floor for any tracer that makes these four spans (a handler that only starts
and ends them, with one input and one output attribute each).

    python benchmarks/langchain_overhead.py [--calls 500 --rounds 15]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from _common import off_and_on, set_up_tracing
from langchain_core.callbacks.base import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from opentelemetry import trace
from opentelemetry.trace import Span


def replies() -> Iterator[AIMessage]:
    usage = {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17}
    while True:
        yield AIMessage(content="The answer is 42.", usage_metadata=usage)  # type: ignore[arg-type]


class EmptyHandler(BaseCallbackHandler):
    """Does nothing: what LangChain itself spends once a handler is present."""


class SpansOnlyHandler(BaseCallbackHandler):
    """Starts and ends one span per run under its parent's, with one input and one output
    attribute: the floor for any tracer that makes these four spans."""

    def __init__(self) -> None:
        self.tracer = trace.get_tracer("spans-only")
        self.open: dict[UUID, Span] = {}

    def _start(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        parent = self.open.get(parent_run_id) if parent_run_id else None
        context = trace.set_span_in_context(parent) if parent is not None else None
        span = self.tracer.start_span("run", context, attributes={"input": "{}"})
        self.open[run_id] = span

    def _end(self, run_id: UUID) -> None:
        span = self.open.pop(run_id)
        span.set_attributes({"output": "{}"})
        span.end()

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._start(run_id, kw.get("parent_run_id"))

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **kw: Any
    ) -> None:
        self._start(run_id, kw.get("parent_run_id"))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)


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

    def invoke_with(handler: BaseCallbackHandler) -> Callable[[], Any]:
        config: Any = {"callbacks": [handler]}
        return lambda: chain.invoke({"topic": "the answer"}, config=config)

    references = {
        "an empty handler": invoke_with(EmptyHandler()),
        "4 spans, nothing else": invoke_with(SpansOnlyHandler()),
    }
    bare_us, traced_us, reference_us = off_and_on(
        invoke, "langchain", args.calls, args.rounds, references
    )
    print("LangChain prompt | model | parser invoke, fake chat model (CPU per call, medians)")
    print(f"  uninstrumented          {bare_us:7.1f} us")
    for label, us in reference_us.items():
        print(f"  {label:22}  {us:7.1f} us   (ratio {us / bare_us:.2f}; for reference)")
    ratio = traced_us / bare_us
    print(f"  traceroot               {traced_us:7.1f} us   (ratio {ratio:.2f}; budget 1.8)")


if __name__ == "__main__":
    main()
