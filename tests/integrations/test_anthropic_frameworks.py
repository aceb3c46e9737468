"""LangChain's ``ChatAnthropic`` and LlamaIndex's Anthropic LLM over the Anthropic integration,
with traceroot's LangChain / LlamaIndex integrations on too: one usage-carrying span per call
(the Anthropic one), the framework's span enclosing it keeps the reply."""

from __future__ import annotations

import pytest

from ..conftest import required

anthropic = required("anthropic")

import json  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402

import traceroot  # noqa: E402
from traceroot import semconv  # noqa: E402

from ..conftest import Spans, parent_of, span_id, trace_id  # noqa: E402
from .anthropic_server import AnthropicServer  # noqa: E402
from .conftest import API_KEY  # noqa: E402


def _usage(span: ReadableSpan) -> dict[str, Any]:
    return {k: v for k, v in span.attributes.items() if k.startswith(semconv.GEN_AI_USAGE_PREFIX)}


def _reply(span: ReadableSpan) -> str:
    [message] = json.loads(span.attributes[semconv.GEN_AI_OUTPUT_MESSAGES])
    return "".join(p.get("content", "") for p in message["parts"] if p["type"] == "text")


def _one_call(spans: Spans, framework_name: str) -> tuple[ReadableSpan, ReadableSpan]:
    """The framework's span and the Anthropic span under it; only the latter carries usage."""
    provider = [s for s in spans.all() if s.name.startswith("chat ")]
    assert len(provider) == 1, [s.name for s in spans.all()]
    framework = spans.one(framework_name)
    assert parent_of(provider[0]) == span_id(framework)
    assert {trace_id(s) for s in spans.all()} == {trace_id(framework)}
    assert provider[0].attributes[semconv.SPAN_TYPE] == "llm"
    assert framework.attributes[semconv.SPAN_TYPE] == "span"
    assert [s for s in spans.all() if _usage(s)] == [provider[0]]
    assert _usage(provider[0])[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    return framework, provider[0]


@pytest.fixture
def langchain_traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["langchain", "anthropic"])
    yield spans
    traceroot.uninstrument()


@pytest.fixture
def llama_index_traced(spans: Spans) -> Iterator[Spans]:
    traceroot.instrument(integrations=["llama_index", "anthropic"])
    yield spans
    traceroot.uninstrument()


@pytest.mark.parametrize("streamed", [False, True])
def test_chat_anthropic(
    langchain_traced: Spans, anthropic_server: AnthropicServer, streamed: bool
) -> None:
    langchain_anthropic = pytest.importorskip("langchain_anthropic")
    chat = langchain_anthropic.ChatAnthropic(
        model="claude-test", api_key=API_KEY, base_url=anthropic_server.url, max_retries=0
    )
    with traceroot.using_attributes(session_id="lc-claude"):
        if streamed:
            text = "".join(chunk.text for chunk in chat.stream("hello there"))
        else:
            text = chat.invoke("hello there").content
    assert text == "echo: hello there"

    framework, provider = _one_call(langchain_traced, "ChatAnthropic")
    assert _reply(provider) == "echo: hello there"
    assert _reply(framework) == "echo: hello there"
    assert provider.attributes[semconv.GEN_AI_REQUEST_STREAM] is streamed
    assert {s.attributes[semconv.SESSION_ID] for s in langchain_traced.all()} == {"lc-claude"}
    # No span of the Anthropic SDK's own (2.x) beside traceroot's.
    assert all(s.instrumentation_scope.name == "traceroot" for s in langchain_traced.all())


def _llama_index_anthropic() -> Any:
    major = int(anthropic.__version__.split(".")[0])
    if major >= 2:
        # llama-index-llms-anthropic (0.12.x) builds message params the 2.x SDK no longer
        # accepts (TypeError: Cannot instantiate typing.Union), with or without traceroot.
        pytest.skip("llama-index-llms-anthropic does not run on anthropic 2.x")
    return pytest.importorskip("llama_index.llms.anthropic")


@pytest.mark.parametrize("streamed", [False, True])
def test_llama_index_anthropic(
    llama_index_traced: Spans, anthropic_server: AnthropicServer, streamed: bool
) -> None:
    llms = _llama_index_anthropic()
    from llama_index.core.llms import ChatMessage

    # LlamaIndex checks the model name against its table of context sizes.
    llm = llms.Anthropic(
        model="claude-sonnet-4-5", api_key=API_KEY, base_url=anthropic_server.url, max_retries=0
    )
    messages = [ChatMessage(role="user", content="hello there")]
    if streamed:
        text = "".join(chunk.delta or "" for chunk in llm.stream_chat(messages))
    else:
        text = str(llm.chat(messages).message.content)
    assert text == "echo: hello there"

    provider = [s for s in llama_index_traced.all() if s.name.startswith("chat ")]
    assert len(provider) == 1, [s.name for s in llama_index_traced.all()]
    assert provider[0].attributes[semconv.SPAN_TYPE] == "llm"
    assert _reply(provider[0]) == "echo: hello there"
    assert [s for s in llama_index_traced.all() if _usage(s)] == provider
    assert _usage(provider[0])[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    framework = [s for s in llama_index_traced.all() if s is not provider[0]]
    [framework] = [s for s in llama_index_traced.all() if s is not provider[0]]
    assert framework.name == ("Anthropic.stream_chat" if streamed else "Anthropic.chat")
    assert framework.attributes[semconv.SPAN_TYPE] == "span"
    assert parent_of(provider[0]) == span_id(framework)
    assert _reply(framework) == "echo: hello there"
