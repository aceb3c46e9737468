"""Real LangChain and LangGraph objects: fake chat models, and ChatOpenAI on the local server."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest
from langchain_core.callbacks.base import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableParallel
from langchain_core.tools import tool
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode
from packaging.version import Version

import traceroot
from traceroot import observe, semconv, using_attributes

from ..conftest import Spans, parent_of, run_script, span_id, trace_id
from .conftest import API_KEY
from .openai_server import OpenAIServer

USAGE = {"input_tokens": 9, "output_tokens": 4, "total_tokens": 13}


@pytest.fixture
def traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["langchain", "openai"])
    yield spans
    traceroot.uninstrument()


def fake_model(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(
        messages=iter([AIMessage(content=reply, usage_metadata=USAGE) for reply in replies])  # type: ignore[arg-type]
    )


def chat_openai(server: OpenAIServer, model: str = "gpt-test") -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=model, api_key=API_KEY, base_url=server.url, max_retries=0)  # type: ignore[arg-type]


def kind(span: ReadableSpan) -> str:
    return str(span.attributes[semconv.SPAN_TYPE])


def one_trace(spans: Spans) -> list[ReadableSpan]:
    finished = spans.all()
    assert len({trace_id(s) for s in finished}) == 1, [(s.name, trace_id(s)) for s in finished]
    return finished


def with_usage(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if semconv.GEN_AI_USAGE_INPUT_TOKENS in s.attributes]


def test_lcel_chain_with_fake_model(traced: Spans) -> None:
    chain = (
        ChatPromptTemplate.from_messages([("user", "tell me about {topic}")])
        | fake_model("a reply")
        | StrOutputParser()
    )
    with using_attributes(session_id="lcel-s", user_id="ada"):
        assert chain.invoke({"topic": "otters"}) == "a reply"
    finished = one_trace(traced)
    root = traced.one("RunnableSequence")
    prompt, model, parser = (
        traced.one("ChatPromptTemplate"),
        traced.one("GenericFakeChatModel"),
        traced.one("StrOutputParser"),
    )
    assert root.parent is None
    assert {parent_of(s) for s in (prompt, model, parser)} == {span_id(root)}
    assert (kind(root), kind(prompt), kind(model), kind(parser)) == ("span", "span", "llm", "span")
    for span in finished:
        assert span.attributes[semconv.SESSION_ID] == "lcel-s"
        assert span.attributes[semconv.USER_ID] == "ada"
    assert with_usage(finished) == [model]
    a = model.attributes
    assert (a[semconv.GEN_AI_USAGE_INPUT_TOKENS], a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS]) == (9, 4)
    assert a[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert json.loads(a[semconv.GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "tell me about otters"}]}
    ]
    assert json.loads(a[semconv.GEN_AI_OUTPUT_MESSAGES])[0]["parts"] == [
        {"type": "text", "content": "a reply"}
    ]
    assert json.loads(root.attributes[semconv.SPAN_INPUT]) == {"topic": "otters"}
    assert root.attributes[semconv.SPAN_OUTPUT] == "a reply"  # a string as itself, as @observe
    # Values handed along the sequence read the same on both sides of each step.
    assert prompt.attributes[semconv.SPAN_INPUT] == root.attributes[semconv.SPAN_INPUT]
    assert prompt.attributes[semconv.SPAN_OUTPUT] == a[semconv.GEN_AI_INPUT_MESSAGES]
    assert (
        json.loads(parser.attributes[semconv.SPAN_INPUT])
        == json.loads(a[semconv.GEN_AI_OUTPUT_MESSAGES])[0]
    )
    assert parser.attributes[semconv.SPAN_OUTPUT] == root.attributes[semconv.SPAN_OUTPUT]


def test_a_redact_hook_sees_every_value_handed_along_a_sequence(
    traced: Spans, settings_override: Any
) -> None:
    seen: list[Any] = []

    def redact(value: Any) -> Any:
        seen.append(value)
        return [{"masked": True}] if isinstance(value, list) else {"masked": True}

    settings_override(redact=redact)
    chain = (
        ChatPromptTemplate.from_messages([("user", "{q}")]) | fake_model("hi") | StrOutputParser()
    )
    chain.invoke({"q": "x"})
    # The parser's input (the model's reply) went through the hook itself, not reused from the
    # model's output list, whose redacted form says nothing of it.
    assert {"role": "assistant", "parts": [{"type": "text", "content": "hi"}]} in seen
    for span in traced.all():
        for key in (semconv.SPAN_INPUT, semconv.SPAN_OUTPUT, semconv.GEN_AI_OUTPUT_MESSAGES):
            if key in span.attributes:
                assert "masked" in span.attributes[key], (span.name, key)


def test_messages_over_the_budget_or_not_exportable_take_the_careful_path(
    traced: Spans, settings_override: Any
) -> None:
    settings_override(max_attribute_bytes=512)
    chain = (
        ChatPromptTemplate.from_messages([("user", "{q}")])
        | fake_model("ok", "ok")
        | StrOutputParser()
    )
    chain.invoke({"q": "long " * 200})
    prompt, model = traced.one("ChatPromptTemplate"), traced.one("GenericFakeChatModel")
    assert prompt.attributes[semconv.TRUNCATED] == (semconv.SPAN_OUTPUT,)
    assert json.loads(prompt.attributes[semconv.SPAN_OUTPUT])["truncated"] is True
    assert semconv.GEN_AI_INPUT_MESSAGES in model.attributes[semconv.TRUNCATED]
    traced.clear()
    chain.invoke({"q": "half a pair: \ud800"})  # a lone surrogate cannot be exported as is
    sent = traced.one("GenericFakeChatModel").attributes[semconv.GEN_AI_INPUT_MESSAGES]
    sent.encode("utf-8")
    assert json.loads(sent)[0]["role"] == "user"


def test_chat_openai_nests_the_provider_span_and_counts_usage_once(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | chat_openai(openai_server)

    @observe(type="agent")
    def ask() -> Any:
        return chain.invoke({"q": "hello there"})

    assert ask().content == "echo: hello there"
    finished = one_trace(traced)
    lc_model = traced.one("ChatOpenAI")
    provider = traced.one("chat gpt-test")
    assert parent_of(provider) == span_id(lc_model)
    assert parent_of(traced.one("RunnableSequence")) == span_id(traced.one("ask"))
    assert kind(lc_model) == "span"  # the provider span is this call's llm span
    assert kind(provider) == "llm"
    assert with_usage(finished) == [provider]
    assert [s for s in finished if kind(s) == "llm"] == [provider]


def test_chat_openai_reply_reaches_the_parser_with_its_finish_reason(
    traced: Spans, openai_server: OpenAIServer
) -> None:
    chain = (
        ChatPromptTemplate.from_messages([("user", "{q}")])
        | chat_openai(openai_server)
        | StrOutputParser()
    )
    assert chain.invoke({"q": "hi"}) == "echo: hi"
    provider = traced.one("chat gpt-test")
    handed = json.loads(traced.one("StrOutputParser").attributes[semconv.SPAN_INPUT])
    assert handed == {
        "role": "assistant",
        "parts": [{"type": "text", "content": "echo: hi"}],
        "finish_reason": "stop",
    }
    assert (
        json.loads(provider.attributes[semconv.GEN_AI_OUTPUT_MESSAGES])[0]["parts"]
        == (handed["parts"])
    )


def test_session_from_configurable_thread_id_and_using_attributes_wins(traced: Spans) -> None:
    chain = RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x * 2)
    assert (
        chain.invoke(1, config={"configurable": {"thread_id": "thread-7", "user_id": "u-7"}}) == 4
    )
    for span in traced.all():
        assert span.attributes[semconv.SESSION_ID] == "thread-7"
        assert span.attributes[semconv.USER_ID] == "u-7"
    traced.clear()
    with using_attributes(session_id="explicit"):
        chain.invoke(1, config={"metadata": {"session_id": "from-metadata"}})
    assert {s.attributes[semconv.SESSION_ID] for s in traced.all()} == {"explicit"}


def test_streaming_ends_spans_at_stream_end_and_on_early_close(traced: Spans) -> None:
    model = fake_model("one two three", "four five")
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | model | StrOutputParser()
    with using_attributes(session_id="stream-s"):
        assert "".join(chain.stream({"q": "x"})) == "one two three"
    finished = one_trace(traced)
    assert len(finished) == 4
    assert all(span.end_time is not None for span in finished)
    root, streamed = traced.one("RunnableSequence"), traced.one("GenericFakeChatModel")
    assert root.parent is None
    assert {parent_of(s) for s in finished if s is not root} == {span_id(root)}
    assert kind(streamed) == "llm"
    assert with_usage(finished) == []  # the fake model reports no usage when it streams
    assert {s.attributes[semconv.SESSION_ID] for s in finished} == {"stream-s"}
    traced.clear()
    stream = chain.stream({"q": "x"})
    next(stream)
    stream.close()
    finished = traced.all()
    assert {s.name for s in finished} >= {"RunnableSequence", "GenericFakeChatModel"}
    assert all(s.status.status_code is not StatusCode.ERROR for s in finished)


def test_streamed_chat_openai_counts_usage_once(traced: Spans, openai_server: OpenAIServer) -> None:
    model = chat_openai(openai_server).bind(stream_options={"include_usage": True})
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | model | StrOutputParser()
    with using_attributes(session_id="stream-openai"):
        assert "".join(chain.stream({"q": "hi"})).strip() == "echo: hi"
    finished = one_trace(traced)
    provider = traced.one("chat gpt-test")
    assert parent_of(provider) == span_id(traced.one("ChatOpenAI"))
    assert [s for s in finished if kind(s) == "llm"] == [provider]
    assert with_usage(finished) == [provider]
    assert {s.attributes[semconv.SESSION_ID] for s in finished} == {"stream-openai"}


def test_a_dropped_stream_still_ends_its_spans(traced: Spans) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | fake_model("a b c")
    stream = chain.stream({"q": "x"})
    next(stream)
    assert {s.name for s in traced.all()} <= {"ChatPromptTemplate"}  # the rest still open
    del stream
    gc.collect()
    finished = traced.all()
    assert {s.name for s in finished} == {
        "RunnableSequence",
        "ChatPromptTemplate",
        "GenericFakeChatModel",
    }
    assert len({trace_id(s) for s in finished}) == 1
    assert all(s.status.status_code is not StatusCode.ERROR for s in finished)


def test_parallel_branches_in_thread_pools_nest_and_keep_the_session(traced: Spans) -> None:
    @observe
    def lookup(source: str) -> str:
        return f"from {source}"

    branches = RunnableParallel(
        web=RunnableLambda(lambda q: lookup("web"), name="web"),
        docs=RunnableLambda(lambda q: lookup("docs"), name="docs"),
    )
    with using_attributes(session_id="parallel-s"):
        assert branches.invoke("q") == {"web": "from web", "docs": "from docs"}
    finished = one_trace(traced)
    for branch in ("web", "docs"):
        assert parent_of(traced.one(branch)) == span_id(traced.one("RunnableParallel<web,docs>"))
    lookups = traced.named("lookup")
    assert {parent_of(s) for s in lookups} == {span_id(traced.one(b)) for b in ("web", "docs")}
    assert {s.attributes[semconv.SESSION_ID] for s in finished} == {"parallel-s"}


@pytest.mark.skipif(
    sys.version_info < (3, 11) and Version(version("langchain-core")) < Version("1.4.8"),
    reason="langchain-core before 1.4.8 streams child runs in the caller's own task on Python "
    "3.10 and ends them in another: the run after an astream joins its trace (README)",
)
def test_astream_and_ainvoke(traced: Spans, caplog: pytest.LogCaptureFixture) -> None:
    chain = (
        ChatPromptTemplate.from_messages([("user", "{q}")])
        | fake_model("a b", "c")
        | StrOutputParser()
    )

    async def main() -> tuple[str, str]:
        streamed = "".join([chunk async for chunk in chain.astream({"q": "x"})])
        invoked = await chain.ainvoke({"q": "y"})
        return streamed, invoked

    assert asyncio.run(main()) == ("a b", "c")
    # runs that LangChain ends in another task than they started in leave no detach error
    assert not [r for r in caplog.records if "detach" in r.getMessage()]
    roots = traced.named("RunnableSequence")
    assert len(roots) == 2
    assert len({trace_id(s) for s in traced.all()}) == 2
    for model in traced.named("GenericFakeChatModel"):
        assert model.parent is not None
        assert model.parent.span_id in {span_id(r) for r in roots}


def test_batch_makes_one_trace_per_input(traced: Spans) -> None:
    double = RunnableLambda(lambda x: x * 2, name="double")
    with using_attributes(session_id="batch-s"):
        assert double.batch([1, 2, 3]) == [2, 4, 6]
    spans = traced.named("double")
    assert len(spans) == 3
    assert len({trace_id(s) for s in spans}) == 3
    assert all(s.parent is None and kind(s) == "span" for s in spans)
    assert {s.attributes[semconv.SESSION_ID] for s in spans} == {"batch-s"}


def test_observe_inside_a_lambda_nests_under_it(traced: Spans) -> None:
    @observe(type="tool")
    def helper(x: int) -> int:
        return x + 100

    chain = RunnableLambda(lambda x: helper(x), name="outer_step")
    assert chain.invoke(1) == 101
    assert parent_of(traced.one("helper")) == span_id(traced.one("outer_step"))


def test_chain_error_is_recorded_once_per_span_and_reraised(traced: Spans) -> None:
    class StepError(Exception):
        pass

    error = StepError("bad input")

    def explode(x: int) -> int:
        raise error

    chain = RunnableLambda(lambda x: x, name="first") | RunnableLambda(explode, name="explode")
    with pytest.raises(StepError) as raised:
        chain.invoke(1)
    assert raised.value is error
    for name in ("explode", "RunnableSequence"):
        span = traced.one(name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes[semconv.ERROR_TYPE] == "StepError"
        assert len([e for e in span.events if e.name == "exception"]) == 1
    assert traced.one("first").status.status_code is StatusCode.UNSET


def test_user_handlers_coexist_and_traceroot_is_added_once(traced: Spans) -> None:
    class Counting(BaseCallbackHandler):
        def __init__(self) -> None:
            self.starts = 0

        def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
            self.starts += 1

    mine = Counting()
    chain = RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x + 2)
    chain.invoke(1, config={"callbacks": [mine]})
    assert mine.starts == 3
    assert len(traced.all()) == 3


def test_content_switch(traced: Spans, settings_override: Any) -> None:
    settings_override(capture_content=False)
    chain = ChatPromptTemplate.from_messages([("user", "secret {q}")]) | fake_model("classified")
    chain.invoke({"q": "plans"})
    traced.assert_no_content()
    assert traced.one("GenericFakeChatModel").attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 4


def test_uninstrument_stops_spans_and_restores(spans: Spans) -> None:
    from langchain_core.runnables import config as runnable_config
    from langchain_core.tracers import context as tracer_context

    original = runnable_config._set_config_context
    hooks_before = list(tracer_context._configure_hooks)
    traceroot.instrument(integrations=["langchain"])
    assert runnable_config._set_config_context is not original
    assert len(tracer_context._configure_hooks) == len(hooks_before) + 1
    traceroot.uninstrument()
    assert runnable_config._set_config_context is original
    assert tracer_context._configure_hooks == hooks_before
    RunnableLambda(lambda x: x).invoke(1)
    assert spans.all() == []


# -- LangGraph -------------------------------------------------------------------------------------
def test_state_graph_with_sync_and_async_nodes(traced: Spans) -> None:
    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    class State(TypedDict):
        value: int

    @observe
    def compute(value: int) -> int:
        return value + 1

    def add_one(state: State) -> State:
        return {"value": compute(state["value"])}

    async def double(state: State) -> State:
        await asyncio.sleep(0)
        return {"value": state["value"] * 2}

    builder = StateGraph(State)
    builder.add_node("add_one", add_one)
    builder.add_node("double", double)
    builder.add_edge(START, "add_one")
    builder.add_edge("add_one", "double")
    builder.add_edge("double", END)
    graph = builder.compile()

    async def main() -> Any:
        return await graph.ainvoke(
            {"value": 1}, config={"configurable": {"thread_id": "graph-thread"}}
        )

    assert asyncio.run(main()) == {"value": 4}
    finished = one_trace(traced)
    root = traced.one("LangGraph")
    assert kind(root) == "agent"
    for node in ("add_one", "double"):
        span = traced.one(node)
        assert parent_of(span) == span_id(root)
        assert span.attributes[semconv.LANGGRAPH_NODE] == node
    assert parent_of(traced.one("compute")) == span_id(traced.one("add_one"))
    assert {s.attributes[semconv.SESSION_ID] for s in finished} == {"graph-thread"}
    traced.clear()

    async def stream() -> list[list[str]]:
        return [list(chunk) async for chunk in graph.astream({"value": 2})]

    assert asyncio.run(stream()) == [["add_one"], ["double"]]
    assert {s.name for s in traced.all()} >= {"LangGraph", "add_one", "double"}
    assert all(s.end_time is not None for s in traced.all())


def test_create_agent_two_tool_rounds(traced: Spans, openai_server: OpenAIServer) -> None:
    @observe
    def lookup(city: str) -> str:
        return f"sunny in {city}"

    @tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return lookup(city)

    @tool
    def get_time(city: str) -> str:
        """Local time in a city."""
        return "noon"

    agent = create_agent(chat_openai(openai_server, "two-tools"), tools=[get_weather, get_time])
    with using_attributes(session_id="agent-session"):
        result = agent.invoke(
            {"messages": [{"role": "user", "content": "weather and time in SF?"}]}
        )
    assert result["messages"][-1].content == "Sunny, and it is noon."
    finished = one_trace(traced)
    root = next(s for s in finished if s.parent is None)
    assert kind(root) == "agent"
    assert {s.attributes[semconv.SESSION_ID] for s in finished} == {"agent-session"}
    weather, time_tool = traced.one("get_weather"), traced.one("get_time")
    for span, call_id, name in (
        (weather, "call_weather_1", "get_weather"),
        (time_tool, "call_time_1", "get_time"),
    ):
        assert kind(span) == "tool"
        assert span.attributes[semconv.GEN_AI_TOOL_NAME] == name
        assert span.attributes[semconv.GEN_AI_TOOL_CALL_ID] == call_id
        assert json.loads(span.attributes[semconv.GEN_AI_TOOL_CALL_ARGUMENTS]) == {
            "city": "San Francisco"
        }
    assert (
        json.loads(weather.attributes[semconv.GEN_AI_TOOL_CALL_RESULT]) == "sunny in San Francisco"
    )
    assert parent_of(traced.one("lookup")) == span_id(weather)
    provider_calls = traced.named("chat two-tools")
    assert len(provider_calls) == 3
    assert sorted(with_usage(finished), key=lambda s: s.start_time or 0) == sorted(
        provider_calls, key=lambda s: s.start_time or 0
    )
    for call in provider_calls:
        assert kind(traced_span_by_id(finished, call.parent.span_id)) == "span"  # type: ignore[union-attr]


def create_agent(model: Any, tools: list[Any]) -> Any:
    """LangChain 1.x's agent; before it (langchain-core 0.3), LangGraph's prebuilt one, which
    ``create_agent`` replaced, raising a tool's error as ``create_agent`` does."""
    try:
        from langchain.agents import create_agent as create
    except ImportError:
        from langgraph.prebuilt import ToolNode, create_react_agent

        return create_react_agent(model, tools=ToolNode(tools, handle_tool_errors=False))
    return create(model, tools=tools)


