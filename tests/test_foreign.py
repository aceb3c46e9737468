"""Other tracers' spans, as traceroot exports them.

Spans written by another instrumentation in the OpenInference or the OpenTelemetry GenAI
conventions are typed at start by the context processor and read at export by
:class:`traceroot.foreign.ReadingExporter` (the ``spans`` fixture's exporter is wrapped by it), and
they take part in the one-llm-span-per-call protocol with traceroot's own model spans.

The attributes another tracer writes are spelled literally here, as that tracer spells them; what
traceroot writes is named through :mod:`traceroot.semconv`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, StatusCode

import traceroot
from traceroot import foreign, genai, semconv
from traceroot.model_calls import model_calls

from .conftest import Spans, parent_of, span_id, trace_id

other = trace.get_tracer("some.other.instrumentation")

# The traceroot attributes that hold JSON text: compared parsed, not as text.
_JSON_KEYS = (
    semconv.SPAN_INPUT,
    semconv.SPAN_OUTPUT,
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.LLM_MODEL_PARAMETERS,
)
_USAGE_PREFIXES = ("gen_ai.usage.", "llm.token_count.")


def shape(
    span: ReadableSpan, *, text: tuple[str, ...] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The span's plain attributes, and its JSON attributes parsed (those in ``text``, which an
    observed function's string output is, kept as the text they are)."""
    attributes = dict(span.attributes or {})
    parsed = {
        key: attributes.pop(key) if key in text else json.loads(attributes.pop(key))
        for key in _JSON_KEYS
        if key in attributes
    }
    return attributes, parsed


def usage_of(span: ReadableSpan) -> dict[str, Any]:
    return {
        key: value
        for key, value in (span.attributes or {}).items()
        if key.startswith(_USAGE_PREFIXES)
    }


