"""Other tracers' spans beside traceroot's, in one process: sessions, Anthropic's own telemetry
under a LangChain model, and what ``traceroot show --verbose`` makes of foreign spans."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

import traceroot
from traceroot import semconv

from ..conftest import Spans, parent_of, run_python, run_script, span_id, trace_id
from ..integrations.anthropic_server import AnthropicServer
from ..integrations.conftest import API_KEY

_USAGE_PREFIXES = (semconv.GEN_AI_USAGE_PREFIX, semconv.OPENINFERENCE_TOKEN_COUNT_PREFIX)


def _usage(attributes: object) -> dict[str, object]:
    return {k: v for k, v in dict(attributes or {}).items() if k.startswith(_USAGE_PREFIXES)}  # type: ignore[call-overload]


def test_openinference_using_attributes_reaches_observe_spans(spans: Spans) -> None:
    from openinference.instrumentation import using_attributes as oi_using_attributes

    @traceroot.observe(type="agent")
    def answer() -> str:
        with traceroot.start_span("lookup", type="tool"):
            return "done"

    with oi_using_attributes(
        session_id="oi-chat", user_id="oi-user", tags=["oi"], metadata={"plan": "pro"}
    ):
        answer()
        with traceroot.using_attributes(tags=["ours"], metadata={"tier": 2}):
            answer()

    first, second = spans.named("answer")
    for span in spans.all():
        assert span.attributes[semconv.SESSION_ID] == "oi-chat"
        assert span.attributes[semconv.USER_ID] == "oi-user"
    assert first.attributes[semconv.SPAN_TAGS] == ("oi",)
    assert json.loads(first.attributes[semconv.SPAN_METADATA]) == {"plan": "pro"}
    # Both blocks at once: tags join, metadata merges.
    assert second.attributes[semconv.SPAN_TAGS] == ("oi", "ours")
    assert json.loads(second.attributes[semconv.SPAN_METADATA]) == {"plan": "pro", "tier": 2}


def test_observe_own_tags_and_metadata_join_openinference_ones(spans: Spans) -> None:
    from openinference.instrumentation import using_attributes as oi_using_attributes

    @traceroot.observe(tags=["own"], metadata={"own": 1})
    def tagged() -> None:
        return None

    with oi_using_attributes(session_id="oi-chat", tags=["oi"], metadata={"oi": "m"}):
        tagged()

    attributes = spans.one("tagged").attributes
    assert attributes[semconv.SESSION_ID] == "oi-chat"
    assert attributes[semconv.SPAN_TAGS] == ("oi", "own")
    assert json.loads(attributes[semconv.SPAN_METADATA]) == {"oi": "m", "own": 1}


@pytest.mark.usefixtures("langchain_traced")
def test_an_openinference_session_wins_over_a_runs_thread_id(spans: Spans) -> None:
    from langchain_core.runnables import RunnableLambda
    from openinference.instrumentation import using_attributes as oi_using_attributes

    @traceroot.observe(name="root")
    def root() -> object:
        return RunnableLambda(lambda x: x).invoke(1, {"configurable": {"thread_id": "lc-thread"}})

    with oi_using_attributes(session_id="oi-session"):
        root()

    assert {span.attributes[semconv.SESSION_ID] for span in spans.all()} == {"oi-session"}


@pytest.fixture
def langchain_traced() -> Iterator[None]:
    traceroot.instrument(integrations=["langchain", "openai"])
    yield
    traceroot.uninstrument()


@pytest.mark.usefixtures("langchain_traced")
@pytest.mark.parametrize("streamed", [False, True])
def test_chat_anthropic_over_anthropics_own_spans_keeps_the_reply_and_counts_usage_once(
    spans: Spans, anthropic_server: AnthropicServer, streamed: bool
) -> None:
    from langchain_anthropic import ChatAnthropic

    chat = ChatAnthropic(  # type: ignore[call-arg]
        model="claude-test", api_key=API_KEY, base_url=anthropic_server.url, max_retries=0
    )
    with traceroot.using_attributes(session_id="claude-chat"):
        if streamed:
            assert "".join(chunk.text for chunk in chat.stream("hello there")) == (
                "echo: hello there"
            )
        else:
            assert chat.invoke("hello there").content == "echo: hello there"

    framework = spans.one("ChatAnthropic")
    provider = spans.one("anthropic.messages.create")  # the Anthropic SDK's own span
    assert provider.instrumentation_scope is not None
    assert provider.instrumentation_scope.name == "com.anthropic.sdk.python"
    assert parent_of(provider) == span_id(framework)
    assert {trace_id(span) for span in spans.all()} == {trace_id(framework)}
    assert all(span.attributes[semconv.SESSION_ID] == "claude-chat" for span in spans.all())

    # The SDK's span is the call's llm span, with the usage (Anthropic counts cached input in
    # its input tokens: 7 + 2 read + 3 written), its cache write under the GenAI name.
    assert provider.attributes[semconv.SPAN_TYPE] == "llm"
    assert provider.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert provider.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert provider.attributes[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 3
    assert semconv.GEN_AI_OUTPUT_MESSAGES not in provider.attributes  # no content by default
    # LangChain's span encloses it: a plain span without usage that keeps the reply.
    assert framework.attributes[semconv.SPAN_TYPE] == "span"
    assert _usage(framework.attributes) == {}
    output = json.loads(framework.attributes[semconv.GEN_AI_OUTPUT_MESSAGES])
    assert output[0]["parts"][0]["content"] == "echo: hello there"
    assert [s for s in spans.all() if _usage(s.attributes)] == [provider]


def test_foreign_spans_are_typed_and_readable_in_traceroot_show(tmp_path: object) -> None:
    """OpenInference's OpenAI spans (it patched first, so its span is the innermost) and a tool
    and an agent span in the GenAI conventions, through the local store to the CLI."""
    store = os.path.join(str(tmp_path), "spans.db")
    env = {"TRACEROOT_EXPORTER": "local", "TRACEROOT_STORE_PATH": store}
    done = run_script(
        """
        import openai
        from openinference.instrumentation.openai import OpenAIInstrumentor
        from opentelemetry import trace
        import traceroot
        from tests.integrations.openai_server import start_openai_server

        info, server = start_openai_server()
        OpenAIInstrumentor().instrument()
        traceroot.instrument()
        tracer = trace.get_tracer("some.agent.framework")
        with traceroot.using_attributes(session_id="mixed"):
            with tracer.start_as_current_span(
                "invoke_agent planner", attributes={"gen_ai.operation.name": "invoke_agent"}
            ):
                client = openai.OpenAI(base_url=info.url, api_key="sk-test")
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}]
                )
                with tracer.start_as_current_span(
                    "execute_tool get_weather",
                    attributes={
                        "gen_ai.operation.name": "execute_tool",
                        "gen_ai.tool.name": "get_weather",
                    },
                ):
                    pass
        traceroot.flush()
        server.shutdown()
        """,
        env=env,
        cwd=os.getcwd(),
    )
    assert done.returncode == 0, done.stderr
    shown = run_python(["-m", "traceroot.cli", "traces", "--store", store], env=env)
    assert shown.returncode == 0, shown.stderr
    trace_line = shown.stdout.splitlines()[1]
    shown = run_python(
        ["-m", "traceroot.cli", "show", trace_line.split()[0], "--verbose", "--store", store],
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    lines = [line.strip() for line in shown.stdout.splitlines()]
    agent = next(line for line in lines if line.startswith("[agent] invoke_agent planner"))
    tool = next(line for line in lines if line.startswith("[tool] execute_tool get_weather"))
    llm = next(line for line in lines if line.startswith("[llm] ChatCompletion"))
    ours = next(line for line in lines if line.startswith("[span] chat gpt-4o-mini"))
    assert lines[0].endswith("session=mixed")
    assert "session=" not in agent  # the trace's session: a span shows only one that differs
    assert "session=" not in tool
    assert "model=gpt-4o-mini" in llm
    assert "tokens=7+3" in llm
    assert "tokens=" not in ours  # encloses OpenInference's span: no second count
    assert any("echo: hello there" in line for line in lines)  # the reply, as a chat line


def test_a_patch_that_bypasses_traceroots_is_reported() -> None:
    done = run_script(
        """
        import functools
        import traceroot
        traceroot.instrument(exporter="none")
        import openai

        original = openai.OpenAI.request.__wrapped__  # the client's own method, unpatched

        @functools.wraps(original)
        def request(self, *args, **kwargs):  # another instrumentation's, added later
            return original(self, *args, **kwargs)

        openai.OpenAI.request = request
        (status,) = [s for s in traceroot.integrations_status() if s.name == "openai"]
        print(status.state, status.detail, sep="|")
        """
    )
    assert done.returncode == 0, done.stderr
    state, detail = done.stdout.strip().splitlines()[-1].split("|")
    assert state == "bypassed"
    assert "openai.OpenAI.request" in detail


def test_doctor_lists_the_other_instrumentations_installed() -> None:
    done = run_python(["-m", "traceroot.cli", "doctor", "--json"])
    assert done.returncode == 0, done.stderr
    others = json.loads(done.stdout)["other_instrumentations"]
    assert {"name": "openai", "distribution": "openinference-instrumentation-openai"} in [
        {"name": item["name"], "distribution": item["distribution"]} for item in others
    ]


@pytest.mark.parametrize("langchain", ["on", "off"])
def test_openinference_langchain_spans_count_no_call_twice(langchain: str) -> None:
    """OpenInference's LangChain spans are typed only when they end and are never current: with
    traceroot's LangChain integration on they repeat its spans (plain spans here); with it off,
    the model span beside the provider call it made is not a second llm span either."""
    done = run_script(
        """
        import json
        from langchain_core.tools import tool
        from langchain_openai import ChatOpenAI
        from openinference.instrumentation.langchain import LangChainInstrumentor
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import traceroot
        from traceroot.foreign import ReadingExporter
        from tests.integrations.openai_server import start_openai_server

        info, server = start_openai_server()
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(ReadingExporter(exporter)))
        trace.set_tracer_provider(provider)
        traceroot.instrument(exporter="none")
        LangChainInstrumentor().instrument()

        @tool
        def get_weather(city: str) -> str:
            "The weather in a city."
            return "sunny"

        model = ChatOpenAI(base_url=info.url, api_key="sk-test", model="gpt-4o-mini")
        with traceroot.start_span("turn", type="agent"):
            model.invoke("hello there")
            get_weather.invoke({"city": "Paris"})
        for span in exporter.get_finished_spans():
            print(json.dumps([span.instrumentation_scope.name, span.name, dict(span.attributes)]))
        server.shutdown()
        """,
        env={"TRACEROOT_INSTRUMENT_LANGCHAIN": "true" if langchain == "on" else "false"},
        cwd=os.getcwd(),
    )
    assert done.returncode == 0, done.stderr
    spans = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]
    kinds = {
        (scope, name): attributes.get("traceroot.span.type") for scope, name, attributes in spans
    }
    with_usage = [(scope, name) for scope, name, attributes in spans if _usage(attributes)]
    assert with_usage == [("traceroot", "chat gpt-4o-mini")]
    assert kinds[("traceroot", "chat gpt-4o-mini")] == "llm"
    assert kinds[("openinference.instrumentation.langchain", "ChatOpenAI")] == "span"
    if langchain == "on":
        assert kinds[("traceroot", "get_weather")] == "tool"
        assert kinds[("openinference.instrumentation.langchain", "get_weather")] == "span"
    else:
        assert kinds[("openinference.instrumentation.langchain", "get_weather")] == "tool"