def traced_span_by_id(finished: list[ReadableSpan], wanted: int) -> ReadableSpan:
    return next(s for s in finished if span_id(s) == wanted)


def test_error_inside_a_tool(traced: Spans, openai_server: OpenAIServer) -> None:
    error = ValueError("weather service down")

    @tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        raise error

    agent = create_agent(chat_openai(openai_server, "tool-model"), tools=[get_weather])
    with pytest.raises(ValueError) as raised, using_attributes(session_id="tool-error-s"):
        agent.invoke({"messages": [{"role": "user", "content": "weather?"}]})
    assert raised.value is error
    finished = one_trace(traced)
    assert {s.attributes[semconv.SESSION_ID] for s in finished} == {"tool-error-s"}
    llm_calls = [s for s in finished if kind(s) == "llm"]
    assert llm_calls
    assert with_usage(finished) == llm_calls  # one usage-carrying span per model call
    failed = traced.one("get_weather")
    root = next(s for s in traced.all() if s.parent is None)
    for span in (failed, root):
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes[semconv.ERROR_TYPE] == "ValueError"
        assert len([e for e in span.events if e.name == "exception"]) == 1
    assert kind(failed) == "tool"


def test_interrupt_is_not_an_error(traced: Spans) -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Command, interrupt
    from typing_extensions import TypedDict

    class State(TypedDict):
        answer: str

    def ask_human(state: State) -> State:
        return {"answer": interrupt("approve?")}

    builder = StateGraph(State)
    builder.add_node("ask_human", ask_human)
    builder.add_edge(START, "ask_human")
    builder.add_edge("ask_human", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "interrupted"}}
    graph.invoke({"answer": ""}, config=config)  # type: ignore[arg-type]
    # paused at the node (invoke's result says so only from langgraph 0.4 on)
    assert graph.get_state(config).next == ("ask_human",)  # type: ignore[arg-type]
    finished = one_trace(traced)
    root = traced.one("LangGraph")
    assert kind(root) == "agent"
    paused = traced.one("ask_human")
    assert parent_of(paused) == span_id(root)
    assert {s.attributes[semconv.SESSION_ID] for s in finished} == {"interrupted"}
    assert paused.status.status_code is StatusCode.UNSET
    assert paused.attributes[semconv.CONTROL_FLOW] == "GraphInterrupt"
    assert all(s.status.status_code is StatusCode.UNSET for s in traced.all())
    traced.clear()
    assert graph.invoke(Command(resume="yes"), config=config) == {"answer": "yes"}  # type: ignore[arg-type]
    assert traced.one("ask_human").status.status_code is StatusCode.UNSET