def assert_enclosing_keeps_reply(span: ReadableSpan, reply: str) -> None:
    """An enclosing model span: a plain span without usage, the reply kept in both conventions."""
    assert span.attributes[semconv.SPAN_TYPE] == "span"
    assert usage_of(span) == {}
    assert span.attributes["llm.output_messages.0.message.content"] == reply
    assert json.loads(span.attributes[semconv.GEN_AI_OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": reply}]}
    ]


def assert_usage_carrier(span: ReadableSpan, prompt: int, completion: int) -> None:
    """The call's one `llm` span: OpenInference's counts kept, the GenAI ones added."""
    assert span.attributes[semconv.SPAN_TYPE] == "llm"
    assert usage_of(span) == {
        "llm.token_count.prompt": prompt,
        "llm.token_count.completion": completion,
        "gen_ai.usage.input_tokens": prompt,
        "gen_ai.usage.output_tokens": completion,
    }


def end_with(span: Span, attributes: Mapping[str, Any]) -> None:
    """End a foreign span the way instrumentations do: the response read, then one write."""
    span.set_attributes(dict(attributes))
    span.end()


def our_model_call(input_tokens: int, output_tokens: int) -> None:
    """traceroot's own model span ``chat m``, under the current span, finished as the
    integrations finish theirs: usage settled by the protocol, then set in one write."""
    span = genai.start_llm_span("chat", "m", provider="openai")
    attributes: dict[str, Any] = {}
    genai.set_usage(attributes, input_tokens=input_tokens, output_tokens=output_tokens)
    model_calls.settle(span, attributes)
    span.set_attributes(attributes)
    span.end()


# -- OpenInference --------------------------------------------------------------------------------
OI_LLM_END = {
    "llm.model_name": "gpt-4o-mini",
    "llm.provider": "openai",
    "llm.token_count.prompt": 120,
    "llm.token_count.completion": 30,
    "llm.token_count.prompt_details.cache_read": 100,
    "llm.token_count.completion_details.reasoning": 8,
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "Be brief.",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.contents.0.message_content.type": "text",
    "llm.input_messages.1.message.contents.0.message_content.text": "Weather in Paris?",
    "llm.input_messages.2.message.role": "assistant",
    "llm.input_messages.2.message.tool_calls.0.tool_call.id": "call_1",
    "llm.input_messages.2.message.tool_calls.0.tool_call.function.name": "weather",
    "llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments": '{"city": "Paris"}',
    "llm.input_messages.3.message.role": "tool",
    "llm.input_messages.3.message.tool_call_id": "call_1",
    "llm.input_messages.3.message.content": "18C",
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.content": "It is 18C in Paris.",
    "llm.invocation_parameters": '{"temperature": 0.2, "max_tokens": 64}',
    "input.value": '{"question": "Weather in Paris?"}',
    "input.mime_type": "application/json",
    "output.value": "It is 18C in Paris.",
}
OI_INPUT_MESSAGES = [
    {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
    {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
    {
        "role": "assistant",
        "parts": [
            {"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"city": "Paris"}}
        ],
    },
    {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "18C"}],
    },
]
OI_OUTPUT_MESSAGES = [
    {"role": "assistant", "parts": [{"type": "text", "content": "It is 18C in Paris."}]}
]


def test_openinference_llm_span_is_read_as_an_llm_span(spans: Spans) -> None:
    started = other.start_span(
        "ChatCompletion",
        kind=trace.SpanKind.CLIENT,
        attributes={"openinference.span.kind": "LLM"},
    )
    end_with(started, OI_LLM_END)

    span = spans.one("ChatCompletion")
    # read into a copy: the span the other tracer finished is left as it wrote it
    assert semconv.GEN_AI_REQUEST_MODEL not in (started.attributes or {})
    assert span.parent is None
    assert span.kind is trace.SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.context == started.get_span_context()
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "some.other.instrumentation"
    attributes, parsed = shape(span)
    assert attributes == {
        # what the other tracer wrote, all of it kept
        "openinference.span.kind": "LLM",
        **OI_LLM_END,
        # read from it
        semconv.SPAN_TYPE: "llm",
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 120,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 30,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 100,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 8,
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        semconv.GEN_AI_REQUEST_MAX_TOKENS: 64,
    }
    assert parsed == {
        semconv.SPAN_INPUT: {"question": "Weather in Paris?"},
        semconv.SPAN_OUTPUT: "It is 18C in Paris.",
        semconv.GEN_AI_INPUT_MESSAGES: OI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES: OI_OUTPUT_MESSAGES,
        semconv.LLM_MODEL_PARAMETERS: {"temperature": 0.2, "max_tokens": 64},
    }
    # ... and the original JSON text is kept as written
    assert span.attributes["llm.invocation_parameters"] == '{"temperature": 0.2, "max_tokens": 64}'


def test_openinference_cache_write_tokens_are_read_as_cache_creation(spans: Spans) -> None:
    started = other.start_span("claude", attributes={"openinference.span.kind": "LLM"})
    end_with(
        started,
        {
            "llm.system": "anthropic",
            "llm.model_name": "claude-x",
            "llm.token_count.prompt": 10,
            "llm.token_count.prompt_details.cache_write": 7,
        },
    )
    attributes, parsed = shape(spans.one("claude"))
    assert parsed == {}
    assert attributes == {
        "openinference.span.kind": "LLM",
        "llm.system": "anthropic",
        "llm.model_name": "claude-x",
        "llm.token_count.prompt": 10,
        "llm.token_count.prompt_details.cache_write": 7,
        semconv.SPAN_TYPE: "llm",
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_REQUEST_MODEL: "claude-x",
        semconv.GEN_AI_RESPONSE_MODEL: "claude-x",
        semconv.GEN_AI_PROVIDER_NAME: "anthropic",  # llm.system when llm.provider is absent
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 10,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 7,
    }


@pytest.mark.parametrize(
    ("oi_kind", "span_type", "operation"),
    [
        ("TOOL", "tool", "execute_tool"),
        ("AGENT", "agent", "invoke_agent"),
        ("CHAIN", "span", None),
        ("EMBEDDING", "llm", "embeddings"),
        ("RETRIEVER", "span", "retrieval"),
        ("RERANKER", "span", None),
    ],
)
def test_openinference_kinds_map_to_span_types_and_operations(
    spans: Spans, oi_kind: str, span_type: str, operation: str | None
) -> None:
    started = other.start_span(f"{oi_kind} step", attributes={"openinference.span.kind": oi_kind})
    started.end()
    attributes, parsed = shape(spans.one(f"{oi_kind} step"))
    expected: dict[str, Any] = {"openinference.span.kind": oi_kind, semconv.SPAN_TYPE: span_type}
    if operation is not None:
        expected[semconv.GEN_AI_OPERATION_NAME] = operation
    assert attributes == expected
    assert parsed == {}


def test_openinference_embedding_span_reads_its_model_and_usage(spans: Spans) -> None:
    started = other.start_span("embed", attributes={"openinference.span.kind": "EMBEDDING"})
    end_with(
        started, {"embedding.model_name": "text-embedding-3-small", "llm.token_count.prompt": 5}
    )
    attributes, _ = shape(spans.one("embed"))
    assert attributes == {
        "openinference.span.kind": "EMBEDDING",
        "embedding.model_name": "text-embedding-3-small",
        "llm.token_count.prompt": 5,
        semconv.SPAN_TYPE: "llm",
        semconv.GEN_AI_OPERATION_NAME: "embeddings",
        semconv.GEN_AI_REQUEST_MODEL: "text-embedding-3-small",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 5,
    }


def test_openinference_tool_span_reads_its_name_description_and_call_id(spans: Spans) -> None:
    started = other.start_span("weather", attributes={"openinference.span.kind": "TOOL"})
    end_with(
        started,
        {
            "tool.name": "weather",
            "tool.description": "Today's weather in a city",
            "tool_call.id": "call_1",
            "input.value": '{"city": "Paris"}',
            "input.mime_type": "application/json",
            "output.value": "18C",
        },
    )
    attributes, parsed = shape(spans.one("weather"))
    assert attributes == {
        "openinference.span.kind": "TOOL",
        "tool.name": "weather",
        "tool.description": "Today's weather in a city",
        "tool_call.id": "call_1",
        "input.value": '{"city": "Paris"}',
        "input.mime_type": "application/json",
        "output.value": "18C",
        semconv.SPAN_TYPE: "tool",
        semconv.GEN_AI_OPERATION_NAME: "execute_tool",
        semconv.GEN_AI_TOOL_NAME: "weather",
        semconv.GEN_AI_TOOL_DESCRIPTION: "Today's weather in a city",
        semconv.GEN_AI_TOOL_CALL_ID: "call_1",
    }
    assert parsed == {semconv.SPAN_INPUT: {"city": "Paris"}, semconv.SPAN_OUTPUT: "18C"}


def test_openinference_chain_loses_the_usage_it_sums_from_its_children(spans: Spans) -> None:
    started = other.start_span("RunnableSequence", attributes={"openinference.span.kind": "CHAIN"})
    end_with(
        started,
        {
            "llm.token_count.prompt": 10,
            "llm.token_count.completion": 5,
            "llm.token_count.total": 15,
            "output.value": "done",
        },
    )
    attributes, parsed = shape(spans.one("RunnableSequence"))
    assert attributes == {
        "openinference.span.kind": "CHAIN",
        "output.value": "done",
        semconv.SPAN_TYPE: "span",
    }
    assert parsed == {semconv.SPAN_OUTPUT: "done"}


# The reader should record a parameter or a count exactly as every other path does (genai's
# recording API, used by the integrations and update_current_span): one rule for what is kept.
def test_openinference_invocation_parameters_are_read_as_genai_records_them(
    spans: Spans,
) -> None:
    parameters = {"stop": ["\n", "END"], "temperature": 0, "seed": 3, "top_p": True}
    started = other.start_span("chat", attributes={"openinference.span.kind": "LLM"})
    end_with(started, {"llm.invocation_parameters": json.dumps(parameters)})
    recorded: dict[str, Any] = {}
    genai.set_model_parameters(recorded, parameters)
    attributes = spans.one("chat").attributes or {}
    read = {key: value for key, value in attributes.items() if key.startswith("gen_ai.request.")}
    assert read == recorded


def test_openinference_token_counts_are_read_as_genai_records_them(spans: Spans) -> None:
    started = other.start_span("chat", attributes={"openinference.span.kind": "LLM"})
    end_with(started, {"llm.token_count.prompt": 12.0, "llm.token_count.completion": 3})
    recorded: dict[str, Any] = {}
    genai.set_usage(recorded, input_tokens=12.0, output_tokens=3)
    attributes = spans.one("chat").attributes or {}
    read = {key: value for key, value in attributes.items() if key.startswith("gen_ai.usage.")}
    assert read == recorded == {"gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 3}


# -- OpenTelemetry GenAI --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operation", "span_type"),
    [
        ("chat", "llm"),
        ("text_completion", "llm"),
        ("generate_content", "llm"),
        ("embeddings", "llm"),
        ("execute_tool", "tool"),
        ("invoke_agent", "agent"),
        ("create_agent", "agent"),
        ("retrieval", "span"),
        ("summon_dragon", "span"),  # an operation a later version of the conventions might add
    ],
)
def test_genai_operations_map_to_span_types(spans: Spans, operation: str, span_type: str) -> None:
    started = other.start_span(
        f"{operation} x",
        kind=trace.SpanKind.CLIENT,
        attributes={"gen_ai.operation.name": operation, "gen_ai.provider.name": "openai"},
    )
    end_with(started, {"gen_ai.request.model": "x"})
    span = spans.one(f"{operation} x")
    assert span.kind is trace.SpanKind.CLIENT
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "x",
        semconv.SPAN_TYPE: span_type,
    }


@pytest.mark.parametrize(
    ("operation", "keeps_usage"),
    [("chat", True), ("execute_tool", False), ("invoke_agent", False), ("retrieval", False)],
)
def test_genai_usage_stays_only_on_llm_typed_spans(
    spans: Spans, operation: str, keeps_usage: bool
) -> None:
    started = other.start_span(operation, attributes={"gen_ai.operation.name": operation})
    end_with(started, {"gen_ai.usage.input_tokens": 9, "gen_ai.usage.output_tokens": 3})
    expected = {"gen_ai.usage.input_tokens": 9, "gen_ai.usage.output_tokens": 3}
    assert usage_of(spans.one(operation)) == (expected if keeps_usage else {})


def test_older_genai_system_span_is_an_llm_span_with_current_names(spans: Spans) -> None:
    started = other.start_span(
        "openai.chat", kind=trace.SpanKind.CLIENT, attributes={"gen_ai.system": "openai"}
    )
    end_with(
        started,
        {
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.prompt_tokens": 11,
            "gen_ai.usage.completion_tokens": 4,
            "gen_ai.usage.cache_write.input_tokens": 6,
        },
    )
    assert dict(spans.one("openai.chat").attributes or {}) == {
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.prompt_tokens": 11,
        "gen_ai.usage.completion_tokens": 4,
        "gen_ai.usage.cache_write.input_tokens": 6,
        semconv.SPAN_TYPE: "llm",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 11,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 4,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 6,
    }


def test_current_genai_names_win_over_older_ones(spans: Spans) -> None:
    started = other.start_span(
        "chat gpt-4o",
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "azure.ai.openai",
            "gen_ai.system": "openai",
        },
    )
    end_with(started, {"gen_ai.usage.input_tokens": 12, "gen_ai.usage.prompt_tokens": 99})
    attributes = spans.one("chat gpt-4o").attributes or {}
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12


