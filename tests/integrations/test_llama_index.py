"""Real LlamaIndex objects: mock models, and the OpenAI LLM and embeddings on the local server."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.tools import FunctionTool
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import traceroot
from traceroot import observe, semconv, using_attributes

from ..conftest import Spans, parent_of, span_id, trace_id
from .conftest import API_KEY
from .openai_server import OpenAIServer

DOCUMENTS = [
    Document(text="Otters hold hands while they sleep so they do not drift apart. " * 30),
    Document(text="Paris is the capital of France."),
]


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["llama_index", "openai"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture
def mock_models() -> Iterator[None]:
    """LlamaIndex's global models, mocked; put back as mocks after tests that swap them."""
    Settings.llm = MockLLM(max_tokens=8)
    Settings.embed_model = MockEmbedding(embed_dim=8)
    yield
    Settings.llm = MockLLM(max_tokens=8)
    Settings.embed_model = MockEmbedding(embed_dim=8)


def kind(span: ReadableSpan) -> str:
    return str(span.attributes[semconv.SPAN_TYPE])


def one_trace(spans: Spans) -> list[ReadableSpan]:
    finished = spans.all()
    assert len({trace_id(s) for s in finished}) == 1, [s.name for s in finished]
    return finished


def test_query_engine_with_mock_models(traced: Spans, mock_models: None) -> None:
    index = VectorStoreIndex.from_documents(DOCUMENTS)
    # The index build: one embedding call, no span per chunk per splitter call.
    assert [s.name for s in traced.all()] == ["MockEmbedding.get_text_embedding_batch"]
    build = traced.one("MockEmbedding.get_text_embedding_batch")
    assert kind(build) == "llm"
    assert build.attributes[semconv.GEN_AI_OPERATION_NAME] == "embeddings"
    assert build.attributes[semconv.LLM_INPUT_COUNT] >= 2
    traced.clear()

    with using_attributes(session_id="rag-session", user_id="ada"):
        response = index.as_query_engine().query("What do otters do?")
    assert str(response)
    finished = one_trace(traced)
    root = traced.one("RetrieverQueryEngine.query")
    assert root.parent is None
    retrieve = traced.one("VectorIndexRetriever.retrieve")
    assert parent_of(retrieve) == span_id(root)
    assert retrieve.attributes[semconv.GEN_AI_OPERATION_NAME] == "retrieval"
    assert json.loads(retrieve.attributes[semconv.SPAN_INPUT]) == {
        "str_or_query_bundle": "What do otters do?"
    }
    nodes = json.loads(retrieve.attributes[semconv.SPAN_OUTPUT])
    assert len(nodes) == retrieve.attributes[semconv.RETRIEVAL_DOCUMENT_COUNT] >= 1
    assert {"id", "score", "text"} <= set(nodes[0])
    embed = traced.one("MockEmbedding.get_query_embedding")
    assert parent_of(embed) == span_id(retrieve)
    model_calls = [
        s
        for s in finished
        if kind(s) == "llm" and s.attributes[semconv.GEN_AI_OPERATION_NAME] != "embeddings"
    ]
    assert [s.name for s in model_calls] == ["MockLLM.complete"]
    assert kind(traced.one("MockLLM.predict")) == "span"  # predict wraps complete: one llm span
    for span in finished:
        assert span.attributes[semconv.SESSION_ID] == "rag-session"
        assert span.attributes[semconv.USER_ID] == "ada"
    assert not any("Splitter" in s.name or "._" in s.name for s in finished)


def test_openai_llm_and_embeddings_nest_and_count_usage_once(
    traced: Spans, openai_server: OpenAIServer, mock_models: None
) -> None:
    from llama_index.embeddings.openai import OpenAIEmbedding
    from llama_index.llms.openai import OpenAI

    Settings.llm = OpenAI(
        model="gpt-4o-mini", api_key=API_KEY, api_base=openai_server.url, max_retries=0
    )
    Settings.embed_model = OpenAIEmbedding(
        api_key=API_KEY, api_base=openai_server.url, max_retries=0
    )
    index = VectorStoreIndex.from_documents(DOCUMENTS)
    traced.clear()

    @observe(type="agent")
    def ask(question: str) -> str:
        return str(index.as_query_engine().query(question))

    assert ask("Where is Paris?").startswith("echo:")
    finished = one_trace(traced)
    provider_chat = [s for s in finished if s.name == "chat gpt-4o-mini"]
    assert len(provider_chat) == 1
    llama_llm = provider_chat[0].parent
    assert llama_llm is not None
    framework = next(s for s in finished if span_id(s) == llama_llm.span_id)
    assert framework.name.startswith("OpenAI.")
    assert kind(framework) == "span"
    usage_carriers = [s for s in finished if semconv.GEN_AI_USAGE_INPUT_TOKENS in s.attributes]
    assert {s.name for s in usage_carriers} == {
        "chat gpt-4o-mini",
        "embeddings text-embedding-ada-002",
    }
    assert len([s for s in usage_carriers if s.name.startswith("chat")]) == 1
    assert traced.one("RetrieverQueryEngine.query").parent.span_id == span_id(traced.one("ask"))  # type: ignore[union-attr]


