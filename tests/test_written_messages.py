"""Chat Completions messages written straight to JSON are the general path's, exactly.

The request's messages, a reply's choices and a stream's rebuilt choices each have a writer for
text only (:mod:`traceroot.written_messages`); whatever they write must equal what the general
path (dicts, then :func:`traceroot.serialize.to_json`) makes of the same messages, and anything
else must take the general path.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traceroot import semconv
from traceroot.integrations import chat_completions
from traceroot.openai_messages import (
    chat_messages,
    chat_messages_json,
    chat_output_message,
)
from traceroot.serialize import to_json

openai_types = pytest.importorskip("openai.types.chat")

# Quotes, backslashes, control characters, non-ASCII and the empty string: what escaping must get
# right for the two writers to agree.
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from('"\\\n\t\x00é😀'),
    max_size=40,
)
roles = st.sampled_from(["system", "developer", "user", "assistant", 'odd"role'])
reasons = st.none() | st.sampled_from(["stop", "length", "content_filter"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({"role": roles, "content": texts}), max_size=5))
def test_request_messages_are_written_as_the_general_path_encodes_them(
    messages: list[dict[str, Any]],
) -> None:
    assert chat_messages_json(messages) == to_json(chat_messages(messages))


def test_other_request_messages_take_the_general_path() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    others: list[Any] = [
        [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        [{"role": "assistant", "content": "", "tool_calls": [call]}],
        [{"role": "tool", "tool_call_id": "c1", "content": "42"}],
        [{"role": "function", "name": "f", "content": "42"}],
        [{"role": "user", "content": None}],
        ({"role": "user", "content": "hi"},),
        None,
        "hi",
    ]
    for messages in others:
        assert chat_messages_json(messages) is None, messages


def _completion(choices: list[dict[str, Any]]) -> Any:
    return openai_types.ChatCompletion.model_validate(
        {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": choices}
    )


def _general_outputs(completion: Any) -> str:
    return to_json(
        [chat_output_message(choice.message, choice.finish_reason) for choice in completion.choices]
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.none() | texts, reasons), max_size=3))
def test_reply_outputs_are_written_as_the_general_path_encodes_them(
    replies: list[tuple[str | None, str | None]],
) -> None:
    completion = _completion(
        [
            {
                "index": index,
                "finish_reason": reason or "stop",
                "message": {"role": "assistant", "content": text},
            }
            for index, (text, reason) in enumerate(replies)
        ]
    )
    attributes: dict[str, Any] = {}
    chat_completions.record_response(attributes, completion)
    assert attributes[semconv.GEN_AI_OUTPUT_MESSAGES] == _general_outputs(completion)


def test_replies_with_tool_calls_or_refusals_read_the_same() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    completion = _completion(
        [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
            },
            {
                "index": 1,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": None, "refusal": "no"},
            },
        ]
    )
    attributes: dict[str, Any] = {}
    chat_completions.record_response(attributes, completion)
    written = attributes[semconv.GEN_AI_OUTPUT_MESSAGES]
    assert written == _general_outputs(completion)
    assert '"arguments":{"a":1}' in written
    assert '"type":"refusal"' in written


def _chunk(delta: dict[str, Any], reason: str | None = None) -> Any:
    return openai_types.ChatCompletionChunk.model_validate(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
        }
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=6), reasons)
def test_streamed_outputs_are_written_as_the_general_path_encodes_them(
    pieces: list[str], reason: str | None
) -> None:
    stream = chat_completions.ChatStream()
    stream.add(_chunk({"role": "assistant"}))
    for piece in pieces:
        stream.add(_chunk({"content": piece}))
    stream.add(_chunk({}, reason))
    attributes: dict[str, Any] = {}
    stream.record(attributes)
    message = {"role": "assistant", "content": "".join(pieces) or None}
    assert attributes[semconv.GEN_AI_OUTPUT_MESSAGES] == to_json(
        [chat_output_message(message, reason)]
    )


def test_a_streamed_tool_call_reads_the_same() -> None:
    stream = chat_completions.ChatStream()
    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "f"}}
    stream.add(_chunk({"role": "assistant", "tool_calls": [call]}))
    stream.add(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": 1}'}}]}))
    stream.add(_chunk({}, "tool_calls"))
    attributes: dict[str, Any] = {}
    stream.record(attributes)
    expected_call = {"id": "c1", "function": {"name": "f", "arguments": '{"a": 1}'}}
    message = {"role": "assistant", "content": None, "tool_calls": [expected_call]}
    assert attributes[semconv.GEN_AI_OUTPUT_MESSAGES] == to_json(
        [chat_output_message(message, "tool_calls")]
    )


def test_secrets_in_written_text_are_still_redacted() -> None:
    # Written text goes through the credential-shape scan like any other.
    messages = [{"role": "user", "content": "my key is sk-abcdefghijklmnopqrstuvwx1234"}]
    attributes: dict[str, Any] = {}
    chat_completions.record_request(attributes, {"messages": messages}, ())
    recorded = attributes[semconv.GEN_AI_INPUT_MESSAGES]
    assert "sk-abcdefghijklmnopqrstuvwx1234" not in recorded
    assert "[REDACTED]" in recorded


def test_replies_given_as_dicts_read_the_same() -> None:
    # A gateway's reply as plain dicts: read as the general path reads it, not as empty.
    reply = {
        "id": "c",
        "model": "m",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}
        ],
    }
    attributes: dict[str, Any] = {}
    chat_completions.record_response(attributes, reply)
    message = reply["choices"][0]["message"]  # type: ignore[index]
    assert attributes[semconv.GEN_AI_OUTPUT_MESSAGES] == to_json(
        [chat_output_message(message, "stop")]
    )
    assert '"content":"hi"' in attributes[semconv.GEN_AI_OUTPUT_MESSAGES]


SECRET_JSON = '{"password": "hunter2", "db": 1}'


def test_secret_keys_inside_json_text_are_redacted_on_every_written_path() -> None:
    # A message whose text is itself JSON: its secret-named keys are redacted as the general
    # path redacts them, whichever writer the message would otherwise take.
    attributes: dict[str, Any] = {}
    chat_completions.record_request(
        attributes, {"messages": [{"role": "user", "content": SECRET_JSON}]}, ()
    )
    completion = _completion(
        [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": SECRET_JSON},
            }
        ]
    )
    chat_completions.record_response(attributes, completion)
    stream = chat_completions.ChatStream()
    stream.add(_chunk({"role": "assistant", "content": SECRET_JSON}, "stop"))
    streamed: dict[str, Any] = {}
    stream.record(streamed)
    for recorded in (
        attributes[semconv.GEN_AI_INPUT_MESSAGES],
        attributes[semconv.GEN_AI_OUTPUT_MESSAGES],
        streamed[semconv.GEN_AI_OUTPUT_MESSAGES],
    ):
        assert "hunter2" not in recorded
        assert "[REDACTED]" in recorded
        assert '\\"db\\": 1' in recorded  # the rest of the text is kept


def test_streamed_text_of_a_str_subclass_is_kept() -> None:
    class Text(str):
        pass

    stream = chat_completions.ChatStream()
    stream.add(_chunk({"role": "assistant"}))
    chunk = _chunk({"content": "x"})
    chunk.choices[0].delta.content = Text("Hello")
    stream.add(chunk)
    stream.add(_chunk({"content": " world"}, "stop"))
    attributes: dict[str, Any] = {}
    stream.record(attributes)
    assert '"content":"Hello world"' in attributes[semconv.GEN_AI_OUTPUT_MESSAGES]