def passed_through(span: ReadableSpan) -> ReadableSpan:
    """What a :class:`ReadingExporter` hands the exporter it wraps for ``span``."""
    received = InMemorySpanExporter()
    foreign.ReadingExporter(received).export([span])
    (handed,) = received.get_finished_spans()
    return handed


def test_span_without_genai_marker_is_exported_unchanged(spans: Spans) -> None:
    started = other.start_span(
        "GET",
        kind=trace.SpanKind.CLIENT,
        attributes={"http.request.method": "GET", "url.full": "https://example.com/"},
    )
    end_with(started, {"http.response.status_code": 200})
    span = spans.one("GET")
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.full": "https://example.com/",
        "http.response.status_code": 200,
    }
    assert foreign.read(span) is span  # not even copied
    assert passed_through(span) is span


def test_traceroot_spans_pass_through_the_reader_untouched(spans: Spans) -> None:
    our_model_call(1, 2)
    span = spans.one("chat m")
    assert foreign.read(span) is span
    assert passed_through(span) is span


def test_foreign_genai_span_is_read_into_a_copy(spans: Spans) -> None:
    started = other.start_span("chat x", attributes={"gen_ai.operation.name": "chat"})
    started.end()
    span = spans.one("chat x")
    read = foreign.read(span)
    assert read is not span
    assert read.context == span.context
    assert dict(read.attributes or {}) == dict(span.attributes or {})  # already read once


