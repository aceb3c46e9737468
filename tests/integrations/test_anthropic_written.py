"""Anthropic messages written straight to JSON are the general path's, exactly (see
``tests/test_written_messages.py`` for the Chat Completions writers)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traceroot import genai, semconv
from traceroot.serialize import to_json

anthropic_types = pytest.importorskip("anthropic.types")

from traceroot.integrations.anthropic import messages  # noqa: E402

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from('"\\\n\t\x00é😀'),
    max_size=30,
)
contents = texts | st.lists(
    st.builds(lambda text: {"type": "text", "text": text}, texts), max_size=3
)
roles = st.sampled_from(["user", "assistant", 'odd"role'])
reasons = st.none() | st.sampled_from(["end_turn", "max_tokens", "stop_sequence"])


def _general_request(body: dict[str, Any]) -> dict[str, Any]:
    expected: dict[str, Any] = {}
    if body.get("system") is not None:
        expected[semconv.GEN_AI_SYSTEM_INSTRUCTIONS] = to_json(messages.parts(body["system"]))
    inputs = [
        genai.message(message["role"] or "user", messages.parts(message["content"]))
        for message in body["messages"]
    ]
    expected[semconv.GEN_AI_INPUT_MESSAGES] = to_json(inputs)
    return expected


@settings(max_examples=300, deadline=None)
@given(
    st.none() | contents,
    st.lists(st.fixed_dictionaries({"role": roles, "content": contents}), max_size=4),
)
def test_request_messages_are_written_as_the_general_path_encodes_them(
    system: Any, inputs: list[dict[str, Any]]
) -> None:
    body = {"system": system, "messages": inputs}
    attributes: dict[str, Any] = {}
    messages.record_content_request(attributes, body)
    assert attributes == _general_request(body)


def test_other_request_messages_read_the_same() -> None:
    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    call = {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}
    result = {"type": "tool_result", "tool_use_id": "t1", "content": "42"}
    body = {
        "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "look"}, image]},
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ],
    }
    attributes: dict[str, Any] = {}
    messages.record_content_request(attributes, body)
    assert attributes == _general_request(body)
    assert '"type":"tool_call_response"' in attributes[semconv.GEN_AI_INPUT_MESSAGES]


def _reply(blocks: list[dict[str, Any]], reason: str | None) -> Any:
    return anthropic_types.Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude",
            "content": blocks,
            "stop_reason": reason,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=3), reasons)
def test_reply_outputs_are_written_as_the_general_path_encodes_them(
    pieces: list[str], reason: str | None
) -> None:
    reply = _reply([{"type": "text", "text": text} for text in pieces], reason)
    attributes: dict[str, Any] = {}
    messages.MessagesEndpoint().record_response(attributes, reply)
    expected = [genai.message("assistant", messages.parts(reply.content), reason)]
    assert attributes[semconv.GEN_AI_OUTPUT_MESSAGES] == to_json(expected)


def test_a_reply_with_a_tool_call_reads_the_same() -> None:
    blocks = [
        {"type": "text", "text": "calling"},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
    ]
    reply = _reply(blocks, "tool_use")
    attributes: dict[str, Any] = {}
    messages.MessagesEndpoint().record_response(attributes, reply)
    expected = [genai.message("assistant", messages.parts(reply.content), "tool_use")]
    assert attributes[semconv.GEN_AI_OUTPUT_MESSAGES] == to_json(expected)
    assert '"type":"tool_call"' in attributes[semconv.GEN_AI_OUTPUT_MESSAGES]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(texts, max_size=3), min_size=1, max_size=2), reasons)
def test_streamed_outputs_are_written_as_the_general_path_encodes_them(
    blocks: list[list[str]], reason: str | None
) -> None:
    stream = messages.MessageStream()
    stream.add(
        anthropic_types.RawMessageStartEvent.model_validate(
            {"type": "message_start", "message": _reply([], None).model_dump()}
        )
    )
    for index, pieces in enumerate(blocks):
        stream.add(
            anthropic_types.RawContentBlockStartEvent.model_validate(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
        )
        for piece in pieces:
            stream.add(
                anthropic_types.RawContentBlockDeltaEvent.model_validate(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    }
                )
            )
    stream.stop_reason = reason
    attributes: dict[str, Any] = {}
    stream.record(attributes)
    parts = [genai.text_part("".join(pieces)) for pieces in blocks]
    expected = [genai.message("assistant", parts, reason)]
    assert attributes[semconv.GEN_AI_OUTPUT_MESSAGES] == to_json(expected)


def test_secret_keys_inside_json_text_are_redacted() -> None:
    secret = '{"client_secret": "abc123xyz", "n": 1}'
    attributes: dict[str, Any] = {}
    messages.record_content_request(
        attributes, {"system": secret, "messages": [{"role": "user", "content": secret}]}
    )
    messages.MessagesEndpoint().record_response(
        attributes, _reply([{"type": "text", "text": secret}], "end_turn")
    )
    for key in (
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
    ):
        assert "abc123xyz" not in attributes[key], key
        assert "[REDACTED]" in attributes[key], key
