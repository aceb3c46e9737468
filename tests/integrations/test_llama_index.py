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
from llama_index.core.prompts import PromptTemplate
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.tools import FunctionTool
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import traceroot
from traceroot import observe, semconv, using_attributes

from ..conftest import Spans, parent_of, span_id, trace_id
from .conftest import API_KEY
from .openai_server import OpenAIServer, chat_reply, embedding_reply

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


def content(span: ReadableSpan, key: str) -> Any:
    """A recorded input or output: JSON, or a string as it is (stored either way: quoted JSON
    or plain text)."""
    value = str(span.attributes[key])
    return json.loads(value) if value[:1] in '"[{' else value


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
    assert content(retrieve, semconv.SPAN_INPUT) == "What do otters do?"
    assert content(root, semconv.SPAN_INPUT) == "What do otters do?"
    assert content(root, semconv.SPAN_OUTPUT) == str(response)
    nodes = content(retrieve, semconv.SPAN_OUTPUT)
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


@pytest.fixture
def openai_models(openai_server: OpenAIServer, mock_models: None) -> OpenAIServer:
    """LlamaIndex's OpenAI LLM and embeddings as the global models, on the local server."""
    from llama_index.embeddings.openai import OpenAIEmbedding
    from llama_index.llms.openai import OpenAI

    Settings.llm = OpenAI(
        model="gpt-4o-mini", api_key=API_KEY, api_base=openai_server.url, max_retries=0
    )
    Settings.embed_model = OpenAIEmbedding(
        api_key=API_KEY, api_base=openai_server.url, max_retries=0
    )
    return openai_server


def test_openai_llm_and_embeddings_nest_and_count_usage_once(
    traced: Spans, openai_models: OpenAIServer
) -> None:
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


def test_query_synthesize_and_predict_spans_show_their_inputs_and_outputs(
    traced: Spans, openai_models: OpenAIServer
) -> None:
    index = VectorStoreIndex.from_documents(DOCUMENTS)
    traced.clear()
    openai_models.requests.clear()
    question = "Where is Paris?"

    response = index.as_query_engine().query(question)

    (chat,) = [r for r in openai_models.requests if r.path.endswith("/chat/completions")]
    reply = chat_reply(chat.body)[0]["content"]
    assert str(response) == reply
    one_trace(traced)
    query = traced.one("RetrieverQueryEngine.query")
    assert content(query, semconv.SPAN_INPUT) == question
    assert content(query, semconv.SPAN_OUTPUT) == reply

    retrieved = content(traced.one("VectorIndexRetriever.retrieve"), semconv.SPAN_OUTPUT)
    assert {node["text"] for node in retrieved} >= {"Paris is the capital of France."}
    synthesize = traced.one("CompactAndRefine.synthesize")
    assert parent_of(synthesize) == span_id(query)
    assert content(synthesize, semconv.SPAN_INPUT) == {"query": question, "nodes": retrieved}
    assert content(synthesize, semconv.SPAN_OUTPUT) == {
        "response": reply,
        "source_ids": [node["id"] for node in retrieved],
    }

    get_response = traced.one("CompactAndRefine.get_response")
    assert parent_of(get_response) == span_id(synthesize)
    assert content(get_response, semconv.SPAN_INPUT) == {
        "query_str": question,
        "text_chunks": [node["text"] for node in retrieved],
    }
    assert content(get_response, semconv.SPAN_OUTPUT) == reply

    # The template, and its variables: the question (held by the refine step's template) and the
    # retrieved context, as sent to the model.
    predict = traced.one("OpenAI.predict")
    assert parent_of(predict) == span_id(get_response)
    inputs = content(predict, semconv.SPAN_INPUT)
    assert set(inputs) == {"prompt", "context_str", "query_str"}
    assert "{context_str}" in inputs["prompt"]
    assert "{query_str}" in inputs["prompt"]
    assert inputs["query_str"] == question
    sent = [m["content"] for m in chat.body["messages"] if m["role"] == "user"]
    assert inputs["context_str"] in sent[-1]
    assert content(predict, semconv.SPAN_OUTPUT) == reply