# -- One llm span per model call, across tracers --------------------------------------------------
def oi_llm_attributes(prompt: int, completion: int, reply: str) -> dict[str, Any]:
    return {
        "llm.model_name": "gpt-4o-mini",
        "llm.token_count.prompt": prompt,
        "llm.token_count.completion": completion,
        "gen_ai.usage.input_tokens": prompt,  # some tracers write both conventions
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": reply,
    }


def test_foreign_model_span_enclosing_a_foreign_model_span_is_a_plain_span(spans: Spans) -> None:
    with other.start_as_current_span(
        "framework chat", attributes={"openinference.span.kind": "LLM"}
    ) as outer:
        inner = other.start_span("provider chat", attributes={"openinference.span.kind": "LLM"})
        end_with(inner, oi_llm_attributes(20, 5, "hi"))
        outer.set_attributes(oi_llm_attributes(20, 5, "hi"))

    outer_span, inner_span = spans.one("framework chat"), spans.one("provider chat")
    assert parent_of(inner_span) == span_id(outer_span)
    assert outer_span.parent is None
    assert_enclosing_keeps_reply(outer_span, "hi")
    assert_usage_carrier(inner_span, 20, 5)


def test_foreign_model_span_enclosing_our_model_span_is_a_plain_span(spans: Spans) -> None:
    with other.start_as_current_span(
        "framework chat", attributes={"openinference.span.kind": "LLM"}
    ) as outer:
        our_model_call(20, 5)
        outer.set_attributes(oi_llm_attributes(20, 5, "hi"))

    outer_span, ours = spans.one("framework chat"), spans.one("chat m")
    assert parent_of(ours) == span_id(outer_span)
    assert_enclosing_keeps_reply(outer_span, "hi")
    assert dict(ours.attributes or {}) == {
        semconv.SPAN_TYPE: "llm",
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: "m",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 20,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
    }


