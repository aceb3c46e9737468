"""LangChain messages in the GenAI shape: the directly written JSON is the general path's, exactly."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.prompt_values import ChatPromptValue

from traceroot.integrations.langchain import messages
from traceroot.serialize import to_json

# Quotes, backslashes, control characters, non-ASCII and the empty string: what escaping must get
# right for the two writers to agree.
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from('"\\\n\t\x00é😀'),
    max_size=40,
)
reasons = st.none() | st.sampled_from(["stop", "length", "tool_calls", 'odd"reason'])


@st.composite
def plain_messages(draw: st.DrawFn) -> BaseMessage:
    kind = draw(st.sampled_from(["human", "system", "ai"]))
    content = draw(texts)
    if kind == "human":
        return HumanMessage(content=content)
    if kind == "system":
        return SystemMessage(content=content)
    reason = draw(reasons)
    metadata = {"finish_reason": reason} if reason is not None else {}
    return AIMessage(content=content, response_metadata=metadata)


@settings(max_examples=300, deadline=None)
@given(st.lists(plain_messages(), min_size=1, max_size=5))
def test_plain_messages_are_written_as_the_general_path_encodes_them(
    batch: list[BaseMessage],
) -> None:
    expected = to_json(messages.readable(batch))
    assert messages.plain_json(batch) == expected
    assert messages.plain_json(ChatPromptValue(messages=batch)) == expected
    for message in batch:
        assert messages.plain_json(message) == to_json(messages.readable(message))


def test_anything_else_takes_the_general_path() -> None:
    calls = AIMessage(content="", tool_calls=[{"id": "c1", "name": "f", "args": {}}])
    blocks = HumanMessage(content=[{"type": "text", "text": "hi"}])
    tool = ToolMessage(content="42", tool_call_id="c1")
    others: list[Any] = [
        {"messages": [HumanMessage(content="hi")]},
        "text",
        [],
        [1, 2],
        [HumanMessage(content="hi"), calls],
        blocks,
        [tool],
        AIMessage(content="x", response_metadata={"finish_reason": 3}),
    ]
    for value in others:
        assert messages.plain_json(value) is None, value


def test_secret_keys_inside_json_text_are_redacted() -> None:
    from traceroot import semconv, spans

    attributes: dict[str, Any] = {}
    written = messages.plain_json([HumanMessage(content='{"password": "hunter2"}')])
    assert written is not None
    # The written form is refused; the general path then redacts inside the text.
    assert not spans.prewritten_into(attributes, semconv.GEN_AI_INPUT_MESSAGES, written)
    assert "hunter2" not in to_json(
        messages.readable([HumanMessage(content='{"password": "hunter2"}')])
    )