def test_embedding_usage_is_the_servers_on_one_span_per_call(
    traced: Spans, openai_models: OpenAIServer
) -> None:
    index = VectorStoreIndex.from_documents(DOCUMENTS)
    index.as_query_engine().query("Where is Paris?")

    finished = traced.all()
    embedding_calls = [r for r in openai_models.requests if r.path.endswith("/embeddings")]
    assert len(embedding_calls) == 2  # the index build, the question
    reported = [embedding_reply(r.body)["usage"]["prompt_tokens"] for r in embedding_calls]
    provider_spans = traced.named("embeddings text-embedding-ada-002")
    assert [s.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] for s in provider_spans] == reported
    # One usage-carrying llm span per model call: the provider's. LlamaIndex's own spans around
    # them are plain spans without usage (the backend would count them again, or estimate).
    carriers = [s for s in finished if semconv.GEN_AI_USAGE_INPUT_TOKENS in s.attributes]
    assert len(carriers) == len(openai_models.requests)
    assert [s for s in finished if kind(s) == "llm"] == carriers
    for name in ("OpenAIEmbedding.get_text_embedding_batch", "OpenAIEmbedding.get_query_embedding"):
        assert kind(traced.one(name)) == "span"


def test_without_the_openai_integration_llama_index_spans_are_the_llm_spans(
    spans: Spans, openai_models: OpenAIServer
) -> None:
    traceroot.instrument(integrations=["llama_index"])
    try:
        VectorStoreIndex.from_documents(DOCUMENTS).as_query_engine().query("Where is Paris?")
    finally:
        traceroot.uninstrument()
    llm_spans = [s for s in spans.all() if kind(s) == "llm"]
    assert len(llm_spans) == len(openai_models.requests) == 3
    chat = spans.one("OpenAI.chat")
    assert chat.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert chat.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    # LlamaIndex's embedding classes keep only the vectors of the reply: its usage never reaches
    # LlamaIndex's telemetry, so only the OpenAI integration can record it.
    for name in ("OpenAIEmbedding.get_text_embedding_batch", "OpenAIEmbedding.get_query_embedding"):
        assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in spans.one(name).attributes


def test_long_inputs_and_outputs_are_bounded(traced: Spans) -> None:
    class ManyRetriever(BaseRetriever):
        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            return [
                # texts of their own: LlamaIndex before 0.14.19 returns one of equal texts
                NodeWithScore(
                    node=TextNode(text="x" * 4_998 + f"{i:02}", id_=f"n{i}"), score=1 - i / 100
                )
                for i in range(30)
            ]

    ManyRetriever().retrieve(QueryBundle("q" * 3_000))
    span = traced.one("ManyRetriever.retrieve")
    assert content(span, semconv.SPAN_INPUT) == "q" * 3_000  # a value of its own: whole
    nodes = content(span, semconv.SPAN_OUTPUT)
    assert len(nodes) == 21
    share = 32 * 1024 * 3 // 4 // 20  # of the default attribute budget, for 20 texts
    text = "x" * share + f"... ({5_000 - share} more characters)"
    assert nodes[0] == {"id": "n0", "score": 1.0, "text": text}
    assert nodes[-1] == "... 10 more"

    # A long template variable is cut to its share: the question next to it still shows.
    template = PromptTemplate("{context_str}\nQuestion: {query_str}")
    MockLLM(max_tokens=4).predict(template, context_str="c" * 100_000, query_str="Why?")
    inputs = content(traced.one("MockLLM.predict"), semconv.SPAN_INPUT)
    assert inputs["prompt"] == "{context_str}\nQuestion: {query_str}"
    assert inputs["query_str"] == "Why?"
    assert inputs["context_str"].endswith("more characters)")