def test_our_model_span_enclosing_a_foreign_one_through_other_spans_is_demoted(
    spans: Spans,
) -> None:
    ours = genai.start_llm_span("chat", "m", provider="openai")
    with (
        trace.use_span(ours, end_on_exit=False),
        traceroot.start_span("retry"),
        other.start_as_current_span("POST", attributes={"http.request.method": "POST"}),
    ):
        inner = other.start_span("provider chat", attributes={"openinference.span.kind": "LLM"})
        end_with(inner, oi_llm_attributes(20, 5, "hi"))
    attributes: dict[str, Any] = {}
    genai.set_usage(attributes, input_tokens=20, output_tokens=5)
    genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, [{"role": "assistant"}])
    assert model_calls.settle(ours, attributes) is True
    ours.set_attributes(attributes)
    ours.end()

    our_span, retry, post, provider = (
        spans.one("chat m"),
        spans.one("retry"),
        spans.one("POST"),
        spans.one("provider chat"),
    )
    assert our_span.parent is None
    assert parent_of(retry) == span_id(our_span)
    assert parent_of(post) == span_id(retry)
    assert parent_of(provider) == span_id(post)
    assert {trace_id(s) for s in (our_span, retry, post, provider)} == {trace_id(our_span)}
    our_attributes, parsed = shape(our_span)
    assert our_attributes == {
        semconv.SPAN_TYPE: "span",
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: "m",
    }
    assert parsed == {semconv.GEN_AI_OUTPUT_MESSAGES: [{"role": "assistant"}]}  # output stays
    assert retry.attributes[semconv.SPAN_TYPE] == "span"
    assert dict(post.attributes or {}) == {"http.request.method": "POST"}
    assert provider.attributes[semconv.SPAN_TYPE] == "llm"
    assert usage_of(provider)[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 20


def test_observed_llm_function_enclosing_a_foreign_model_span_is_demoted(spans: Spans) -> None:
    @traceroot.observe(type="llm")
    def call_model() -> str:
        inner = other.start_span("provider chat", attributes={"openinference.span.kind": "LLM"})
        end_with(inner, oi_llm_attributes(20, 5, "hi"))
        traceroot.update_current_span(usage={"input_tokens": 20, "output_tokens": 5})
        return "hi"

    call_model()
    outer, provider = spans.one("call_model"), spans.one("provider chat")
    assert parent_of(provider) == span_id(outer)
    assert provider.attributes[semconv.SPAN_TYPE] == "llm"
    assert usage_of(provider)[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 20
    outer_attributes, parsed = shape(outer, text=(semconv.SPAN_OUTPUT,))
    assert outer_attributes == {semconv.SPAN_TYPE: "span"}  # no usage: the provider span has it
    assert parsed == {semconv.SPAN_INPUT: {}, semconv.SPAN_OUTPUT: "hi"}


def test_observed_llm_function_under_a_foreign_model_span_carries_the_usage(
    spans: Spans,
) -> None:
    @traceroot.observe(type="llm")
    def call_model() -> str:
        traceroot.update_current_span(usage={"prompt_tokens": 20, "completion_tokens": 5})
        return "hi"

    with other.start_as_current_span(
        "framework chat", attributes={"openinference.span.kind": "LLM"}
    ) as outer:
        call_model()
        outer.set_attributes(oi_llm_attributes(20, 5, "hi"))

    framework, ours = spans.one("framework chat"), spans.one("call_model")
    assert parent_of(ours) == span_id(framework)
    assert framework.attributes[semconv.SPAN_TYPE] == "span"
    assert usage_of(framework) == {}
    ours_attributes, _ = shape(ours, text=(semconv.SPAN_OUTPUT,))
    assert ours_attributes == {
        semconv.SPAN_TYPE: "llm",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 20,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
    }


def test_sibling_model_calls_under_one_agent_each_stay_llm_spans(spans: Spans) -> None:
    with traceroot.start_span("agent", type="agent"):
        first = other.start_span("first chat", attributes={"openinference.span.kind": "LLM"})
        end_with(first, oi_llm_attributes(10, 1, "a"))
        our_model_call(11, 2)
        third = other.start_span("third chat", attributes={"gen_ai.operation.name": "chat"})
        end_with(third, {"gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 3})

    agent = spans.one("agent")
    calls = [spans.one("first chat"), spans.one("chat m"), spans.one("third chat")]
    assert agent.attributes[semconv.SPAN_TYPE] == "agent"
    assert usage_of(agent) == {}
    assert [parent_of(call) for call in calls] == [span_id(agent)] * 3
    assert [call.attributes[semconv.SPAN_TYPE] for call in calls] == ["llm"] * 3
    assert [
        (
            call.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS],
            call.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS],
        )
        for call in calls
    ] == [(10, 1), (11, 2), (12, 3)]


def test_session_reaches_every_span_of_the_trace_foreign_ones_included(spans: Spans) -> None:
    with (
        traceroot.using_attributes(session_id="chat-42", user_id="ada"),
        traceroot.start_span("agent", type="agent"),
        other.start_as_current_span("Agent", attributes={"openinference.span.kind": "AGENT"}),
    ):
        with other.start_as_current_span(
            "framework chat", attributes={"openinference.span.kind": "LLM"}
        ):
            our_model_call(3, 4)
        with other.start_as_current_span("GET", attributes={"http.request.method": "GET"}):
            pass
        with other.start_as_current_span(
            "execute_tool weather", attributes={"gen_ai.operation.name": "execute_tool"}
        ):
            pass

    exported = spans.all()
    assert sorted(span.name for span in exported) == sorted(
        ["agent", "Agent", "framework chat", "chat m", "GET", "execute_tool weather"]
    )
    assert len({trace_id(span) for span in exported}) == 1
    for span in exported:
        assert span.attributes[semconv.SESSION_ID] == "chat-42", span.name
        assert span.attributes[semconv.USER_ID] == "ada", span.name
    assert [span.name for span in exported if span.parent is None] == ["agent"]


# -- Content switched off -------------------------------------------------------------------------
def test_openinference_content_is_not_read_while_content_capture_is_off(
    spans: Spans, settings_override: Any
) -> None:
    settings_override(capture_content=False)
    started = other.start_span("ChatCompletion", attributes={"openinference.span.kind": "LLM"})
    end_with(started, OI_LLM_END)
    tool = other.start_span("weather", attributes={"openinference.span.kind": "TOOL"})
    end_with(tool, {"tool.name": "weather", "input.value": "Paris", "output.value": "18C"})

    for span in spans.all():  # traceroot's reader added none; the other tracer's are its own
        for key in (
            semconv.SPAN_INPUT,
            semconv.SPAN_OUTPUT,
            semconv.GEN_AI_INPUT_MESSAGES,
            semconv.GEN_AI_OUTPUT_MESSAGES,
            semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
            semconv.GEN_AI_TOOL_CALL_RESULT,
        ):
            assert key not in (span.attributes or {}), (span.name, key)
    attributes = dict(spans.one("ChatCompletion").attributes or {})
    # what is not content is still read
    assert attributes[semconv.SPAN_TYPE] == "llm"
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 120
    assert attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    # the other tracer's own attributes are its own to capture or not: left as it wrote them
    assert attributes["input.value"] == OI_LLM_END["input.value"]
    assert spans.one("weather").attributes[semconv.GEN_AI_TOOL_NAME] == "weather"


# -- A framework traceroot also traces ------------------------------------------------------------
@pytest.fixture
def langchain_covering() -> Iterator[None]:
    """Restore whether traceroot's LangChain integration counts as on."""
    was_covered = "langchain" in foreign._covered
    yield
    foreign.covering("langchain", was_covered)


def test_framework_instrumentation_model_span_is_plain_while_traceroot_covers_it(
    spans: Spans, langchain_covering: None
) -> None:
    langchain = trace.get_tracer("openinference.instrumentation.langchain")

    def chat_model(name: str) -> None:
        started = langchain.start_span(name, attributes={"openinference.span.kind": "LLM"})
        end_with(started, oi_llm_attributes(8, 2, "hi"))

    foreign.covering("langchain", True)
    chat_model("ChatOpenAI covered")
    foreign.covering("langchain", False)
    chat_model("ChatOpenAI uncovered")

    covered, uncovered = spans.one("ChatOpenAI covered"), spans.one("ChatOpenAI uncovered")
    assert_enclosing_keeps_reply(covered, "hi")
    assert_usage_carrier(uncovered, 8, 2)


def test_framework_rule_leaves_other_scopes_alone(spans: Spans, langchain_covering: None) -> None:
    foreign.covering("langchain", True)
    started = other.start_span("ChatOpenAI", attributes={"openinference.span.kind": "LLM"})
    end_with(started, oi_llm_attributes(8, 2, "hi"))
    assert spans.one("ChatOpenAI").attributes[semconv.SPAN_TYPE] == "llm"


# -- Robustness -----------------------------------------------------------------------------------
def test_malformed_openinference_span_is_still_exported_and_typed(spans: Spans) -> None:
    started = other.start_span("odd", attributes={"openinference.span.kind": "LLM"})
    malformed = {
        "llm.model_name": "m",
        "llm.invocation_parameters": "{not json",
        "llm.token_count.prompt": "12",  # a string, not a count
        "llm.token_count.completion": True,  # a bool, not a count
        "llm.input_messages.first.message.role": "user",  # index not a number
        "llm.input_messages.0.message.role": "assistant",
        "llm.input_messages.0.message.contents.x.message_content.text": "lost",
        "llm.input_messages.0.message.tool_calls.0.tool_call.id": "c1",
        "llm.input_messages.0.message.tool_calls.0.tool_call.function.name": "f",
        "llm.input_messages.0.message.tool_calls.0.tool_call.function.arguments": "{oops",
        "llm.input_messages.1": "no field",
        "llm.output_messages.0.message.content": "no role",
        "input.value": "{not json either",
        "input.mime_type": "application/json",
    }
    end_with(started, malformed)

    attributes, parsed = shape(spans.one("odd"))
    assert attributes == {
        "openinference.span.kind": "LLM",
        **malformed,
        semconv.SPAN_TYPE: "llm",
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_REQUEST_MODEL: "m",
        semconv.GEN_AI_RESPONSE_MODEL: "m",
    }
    assert parsed == {
        semconv.SPAN_INPUT: "{not json either",
        semconv.GEN_AI_INPUT_MESSAGES: [
            {
                "role": "assistant",
                "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": "{oops"}],
            }
        ],
        semconv.GEN_AI_OUTPUT_MESSAGES: [
            {"role": None, "parts": [{"type": "text", "content": "no role"}]}
        ],
    }


