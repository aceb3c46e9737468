"""``@observe`` agent and tool spans in the terms GenAI and OpenInference readers look for.

A backend that reads the OpenTelemetry GenAI conventions lists a span without
``gen_ai.operation.name`` as "unknown"; Phoenix reads OpenInference's kind and ``input.value``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

from traceroot import (
    observe,
    semconv,
    start_span,
    update_current_span,
    update_current_trace,
    using_attributes,
)

from .conftest import Spans, parent_of, span_id


@observe(type="tool")
def weather(city: str) -> str:
    return f"Sunny in {city}"


@observe(type="agent")
def assistant(question: str) -> str:
    return weather("Paris") + " today"


def test_agent_span_is_an_agent_invocation(spans: Spans) -> None:
    with using_attributes(session_id="chat-1", user_id="ada"):
        assistant("Weather in Paris?")
    agent = spans.one("assistant").attributes
    question = json.dumps({"question": "Weather in Paris?"}, separators=(",", ":"))
    assert {
        key: agent[key]
        for key in agent
        if key.startswith(("gen_ai.", "openinference.", "input.", "output."))
    } == {
        semconv.GEN_AI_OPERATION_NAME: "invoke_agent",
        semconv.GEN_AI_AGENT_NAME: "assistant",
        semconv.GEN_AI_CONVERSATION_ID: "chat-1",
        semconv.OPENINFERENCE_SPAN_KIND: "AGENT",
        semconv.OPENINFERENCE_INPUT_VALUE: question,
        semconv.OPENINFERENCE_INPUT_MIME_TYPE: "application/json",
        semconv.OPENINFERENCE_OUTPUT_VALUE: "Sunny in Paris today",  # text: no mime type
    }
    assert agent[semconv.SPAN_INPUT] == question
    assert agent[semconv.SESSION_ID] == "chat-1"


def test_tool_span_is_a_tool_execution(spans: Spans) -> None:
    with using_attributes(session_id="chat-1"):
        assistant("Weather in Paris?")
    agent, tool = spans.one("assistant"), spans.one("weather")
    assert parent_of(tool) == span_id(agent)
    attributes = tool.attributes
    assert {
        key: attributes[key]
        for key in attributes
        if key.startswith(("gen_ai.", "openinference.", "input.", "output."))
    } == {
        semconv.GEN_AI_OPERATION_NAME: "execute_tool",
        semconv.GEN_AI_TOOL_NAME: "weather",
        semconv.GEN_AI_TOOL_CALL_ARGUMENTS: '{"city":"Paris"}',
        semconv.GEN_AI_TOOL_CALL_RESULT: "Sunny in Paris",
        semconv.OPENINFERENCE_SPAN_KIND: "TOOL",
    }
    # A tool call has no conversation of its own in the conventions; its session is stamped.
    assert attributes[semconv.SESSION_ID] == "chat-1"


def test_operation_is_known_when_the_span_starts(spans: Spans) -> None:
    seen: dict[str, Any] = {}

    @observe(type="agent")
    def planner() -> None:
        from opentelemetry import trace

        seen.update(trace.get_current_span().attributes)  # type: ignore[attr-defined]

    planner()
    assert seen[semconv.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert seen[semconv.GEN_AI_AGENT_NAME] == "planner"
    assert seen[semconv.OPENINFERENCE_SPAN_KIND] == "AGENT"


def test_plain_and_llm_spans_get_none_of_it(spans: Spans) -> None:
    @observe
    def step() -> str:
        return "x"

    @observe(type="llm")
    def model() -> str:
        return "y"

    with using_attributes(session_id="s"):
        step()
        model()
    for name in ("step", "model"):
        attributes = spans.one(name).attributes
        for key in (
            semconv.GEN_AI_OPERATION_NAME,
            semconv.GEN_AI_CONVERSATION_ID,
            semconv.OPENINFERENCE_SPAN_KIND,
            semconv.OPENINFERENCE_INPUT_VALUE,
        ):
            assert key not in attributes, (name, key)


def test_session_set_midway_and_values_updated_inside_are_reflected(spans: Spans) -> None:
    @observe(type="agent")
    def handle(request: str) -> None:
        update_current_trace(session_id="decided-later")
        update_current_span(name="renamed-agent", input="the real question", output={"ok": True})

    handle("raw")
    attributes = spans.one("renamed-agent").attributes
    assert attributes[semconv.GEN_AI_CONVERSATION_ID] == "decided-later"
    assert attributes[semconv.GEN_AI_AGENT_NAME] == "renamed-agent"
    assert attributes[semconv.OPENINFERENCE_INPUT_VALUE] == "the real question"
    assert semconv.OPENINFERENCE_INPUT_MIME_TYPE not in attributes
    assert attributes[semconv.OPENINFERENCE_OUTPUT_VALUE] == '{"ok":true}'
    assert attributes[semconv.OPENINFERENCE_OUTPUT_MIME_TYPE] == "application/json"


def test_start_span_agent_and_async_and_generator_tools(spans: Spans) -> None:
    @observe(type="tool")
    async def fetch(url: str) -> dict[str, int]:
        await asyncio.sleep(0)
        return {"status": 200}

    @observe(type="tool")
    def pages(n: int) -> Iterator[str]:
        yield from ("a", "b")

    with start_span("session-agent", type="agent", input="hello") as span:
        asyncio.run(fetch("https://example.test"))
        list(pages(2))
        span.set_output("bye")

    agent = spans.one("session-agent").attributes
    assert agent[semconv.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert agent[semconv.OPENINFERENCE_INPUT_VALUE] == "hello"
    assert agent[semconv.OPENINFERENCE_OUTPUT_VALUE] == "bye"
    fetched = spans.one("fetch").attributes
    assert json.loads(fetched[semconv.GEN_AI_TOOL_CALL_RESULT]) == {"status": 200}
    paged = spans.one("pages").attributes
    assert paged[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"n":2}'
    assert paged[semconv.GEN_AI_TOOL_CALL_RESULT] == "ab"


def test_a_failed_tool_keeps_its_arguments_and_has_no_result(spans: Spans) -> None:
    @observe(type="tool")
    def flaky(x: int) -> int:
        raise ValueError("down")

    try:
        flaky(1)
    except ValueError:
        pass
    attributes = spans.one("flaky").attributes
    assert attributes[semconv.GEN_AI_OPERATION_NAME] == "execute_tool"
    assert attributes[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"x":1}'
    assert semconv.GEN_AI_TOOL_CALL_RESULT not in attributes
    assert attributes[semconv.ERROR_TYPE] == "ValueError"


def test_without_content_capture_only_the_kind_and_names_remain(
    spans: Spans, settings_override: Any
) -> None:
    settings_override(capture_content=False)
    with using_attributes(session_id="chat-2"):
        assistant("private question")
    spans.assert_no_content()
    agent, tool = spans.one("assistant").attributes, spans.one("weather").attributes
    assert agent[semconv.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert agent[semconv.GEN_AI_CONVERSATION_ID] == "chat-2"
    assert semconv.OPENINFERENCE_INPUT_MIME_TYPE not in agent
    assert tool[semconv.GEN_AI_TOOL_NAME] == "weather"


def test_names_are_exportable_like_the_span_name(spans: Spans) -> None:
    with start_span("agent-\ud800", type="agent"):
        pass
    attributes = spans.one("agent-\ufffd").attributes
    assert attributes[semconv.GEN_AI_AGENT_NAME] == "agent-\ufffd"
    for value in attributes.values():
        if isinstance(value, str):
            value.encode("utf-8")