def test_send_and_command_carry_messages_in_the_genai_shape(traced: Spans) -> None:
    from langchain_core.messages import AIMessage, HumanMessage
    from langgraph.graph import END, START, MessagesState, StateGraph
    from langgraph.types import Command, Send

    # Unannotated: LangGraph reads node annotations at run time, where this module's are strings.
    def plan(state):  # type: ignore[no-untyped-def]
        reply = AIMessage(content="", tool_calls=[{"name": "look", "args": {"q": "x"}, "id": "c1"}])
        return Command(update={"messages": [reply]}, goto="fan_out")

    def fan_out(state):  # type: ignore[no-untyped-def]
        return {"messages": []}

    def route(state):  # type: ignore[no-untyped-def]
        return [Send("work", {"messages": state["messages"]})]

    def work(state):  # type: ignore[no-untyped-def]
        return {"messages": [AIMessage(content="done")]}

    builder = StateGraph(MessagesState)
    builder.add_node("plan", plan)
    builder.add_node("fan_out", fan_out)
    builder.add_node("work", work)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("fan_out", route, ["work"])
    builder.add_edge("work", END)
    graph = builder.compile()
    graph.invoke({"messages": [HumanMessage(content="go")]})

    user = {"role": "user", "parts": [{"type": "text", "content": "go"}]}
    call = {"type": "tool_call", "id": "c1", "name": "look", "arguments": {"q": "x"}}
    planned = json.loads(traced.one("plan").attributes[semconv.SPAN_OUTPUT])
    assert planned["update"] == {"messages": [{"role": "assistant", "parts": [call]}]}
    assert planned["goto"] == "fan_out"
    assert set(planned) == {"graph", "update", "resume", "goto"}
    routed = json.loads(traced.one("route").attributes[semconv.SPAN_OUTPUT])
    assert routed == [
        {
            "node": "work",
            "arg": {"messages": [user, {"role": "assistant", "parts": [call]}]},
        }
    ]