@pytest.mark.parametrize(
    "attributes",
    [
        {"llm.invocation_parameters": "[1, 2]"},  # JSON, not an object
        {"llm.invocation_parameters": '{"temperature": "hot", "max_tokens": null}'},
        {"llm.output_messages.0.message.tool_call_id": "c1"},  # a tool result with no text
        {"llm.output_messages.0.message.contents.0.message_content.type": "image"},
        {"output.value": "[]", "output.mime_type": "application/json"},
    ],
)
def test_unusual_openinference_values_never_fail_the_export(
    spans: Spans, attributes: dict[str, Any]
) -> None:
    started = other.start_span("odd", attributes={"openinference.span.kind": "LLM"})
    end_with(started, attributes)
    span = spans.one("odd")
    assert span.attributes[semconv.SPAN_TYPE] == "llm"
    assert attributes.items() <= dict(span.attributes or {}).items()
    for key in _JSON_KEYS:
        if key in span.attributes:
            json.loads(span.attributes[key])


def test_an_integration_reads_its_framework_scope_at_start_and_at_export(spans: Spans) -> None:
    """A framework's telemetry that names things its own way: the integration that switched it
    on registers readers for that tracer's scope; other tracers' spans are not touched."""
    framework = trace.get_tracer("some.framework.telemetry")
    started: list[str] = []

    def at_start(span: Any) -> None:
        started.append(span.name)
        span.set_attribute("framework.seen_at_start", True)

    def at_export(name: str, attributes: dict[str, Any]) -> str:
        attributes["openinference.span.kind"] = "AGENT"
        return f"agent {attributes.pop('framework.agent_name')}"

    foreign.read_scope("some.framework.telemetry", at_start=at_start, at_export=at_export)
    try:
        with framework.start_as_current_span("Agent.run") as span:
            span.set_attribute("framework.agent_name", "planner")
            with other.start_as_current_span("Agent.run"):
                pass
    finally:
        foreign.unread_scope("some.framework.telemetry")
    ours = next(s for s in spans.all() if s.instrumentation_scope.name.startswith("some.framework"))
    theirs = next(s for s in spans.all() if s is not ours)
    assert started == ["Agent.run"]
    assert ours.name == "agent planner"
    assert ours.attributes[semconv.SPAN_TYPE] == "agent"
    assert ours.attributes["framework.seen_at_start"] is True
    assert "framework.agent_name" not in ours.attributes
    assert theirs.name == "Agent.run"
    assert "framework.seen_at_start" not in (theirs.attributes or {})