def test_streaming_query_ends_its_spans(traced: Spans, mock_models: None) -> None:
    index = VectorStoreIndex.from_documents(DOCUMENTS)
    traced.clear()
    with using_attributes(session_id="streamed"):
        response = index.as_query_engine(streaming=True).query("What do otters do?")
    text = "".join(response.response_gen)  # type: ignore[attr-defined]
    assert text
    del response
    gc.collect()
    finished = one_trace(traced)
    assert {s.attributes[semconv.SESSION_ID] for s in finished} == {"streamed"}
    assert {"RetrieverQueryEngine.query", "MockLLM.stream_complete"} <= {s.name for s in finished}
    assert all(s.end_time is not None for s in finished)
    stream = traced.one("MockLLM.stream_complete")
    assert kind(stream) == "llm"
    assert stream.attributes[semconv.GEN_AI_REQUEST_STREAM] is True


def test_error_in_a_retriever(traced: Spans, mock_models: None) -> None:
    class BrokenRetriever(BaseRetriever):
        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            raise ConnectionError("vector store unreachable")

    from llama_index.core.query_engine import RetrieverQueryEngine

    engine = RetrieverQueryEngine.from_args(BrokenRetriever())
    with pytest.raises(ConnectionError, match="unreachable"), using_attributes(session_id="err"):
        engine.query("anything")
    assert {s.attributes[semconv.SESSION_ID] for s in one_trace(traced)} == {"err"}
    for name in ("BrokenRetriever.retrieve", "RetrieverQueryEngine.query"):
        span = traced.one(name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes[semconv.ERROR_TYPE] == "ConnectionError"
        assert len([e for e in span.events if e.name == "exception"]) == 1


def test_tool_call(traced: Spans) -> None:
    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    tool = FunctionTool.from_defaults(fn=multiply)
    with using_attributes(session_id="tools"):
        assert tool.call(a=6, b=7).raw_output == 42
    span = traced.one("multiply")
    assert kind(span) == "tool"
    assert span.attributes[semconv.GEN_AI_TOOL_NAME] == "multiply"
    assert span.attributes[semconv.SESSION_ID] == "tools"


def test_agent_with_a_tool(traced: Spans, openai_server: OpenAIServer) -> None:
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.llms.openai import OpenAI

    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    llm = OpenAI(model="gpt-4.1-nano", api_key=API_KEY, api_base=openai_server.url, max_retries=0)
    agent = FunctionAgent(tools=[get_weather], llm=llm)

    async def main() -> Any:
        with using_attributes(session_id="agent"):
            return await agent.run("weather in SF?")

    result = asyncio.run(main())
    assert "sunny" in str(result).lower()
    finished = traced.all()
    tool = traced.one("get_weather")
    assert kind(tool) == "tool"
    assert [s for s in finished if kind(s) == "agent"]
    assert {s.attributes.get(semconv.SESSION_ID) for s in finished} == {"agent"}
    provider_calls = [s for s in finished if s.name == "chat gpt-4.1-nano"]
    assert len(provider_calls) == 2
    # The agent streams its model calls: each is one llm span, the provider's, ended with its
    # stream; LlamaIndex's own span around each is a plain span.
    assert sorted(s.name for s in finished if kind(s) == "llm") == ["chat gpt-4.1-nano"] * 2
    assert all(s.attributes[semconv.GEN_AI_REQUEST_STREAM] is True for s in provider_calls)
    streams = [s for s in finished if s.name == "OpenAI.astream_chat"]
    assert sorted(parent_of(s) for s in provider_calls) == sorted(span_id(s) for s in streams)
    assert all(s.end_time is not None for s in finished)


def test_uninstrument_removes_the_handlers(spans: Spans, mock_models: None) -> None:
    from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]

    before = (len(get_dispatcher().span_handlers), len(get_dispatcher().event_handlers))
    traceroot.instrument(integrations=["llama_index"])
    traceroot.instrument(integrations=["llama_index"])
    assert len(get_dispatcher().span_handlers) == before[0] + 1
    traceroot.uninstrument()
    assert (len(get_dispatcher().span_handlers), len(get_dispatcher().event_handlers)) == before
    VectorStoreIndex.from_documents(DOCUMENTS)
    assert spans.all() == []


def test_a_read_out_stream_does_not_adopt_the_next_query(traced: Spans, mock_models: None) -> None:
    index = VectorStoreIndex.from_documents(DOCUMENTS)
    streamed = index.as_query_engine(streaming=True).query("first")
    "".join(streamed.response_gen)  # type: ignore[attr-defined]
    first = {s.context.trace_id for s in traced.all() if s.context is not None}
    traced.clear()
    index.as_query_engine().query("second")  # `streamed` is still referenced
    second = one_trace(traced)
    assert trace_id(second[0]) not in first
    assert traced.one("RetrieverQueryEngine.query").parent is None


def test_content_switch(traced: Spans, mock_models: None, settings_override: Any) -> None:
    settings_override(capture_content=False)
    index = VectorStoreIndex.from_documents(DOCUMENTS)
    index.as_query_engine().query("What do otters do?")
    traced.assert_no_content()
    assert (
        traced.one("VectorIndexRetriever.retrieve").attributes[semconv.RETRIEVAL_DOCUMENT_COUNT]
        >= 1
    )