def test_an_error_showing_a_value_costs_only_that_value(
    traced: Spans, mock_models: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceroot.integrations.llama_index import values

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug in traceroot")

    monkeypatch.setenv("TRACEROOT_STRICT", "0")
    monkeypatch.setattr(values, "arguments", broken)
    monkeypatch.setattr(values, "result", broken)
    index = VectorStoreIndex.from_documents(DOCUMENTS)
    traced.clear()
    response = index.as_query_engine().query("What do otters do?")
    assert str(response)
    finished = one_trace(traced)
    root = traced.one("RetrieverQueryEngine.query")
    assert parent_of(traced.one("VectorIndexRetriever.retrieve")) == span_id(root)
    assert parent_of(traced.one("CompactAndRefine.synthesize")) == span_id(root)
    assert not [s.name for s in finished if semconv.SPAN_OUTPUT in s.attributes]


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
    assert content(span, semconv.SPAN_INPUT) == {"a": 6, "b": 7}
    assert content(span, semconv.SPAN_OUTPUT) == "42"  # the tool output's content
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
    run = next(s for s in finished if kind(s) == "agent")
    assert content(run, semconv.SPAN_INPUT)["start_event"]["user_msg"] == "weather in SF?"
    assert content(run, semconv.SPAN_OUTPUT).strip() == "It is sunny in San Francisco."
    called = content(tool, semconv.SPAN_INPUT), content(tool, semconv.SPAN_OUTPUT)
    assert called == ({"city": "San Francisco"}, "sunny in San Francisco")
    # Workflow steps: their event by its fields, the workflow context by its type name only.
    steps = [content(s, semconv.SPAN_INPUT) for s in finished if s.name.endswith(".setup_agent")]
    assert steps
    assert steps[0]["ctx"] == "<Context>"
    assert steps[0]["ev"]["input"] == [{"role": "user", "content": "weather in SF?"}]
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


def test_the_role_kept_per_class_is_the_base_classes_answer(mock_models: None) -> None:
    from llama_index.core.tools import FunctionTool as Tool

    from traceroot.integrations.llama_index import convert

    index = VectorStoreIndex.from_documents(DOCUMENTS)
    objects = [
        Settings.llm,
        Settings.embed_model,
        index.as_retriever(),
        Tool.from_defaults(fn=lambda x: x, name="echo"),
        index.as_query_engine(),
        "text",
        None,
    ]
    expected = [convert.Role.LLM, convert.Role.EMBEDDING, convert.Role.RETRIEVER]
    expected += [convert.Role.TOOL, convert.Role.OTHER, convert.Role.OTHER, convert.Role.OTHER]
    for instance, role in zip(objects, expected, strict=True):
        assert convert.classify(instance) is role
        assert convert.role(instance) is role  # first ask: from the base classes
        assert convert.role(instance) is role  # then: kept for the class


def test_events_without_a_reader_add_nothing(traced: Spans, mock_models: None) -> None:
    """The events passed over by name are the ones that add no attributes: a query's spans carry
    the attributes of every event that has a reader, and only those."""
    from traceroot.integrations.llama_index import convert, handlers

    seen: list[str] = []
    original = handlers.tracker.event

    def spy(event: Any) -> None:
        seen.append(type(event).__name__)
        original(event)

    handlers.tracker.event = spy  # type: ignore[method-assign]
    try:
        VectorStoreIndex.from_documents(DOCUMENTS).as_query_engine().query("What do otters do?")
    finally:
        del handlers.tracker.event
    read = {kind for kind in seen if kind in convert.EVENT_READERS}
    assert read == {
        "EmbeddingEndEvent",
        "RetrievalEndEvent",
        "LLMCompletionStartEvent",
        "LLMCompletionEndEvent",
    }
    assert "QueryStartEvent" in seen
    assert "SynthesizeEndEvent" in seen
    complete = traced.one("MockLLM.complete")
    assert semconv.GEN_AI_INPUT_MESSAGES in complete.attributes
    assert semconv.GEN_AI_OUTPUT_MESSAGES in complete.attributes
    assert (
        traced.one("VectorIndexRetriever.retrieve").attributes[semconv.RETRIEVAL_DOCUMENT_COUNT]
        == 2
    )
