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


names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
plain_arguments = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def agent_messages(draw: st.DrawFn) -> BaseMessage:
    """What a tool-calling agent's state holds: text messages, replies with tool calls, tool
    results."""
    kind = draw(st.sampled_from(["plain", "calls", "tool"]))
    if kind == "plain":
        return draw(plain_messages())
    if kind == "tool":
        return ToolMessage(content=draw(texts), tool_call_id=draw(names))
    calls = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.none() | names,
                    "name": names,
                    "args": st.dictionaries(names, plain_arguments, max_size=3),
                }
            ),
            min_size=1,
            max_size=2,
        )
    )
    reason = draw(reasons)
    metadata = {"finish_reason": reason} if reason is not None else {}
    return AIMessage(content=draw(texts), tool_calls=calls, response_metadata=metadata)


@settings(max_examples=300, deadline=None)
@given(st.lists(agent_messages(), min_size=1, max_size=4))
def test_agent_messages_are_written_as_the_general_path_encodes_them(
    batch: list[BaseMessage],
) -> None:
    written = messages.plain_json(batch)
    if written is not None:  # a secret-named argument takes the general path, which redacts it
        assert written == to_json(messages.readable(batch))
    for message in batch:
        alone = messages.plain_json(message)
        assert alone is None or alone == to_json(messages.readable(message))


plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        names,
        plain_values | st.lists(agent_messages(), max_size=3) | agent_messages(),
        max_size=4,
    )
)
def test_graph_state_is_written_as_the_general_path_encodes_it(state: dict[str, Any]) -> None:
    written = messages.plain_json(state)
    if written is not None:
        assert written == to_json(messages.readable(state))


def test_graph_state_of_an_agent_is_written_directly() -> None:
    call = {"id": "c1", "name": "get_weather", "args": {"city": "Paris"}}
    state = {
        "messages": [
            HumanMessage(content="Weather in Paris?"),
            AIMessage(content="", tool_calls=[call]),
            ToolMessage(content="Sunny", tool_call_id="c1"),
        ],
        "remaining_steps": 24,
        "done": False,
        "extra": {"score": 0.5, "note": None, "tags": ["a", "b"]},
    }
    written = messages.plain_json(state)
    assert written is not None
    assert written == to_json(messages.readable(state))
    assert '"arguments":{"city":"Paris"}' in written
    assert '"response":"Sunny"' in written


@settings(max_examples=300, deadline=None)
@given(
    texts | st.dictionaries(names, plain_values, max_size=4) | st.lists(plain_values, max_size=4)
)
def test_tool_arguments_and_results_are_written_as_the_general_path_encodes_them(
    value: Any,
) -> None:
    written = messages.plain_value_json(value)
    if written is not None:  # a secret-named key or pair takes the general path
        assert written == to_json(value)


def test_tool_values_holding_messages_take_the_general_path() -> None:
    # to_json dumps a message whole, unlike graph state's readable form
    for value in ({"m": HumanMessage(content="hi")}, [HumanMessage(content="hi")], 42, None):
        assert messages.plain_value_json(value) is None, value


def test_anything_else_takes_the_general_path() -> None:
    blocks = HumanMessage(content=[{"type": "text", "text": "hi"}])
    secret_arguments = AIMessage(
        content="", tool_calls=[{"id": "c1", "name": "login", "args": {"password": "hunter2"}}]
    )
    calls_in = HumanMessage(content="a message in arguments is dumped whole")
    object_arguments = AIMessage(
        content="", tool_calls=[{"id": "c1", "name": "f", "args": {"at": object()}}]
    )
    others: list[Any] = [
        "text",
        [],
        [1, 2],
        blocks,
        [HumanMessage(content="hi"), blocks],
        ToolMessage(content=[{"type": "text", "text": "42"}], tool_call_id="c1"),
        AIMessage(content="x", response_metadata={"finish_reason": 3}),
        secret_arguments,
        object_arguments,
        {"api_key": "sk-1"},  # a secret-named key: the general path redacts its value
        {"state": {"password": "hunter2"}},
        {"name": "Cookie", "value": "x"},  # a header record: the general path looks into it
        {"header": ["Authorization", "Bearer abc"]},  # a pair: the general path looks into it
        {"mixed": [1, HumanMessage(content="hi")]},
        [HumanMessage(content="hi"), {"role": "user", "content": "hi"}],
        AIMessage(content="", tool_calls=[{"id": "c", "name": "f", "args": {"m": [calls_in]}}]),
        {"when": object()},
        {"ratio": float("nan")},
        {"big": 1 << 80},
        {1: "one"},
    ]
    for value in others:
        assert messages.plain_json(value) is None, value


def test_secret_named_keys_are_redacted_wherever_graph_state_holds_them() -> None:
    from traceroot import semconv, spans

    state = {
        "messages": [
            AIMessage(content="", tool_calls=[{"id": "c", "name": "f", "args": {"token": "t0k"}}])
        ],
        "config": {"api_key": "k3y"},
    }
    attributes: dict[str, Any] = {}
    written = messages.plain_json(state)
    if written is None or not spans.prewritten_into(attributes, semconv.SPAN_INPUT, written):
        spans.content_into(attributes, semconv.SPAN_INPUT, messages.readable(state))
    recorded = attributes[semconv.SPAN_INPUT]
    assert "t0k" not in recorded
    assert "k3y" not in recorded
    assert recorded.count("[REDACTED]") == 2


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
