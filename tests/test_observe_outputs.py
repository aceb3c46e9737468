"""Inputs and outputs as users wrote them: a string as itself, an object by its public fields.

The TraceRoot SDK stores a function's string result as the text it is, and the dashboard shows
what is stored: a JSON-quoted ``"plain answer"`` reads wrong there. An object without a JSON form
of its own reads best as its fields, not as its ``repr``.
"""

from __future__ import annotations

import json
import types
from typing import Any

import traceroot
from traceroot import observe, semconv, start_span, update_current_span
from traceroot.records import stored
from traceroot.render import details

from .conftest import Spans


class Answer:
    """A plain class: no JSON form, a default repr."""

    def __init__(self, text: str, sources: list[str]) -> None:
        self.text = text
        self.sources = sources
        self._cache: dict[str, Any] = {"private": True}


class Point:
    __slots__ = ("_hidden", "x", "y")

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y, self._hidden = x, y, "no"


class Slow:
    """An argument whose repr is user code and costly: never run on the call path."""

    def __repr__(self) -> str:
        raise AssertionError("repr of an argument must not run")


def test_string_output_is_stored_as_itself(spans: Spans) -> None:
    @observe(type="agent")
    def reply(question: str) -> str:
        return f"plain answer to {question}"

    assert reply("why") == "plain answer to why"
    attributes = spans.one("reply").attributes
    assert attributes[semconv.SPAN_OUTPUT] == "plain answer to why"
    assert json.loads(attributes[semconv.SPAN_INPUT]) == {"question": "why"}  # arguments: JSON


def test_strings_that_look_like_json_stay_as_written(spans: Spans) -> None:
    @observe
    def emit(text: str) -> str:
        return text

    for text in ('{"already": "json"}', "42", "null", 'with "quotes" and \\ backslash', "é ✓ 𝄞"):
        spans.clear()
        emit(text)
        assert spans.one("emit").attributes[semconv.SPAN_OUTPUT] == text


def test_objects_are_stored_by_their_public_fields(spans: Spans) -> None:
    @observe
    def build() -> dict[str, Any]:
        return {
            "namespace": types.SimpleNamespace(answer="42", score=0.5),
            "object": Answer("hi", ["a"]),
            "slots": Point(1, 2),
        }

    build()
    assert json.loads(spans.one("build").attributes[semconv.SPAN_OUTPUT]) == {
        "namespace": {"answer": "42", "score": 0.5},
        "object": {"text": "hi", "sources": ["a"]},
        "slots": {"x": 1, "y": 2},
    }


def test_an_object_returned_alone_is_stored_by_its_fields(spans: Spans) -> None:
    @observe
    def make() -> Answer:
        return Answer("done", [])

    result = make()
    assert isinstance(result, Answer)
    assert json.loads(spans.one("make").attributes[semconv.SPAN_OUTPUT]) == {
        "text": "done",
        "sources": [],
    }


def test_object_arguments_are_recorded_by_fields_without_running_reprs(spans: Spans) -> None:
    class Request:
        def __init__(self) -> None:
            self.user = "ada"
            self.limit = 3

        def __repr__(self) -> str:
            raise AssertionError("a repr is not needed: the fields are recorded")

    @observe
    def handle(request: Request, other: Slow) -> None:
        return None

    handle(Request(), Slow())
    assert json.loads(spans.one("handle").attributes[semconv.SPAN_INPUT]) == {
        "request": {"user": "ada", "limit": 3},
        "other": "<Slow>",  # no fields: its repr is user code, not run on the call path
    }


def test_start_span_and_update_current_span_store_strings_as_themselves(spans: Spans) -> None:
    with start_span("block", input="the question") as span:
        span.set_output("the answer")

    @observe
    def model() -> None:
        update_current_span(input="prompt text", output="reply text", prompt="template {x}")

    model()
    block = spans.one("block").attributes
    assert block[semconv.SPAN_INPUT] == "the question"
    assert block[semconv.SPAN_OUTPUT] == "the answer"
    updated = spans.one("model").attributes
    assert updated[semconv.SPAN_INPUT] == "prompt text"
    assert updated[semconv.SPAN_OUTPUT] == "reply text"
    assert updated[semconv.LLM_PROMPT] == "template {x}"


def test_secrets_in_string_outputs_are_still_redacted(spans: Spans) -> None:
    @observe
    def leak(kind: str) -> str:
        if kind == "shape":
            return "use key sk-abcdefghijklmnopqrstuvwxyz123456 please"
        return '{"api_key": "s3cr3t-value", "model": "gpt"}'

    leak("shape")
    leak("json")
    shape, keyed = (span.attributes[semconv.SPAN_OUTPUT] for span in spans.named("leak"))
    assert shape == "use key [REDACTED] please"
    assert json.loads(keyed) == {"api_key": "[REDACTED]", "model": "gpt"}
    assert "s3cr3t" not in keyed


def test_secret_fields_of_objects_are_redacted(spans: Spans) -> None:
    @observe
    def connect() -> types.SimpleNamespace:
        return types.SimpleNamespace(host="db", password="hunter2", token="abc")

    connect()
    assert json.loads(spans.one("connect").attributes[semconv.SPAN_OUTPUT]) == {
        "host": "db",
        "password": "[REDACTED]",
        "token": "[REDACTED]",
    }


def test_a_long_string_output_is_cut_and_marked(spans: Spans, settings_override: Any) -> None:
    settings_override(max_attribute_bytes=1_000)

    @observe
    def essay() -> str:
        return "word " * 1_000

    essay()
    attributes = spans.one("essay").attributes
    marker = json.loads(attributes[semconv.SPAN_OUTPUT])
    assert marker["truncated"] is True
    assert marker["original_length"] == 5_000
    assert marker["preview"].startswith("word word")  # the plain text, no quote
    assert len(attributes[semconv.SPAN_OUTPUT].encode()) <= 1_000
    assert attributes[semconv.TRUNCATED] == (semconv.SPAN_OUTPUT,)


def test_a_lone_surrogate_in_a_string_output_is_made_exportable(spans: Spans) -> None:
    @observe
    def broken_text() -> str:
        return "a\ud800b"

    broken_text()
    output = spans.one("broken_text").attributes[semconv.SPAN_OUTPUT]
    assert output == "a\ufffdb"
    output.encode("utf-8")


def test_content_switch_still_holds(spans: Spans, settings_override: Any) -> None:
    settings_override(capture_content=False)

    @observe(type="agent")
    def private(question: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(answer="secret")

    private("q")
    spans.assert_no_content()


def test_the_trace_view_shows_outputs_as_written(spans: Spans) -> None:
    @observe
    def reply() -> str:
        return "plain answer"

    @observe
    def structured() -> types.SimpleNamespace:
        return types.SimpleNamespace(answer="42")

    reply()
    structured()
    assert "output: plain answer" in details(stored(spans.one("reply")))
    assert 'output: {"answer":"42"}' in details(stored(spans.one("structured")))


def test_generator_of_strings_is_stored_as_the_text_it_made(spans: Spans) -> None:
    @traceroot.observe
    def stream() -> Any:
        yield "Hello, "
        yield "world"

    assert "".join(stream()) == "Hello, world"
    assert spans.one("stream").attributes[semconv.SPAN_OUTPUT] == "Hello, world"