def test_a_framework_scope_exports_each_exception_once(spans: Spans) -> None:
    """A framework that records a failure on its span, then lets it out of
    ``start_as_current_span``, which records it again: one exception event is exported. The
    same failure raised twice from one place (a retry) is two."""
    framework = trace.get_tracer("some.framework.telemetry")

    def fail(attempt: int) -> None:
        raise ValueError("no station" if attempt else "first")

    def tool() -> None:
        with framework.start_as_current_span("tool") as span:
            for attempt in range(3):
                try:
                    fail(attempt)
                except ValueError as error:
                    span.record_exception(error)
                    if attempt == 2:
                        raise

    foreign.read_scope("some.framework.telemetry", at_export=lambda name, attributes: name)
    try:
        with pytest.raises(ValueError):
            tool()
    finally:
        foreign.unread_scope("some.framework.telemetry")
    (failed,) = spans.all()
    assert failed.status.status_code is StatusCode.ERROR
    messages = [event.attributes["exception.message"] for event in failed.events]
    assert messages == ["first", "no station", "no station"]
    assert [event.name for event in failed.events] == ["exception"] * 3


def test_a_failing_scope_reader_loses_no_span(
    spans: Spans, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEROOT_STRICT", "0")  # contained and logged, as in an app
    framework = trace.get_tracer("some.framework.telemetry")

    def broken(name: str, attributes: dict[str, Any]) -> str:
        raise ValueError("reader bug")

    foreign.read_scope("some.framework.telemetry", at_export=broken)
    try:
        with framework.start_as_current_span("Agent.run"):
            pass
    finally:
        foreign.unread_scope("some.framework.telemetry")
    assert [span.name for span in spans.all()] == ["Agent.run"]
