from __future__ import annotations

import json
from typing import Any

from opentelemetry import trace

import traceroot
from traceroot import (
    observe,
    semconv,
    start_span,
    update_current_span,
    update_current_trace,
    using_attributes,
)

from .conftest import Spans, trace_id

tracer = trace.get_tracer("a-third-party-library")


def test_update_current_span_fields(spans: Spans) -> None:
    @observe(type="llm", metadata={"a": 1})
    def call_model(prompt: str) -> str:
        update_current_span(
            name="custom-llm",
            input={"messages": [prompt]},
            prompt=[{"role": "user", "content": prompt}],
            model="my-model-v1",
            model_parameters={"temperature": 0.2, "max_tokens": 64, "stop": "END", "beam": 3},
            metadata={"b": 2},
        )
        update_current_span(
            output="reply", usage={"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        )
        return "ignored-because-update-set-it"

    call_model("hello")
    attributes = spans.one("custom-llm").attributes
    assert attributes[semconv.SPAN_TYPE] == "llm"
    assert json.loads(attributes[semconv.SPAN_INPUT]) == {"messages": ["hello"]}
    assert json.loads(attributes[semconv.LLM_PROMPT]) == [{"role": "user", "content": "hello"}]
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == "my-model-v1"
    assert attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert json.loads(attributes[semconv.LLM_MODEL_PARAMETERS])["beam"] == 3
    assert json.loads(attributes[semconv.SPAN_METADATA]) == {"a": 1, "b": 2}
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 11
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 7
    # The function's own return value is recorded when it ends; it wins over the earlier update.
    assert attributes[semconv.SPAN_OUTPUT] == "ignored-because-update-set-it"


def test_update_current_span_truncation_notes_join_the_spans(spans: Spans) -> None:
    @observe
    def call_model(text: str) -> None:
        update_current_span(model_parameters={"prompt_template": text})

    call_model("x" * 100_000)
    attributes = spans.one("call_model").attributes
    assert attributes[semconv.TRUNCATED] == (semconv.SPAN_INPUT, semconv.LLM_MODEL_PARAMETERS)
    assert json.loads(attributes[semconv.LLM_MODEL_PARAMETERS])["truncated"] is True


def test_update_current_span_outside_any_span_is_a_no_op(spans: Spans) -> None:
    update_current_span(output="nowhere", usage={"input_tokens": 1})
    update_current_trace(session_id="nowhere")
    assert spans.all() == []


def test_update_current_trace_midway_reaches_root_ancestors_and_later_spans(spans: Spans) -> None:
    @observe(type="agent")
    def root() -> None:
        with start_span("finished-before"):
            pass
        with start_span("middle"):
            with start_span("decider"):
                update_current_trace(
                    session_id="late-session", user_id="late-user", tags=["t1"], metadata={"m": 1}
                )
            update_current_trace(tags=["t2"], metadata={"n": 2})
            with tracer.start_as_current_span("later-plain-span"):
                pass
        with start_span("later-sibling"):
            pass

    with using_attributes(session_id="early-session"):
        root()
    for name in ("root", "middle", "decider", "later-plain-span", "later-sibling"):
        attributes = spans.one(name).attributes
        assert attributes[semconv.SESSION_ID] == "late-session", name
        assert attributes[semconv.USER_ID] == "late-user", name
    root_attributes = spans.one("root").attributes
    assert root_attributes[semconv.TRACE_TAGS] == ("t1", "t2")
    assert json.loads(root_attributes[semconv.TRACE_METADATA]) == {"m": 1, "n": 2}
    # A span that had already ended keeps what it had.
    assert spans.one("finished-before").attributes[semconv.SESSION_ID] == "early-session"


def test_update_current_trace_does_not_leak_into_the_next_trace(spans: Spans) -> None:
    @observe
    def first() -> None:
        update_current_trace(session_id="only-first")

    @observe
    def second() -> None:
        return None

    first()
    second()
    assert spans.one("first").attributes[semconv.SESSION_ID] == "only-first"
    assert semconv.SESSION_ID not in spans.one("second").attributes
    assert trace_id(spans.one("first")) != trace_id(spans.one("second"))


def test_current_ids(spans: Spans) -> None:
    seen: dict[str, Any] = {}

    @observe
    def inside() -> None:
        seen["trace"] = traceroot.get_current_trace_id()
        seen["span"] = traceroot.get_current_span_id()

    assert traceroot.get_current_trace_id() is None
    assert traceroot.get_current_span_id() is None
    inside()
    span = spans.one("inside")
    assert seen["trace"] == format(span.context.trace_id, "032x")
    assert seen["span"] == format(span.context.span_id, "016x")
