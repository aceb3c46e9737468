"""One interop scenario in a fresh process: prints the finished spans as JSON lines.

    python -m tests.interop.scenario INSTRUMENTATION ORDER CALL

INSTRUMENTATION: ``openinference`` (its OpenAI and LangChain instrumentors) or ``openai-v2``;
ORDER: ``before`` or ``after`` traceroot.instrument(); CALL: ``plain``, ``stream``,
``async-stream``, ``chat-openai``, ``chat-openai-stream`` or ``llama-index-stream`` (LlamaIndex's
OpenAI LLM, whose provider call runs as its returned stream is read). Every call runs inside one traceroot session block
and one ``@observe`` span, so the whole run is one trace.

Instrumentors patch process-wide state that no uninstrument fully restores, so each scenario
gets a process of its own.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import traceroot
from traceroot.foreign import ReadingExporter

from ..integrations.openai_server import start_openai_server

SESSION = "interop-session"


def _instrument_other(name: str) -> None:
    if name == "openinference":
        from openinference.instrumentation.langchain import LangChainInstrumentor
        from openinference.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()
        LangChainInstrumentor().instrument()
    else:
        from opentelemetry.instrumentation.openai_v2 import (
            OpenAIInstrumentor as OpenAIV2Instrumentor,
        )

        OpenAIV2Instrumentor().instrument()


def _call(kind: str, url: str) -> None:
    if kind == "async-stream":
        asyncio.run(_async_stream(url))
        return
    if kind == "llama-index-stream":
        from llama_index.core.llms import ChatMessage
        from llama_index.llms.openai import OpenAI as LlamaOpenAI

        llm = LlamaOpenAI(
            model="gpt-4o-mini",
            api_key="sk-test",
            api_base=url,
            max_retries=0,
            additional_kwargs={"stream_options": {"include_usage": True}},
        )
        for _ in llm.stream_chat([ChatMessage(role="user", content="hello there")]):
            pass
        return
    if kind in ("plain", "stream"):
        import openai

        client = openai.OpenAI(base_url=url, api_key="sk-test")
        messages: Any = [{"role": "user", "content": "hello there"}]
        if kind == "plain":
            client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        else:
            stream = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
            for _ in stream:
                pass
        return
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(base_url=url, api_key="sk-test", model="gpt-4o-mini", stream_usage=True)  # type: ignore[call-arg]
    if kind == "chat-openai":
        model.invoke("hello there")
    else:
        for _ in model.stream("hello there"):
            pass


async def _async_stream(url: str) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=url, api_key="sk-test")
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hello there"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    async for _ in stream:
        pass


def main() -> None:
    other, order, kind = sys.argv[1:4]
    info, server = start_openai_server()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ReadingExporter(exporter)))
    trace.set_tracer_provider(provider)
    if order == "before":
        _instrument_other(other)
        traceroot.instrument(exporter="none")
    else:
        traceroot.instrument(exporter="none")
        _instrument_other(other)

    @traceroot.observe(name="turn", type="agent")
    def turn() -> None:
        _call(kind, info.url)

    with traceroot.using_attributes(session_id=SESSION):
        turn()
    server.shutdown()
    status = {item.name: str(item.state) for item in traceroot.integrations_status()}
    for span in exporter.get_finished_spans():
        assert span.context is not None
        print(
            json.dumps(
                {
                    "scope": span.instrumentation_scope.name if span.instrumentation_scope else "",
                    "name": span.name,
                    "trace": span.context.trace_id,
                    "id": span.context.span_id,
                    "parent": span.parent.span_id if span.parent else None,
                    "attributes": dict(span.attributes or {}),
                },
                default=list,
            )
        )
    print(json.dumps({"status": status}))


if __name__ == "__main__":
    main()