def test_retriever_span(traced: Spans) -> None:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class Shelf(BaseRetriever):
        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[Document]:
            return [Document(page_content=f"about {query}", metadata={"source": "shelf"}, id="d1")]

    chain = Shelf() | RunnableLambda(lambda docs: len(docs), name="count")
    with using_attributes(session_id="rag"):
        assert chain.invoke("otters") == 1
    one_trace(traced)
    retriever = traced.one("Shelf")
    assert kind(retriever) == "span"
    assert retriever.attributes[semconv.GEN_AI_OPERATION_NAME] == "retrieval"
    assert json.loads(retriever.attributes[semconv.SPAN_INPUT]) == "otters"
    assert json.loads(retriever.attributes[semconv.SPAN_OUTPUT]) == [
        {"id": "d1", "content": "about otters", "metadata": {"source": "shelf"}}
    ]
    assert retriever.attributes[semconv.RETRIEVAL_DOCUMENT_COUNT] == 1
    assert retriever.attributes[semconv.SESSION_ID] == "rag"
    assert parent_of(retriever) == span_id(traced.one("RunnableSequence"))


def test_sampled_out_runs_end_quietly(tmp_path: Any) -> None:
    """A trace the sampler drops still runs every callback: none of them may fail on the
    non-recording span (a tool's end looks for its call id among the span's attributes)."""
    result = run_script(
        """
        import traceroot
        from langchain_core.tools import tool

        traceroot.instrument()

        @tool
        def weather(city: str) -> str:
            "Today's weather."
            return "sunny in " + city

        call = {"name": "weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
        for _ in range(3):
            assert weather.invoke(call).tool_call_id == "call_1"
        traceroot.flush()
        """,
        cwd=str(tmp_path),
        env={"TRACEROOT_SAMPLE_RATE": "0"},
    )
    assert result.returncode == 0, result.stderr
    assert "internal error" not in result.stderr, result.stderr
