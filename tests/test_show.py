"""``traceroot show``: a LangGraph agent's messages as a chat, and what the trace ran for.

The end-to-end test runs a real LangGraph agent (LangChain's ``create_agent``, a fake chat model
that calls a tool) into a local store and reads the CLI's text; the others pin each stored shape
the chat is read from, and what is shown where there is no chat.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from traceroot import render, semconv
from traceroot.records import StoredSpan
from traceroot.transcript import chat_lines

from .conftest import run_script
from .stores import ROOT, cli
from .test_terminal import acting

AGENT = """
import traceroot
traceroot.instrument()

from typing import Any
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool


class ToolCallingFake(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self  # the scripted replies already say which tool to call


@traceroot.observe(name="search_index", tags=["retrieval"], metadata={"index": "cities"})
def search_index(city: str) -> str:
    return "Sunny in " + city


@tool
def get_weather(city: str) -> str:
    \"\"\"The weather in a city.\"\"\"
    return search_index(city)


usage = {"input_tokens": 9, "output_tokens": 4, "total_tokens": 13}
call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call-1"}
model = ToolCallingFake(messages=iter([
    AIMessage(content="", tool_calls=[call], usage_metadata=usage),
    # A model's text may hold escape sequences: the CLI must show them, not obey them.
    AIMessage(content="It is sunny in Paris.\\x1b[2J", usage_metadata=usage),
]))
agent = create_agent(model, tools=[get_weather])
with traceroot.using_attributes(
    session_id="chat-7", user_id="ada", tags=["demo", "beta"], metadata={"tenant": "acme"}
):
    agent.invoke({"messages": [{"role": "user", "content": "Weather in Paris?"}]})
traceroot.flush()
"""


@pytest.fixture(scope="module")
def agent_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("show")
    result = run_script(AGENT, cwd=str(directory), env={"PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 0, result.stderr
    return directory / ".traceroot" / "traces.db"


def after(lines: list[str], start: str) -> list[str]:
    """The detail lines under each span line that starts with ``start`` (stripped), in order."""
    found: list[str] = []
    for index, text in enumerate(lines):
        if text.strip().startswith(start):
            depth = len(text) - len(text.lstrip())
            for detail in lines[index + 1 :]:
                if len(detail) - len(detail.lstrip()) <= depth or detail.strip().startswith("["):
                    break
                found.append(detail.strip())
    return found


def test_langgraph_agent_shows_its_chat_and_who_it_ran_for(agent_store: Path) -> None:
    (summary,) = json.loads(cli("traces", "--json", "--store", str(agent_store)).stdout)
    shown = cli("show", summary["trace_id"][:8], "--verbose", "--store", str(agent_store))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == (
        f"trace {summary['trace_id']}  session=chat-7  user=ada  tags=demo,beta  "
        'metadata={"tenant":"acme"}'
    )
    # The model node returns LangGraph Commands holding LangChain messages: shown as the chat.
    assert '"graph"' not in shown.stdout
    assert '"update"' not in shown.stdout
    assert '"additional_kwargs"' not in shown.stdout
    assert after(lines, "[span] model") == [
        "input: user: Weather in Paris?",
        'output: assistant: -> get_weather({"city": "Paris"})',
        "input:",
        "user: Weather in Paris?",
        'assistant: -> get_weather({"city": "Paris"})',
        "tool: <- Sunny in Paris",
        "output: assistant: It is sunny in Paris.\\x1b[2J",
    ]
    assert after(lines, "[span] tools") == [
        'input: -> get_weather({"city": "Paris"})',
        "output: tool: <- Sunny in Paris",
    ]
    assert after(lines, "[tool] get_weather") == [
        'arguments: {"city":"Paris"}',
        "result: Sunny in Paris",
    ]
    assert after(lines, "[agent] LangGraph")[0] == "input: user: Weather in Paris?"
    # The span's own tags and metadata, where they add to the trace's; the string it returned
    # shown as text, however it was stored.
    assert after(lines, "[span] search_index") == [
        "tags: demo,beta,retrieval",
        'metadata: {"tenant":"acme","index":"cities"}',
        'input: {"city":"Paris"}',
        "output: Sunny in Paris",
    ]
    # Every span has the trace's session and user: no line repeats them.
    assert not [line for line in lines[1:] if "session=" in line or "user=" in line]
    assert acting(shown.stdout) == []


def test_langgraph_agent_tree_without_details(agent_store: Path) -> None:
    (summary,) = json.loads(cli("traces", "--json", "--store", str(agent_store)).stdout)
    lines = cli("show", summary["trace_id"], "--store", str(agent_store)).stdout.splitlines()
    assert lines[0].endswith('session=chat-7  user=ada  tags=demo,beta  metadata={"tenant":"acme"}')
    assert [line.split()[:2] for line in lines[1:]] == [
        ["[agent]", "LangGraph"],
        ["[span]", "model"],
        ["[llm]", "ToolCallingFake"],
        ["[span]", "tools"],
        ["[tool]", "get_weather"],
        ["[span]", "search_index"],
        ["[span]", "model"],
        ["[llm]", "ToolCallingFake"],
    ]


def genai(role: str, *parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": role, "parts": list(parts)}


@pytest.mark.parametrize(
    ("value", "lines"),
    [
        pytest.param(
            [
                genai("user", {"type": "text", "content": "Weather?"}),
                genai(
                    "assistant",
                    {"type": "tool_call", "id": "c1", "name": "w", "arguments": {"city": "P"}},
                ),
                genai("tool", {"type": "tool_call_response", "id": "c1", "response": "sunny"}),
                genai("assistant", {"type": "reasoning", "content": "hm"}, {"type": "uri"}),
            ],
            [
                "user: Weather?",
                'assistant: -> w({"city": "P"})',
                "tool: <- sunny",
                "assistant: (reasoning) hm <uri>",
            ],
            id="genai-parts",
        ),
        pytest.param(
            [
                {"role": "system", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "Hi"}, {"type": "image_url"}],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "w", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            ],
            ["system: Be brief.", "user: Hi <image_url>", "assistant: -> w({})", "tool: <- sunny"],
            id="chat-completions",
        ),
        pytest.param(
            {
                "messages": [
                    {"type": "human", "content": "Weather?", "id": "1"},
                    {
                        "type": "ai",
                        "content": "",
                        "tool_calls": [{"name": "w", "args": {"city": "P"}, "id": "c1"}],
                        "additional_kwargs": {},
                    },
                    {"type": "tool", "content": "sunny", "tool_call_id": "c1", "name": "w"},
                    {"type": "AIMessageChunk", "content": [{"type": "text", "text": "Sunny."}]},
                ],
                "remaining_steps": 24,
            },
            [
                "user: Weather?",
                'assistant: -> w({"city": "P"})',
                "tool: <- sunny",
                "assistant: Sunny.",
                "remaining_steps: 24",
            ],
            id="langgraph-state-of-langchain-messages",
        ),
        pytest.param(
            [
                {
                    "graph": None,
                    "update": {"messages": [{"type": "ai", "content": "Done.", "tool_calls": []}]},
                    "resume": None,
                    "goto": [],
                },
                {"graph": "__parent__", "update": None, "resume": "yes", "goto": "review"},
            ],
            ["assistant: Done.", "goto: review", "resume: yes", "graph: __parent__"],
            id="langgraph-commands",
        ),
        pytest.param(
            {
                "graph": None,
                "update": {"step": 2},
                "goto": [
                    {
                        "node": "tools",
                        "arg": {
                            "__type": "tool_call_with_context",
                            "tool_call": {"name": "w", "args": {}, "id": "c1", "type": "tool_call"},
                            "state": {"messages": []},
                        },
                    }
                ],
            },
            ['update: {"step":2}', "send to tools: -> w({})"],
            id="command-sending-a-tool-call",
        ),
        pytest.param(
            {"node": "summarise", "arg": {"messages": [{"role": "user", "content": "a"}, "x"]}},
            ['send to summarise: {"messages":[{"role":"user","content":"a"},"x"]}'],
            id="send-of-something-else",
        ),
        pytest.param(
            {
                "lc": 1,
                "type": "constructor",
                "id": ["langchain", "schema", "messages", "HumanMessage"],
                "kwargs": {"content": "from dumpd"},
            },
            ["user: from dumpd"],
            id="langchain-dumpd",
        ),
        pytest.param(
            [{"type": "ai", "content": [{"type": "tool_use", "name": "w", "input": {"a": 1}}]}],
            ['assistant: -> w({"a": 1})'],
            id="anthropic-tool-use-block",
        ),
        pytest.param({"messages": [], "count": 0}, ["(no messages)", "count: 0"], id="empty-state"),
    ],
)
def test_chat_shapes(value: Any, lines: list[str]) -> None:
    assert chat_lines(value) == lines
    assert chat_lines(json.loads(json.dumps(value))) == lines  # as read back from the store


@pytest.mark.parametrize(
    "value",
    [
        {"q": "paris"},
        {"type": "text", "content": "a part alone is no message"},
        [{"role": "user", "content": "hi"}, 3],  # one item that is no message: no chat
        {"messages": "not a list"},
        {"update": 1, "other": 2},
        [],
        "text",
        None,
        42,
    ],
)
def test_values_without_a_chat(value: Any) -> None:
    assert chat_lines(value) is None


def span(
    span_id: int,
    parent: int | None = None,
    *,
    name: str = "step",
    session_id: str | None = None,
    user_id: str | None = None,
    **attributes: Any,
) -> StoredSpan:
    return StoredSpan(
        trace_id=f"{1:032x}",
        span_id=f"{span_id:016x}",
        parent_id=None if parent is None else f"{parent:016x}",
        name=name,
        kind="span",
        start_ns=1_700_000_000_000_000_000 + span_id,
        end_ns=1_700_000_000_001_000_000 + span_id,
        status="UNSET",
        status_message=None,
        session_id=session_id,
        user_id=user_id,
        service_name="svc",
        model=None,
        input_tokens=None,
        output_tokens=None,
        attributes=attributes,
        events=[],
    )


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("plain answer", "output: plain answer"),  # a string stored as itself
        ('"plain answer"', "output: plain answer"),  # a string stored as JSON
        ('{"a": [1, 2]}', 'output: {"a": [1, 2]}'),  # JSON that is no chat: as stored
        ('{"messages": [{"role": "user", "con', 'output: {"messages": [{"role": "user", "con'),
        ("line one\nline two", "output: line one line two"),
        ("x" * 300, "output: " + "x" * 197 + "..."),
    ],
)
def test_values_without_a_chat_are_shown_as_stored(stored: str, shown: str) -> None:
    printed = render.tree([span(1, **{semconv.SPAN_OUTPUT: stored})], verbose=True)
    assert printed.splitlines()[2] == "    " + shown


def test_a_long_chat_shows_its_latest_messages() -> None:
    history = [{"role": "user", "content": f"turn {n}"} for n in range(20)]
    printed = render.tree([span(1, **{semconv.SPAN_INPUT: json.dumps(history)})], verbose=True)
    assert printed.splitlines()[2:] == [
        "    input:",
        "      (12 earlier)",
        *(f"      user: turn {n}" for n in range(12, 20)),
    ]


def test_header_merges_trace_level_values_and_lines_show_what_differs() -> None:
    spans = [
        span(
            1,
            name="root",
            session_id="s",
            user_id="u",
            **{
                semconv.SPAN_TAGS: ["a"],
                semconv.TRACE_TAGS: ["b", "a"],
                semconv.SPAN_METADATA: '{"k": 1, "shared": "span"}',
                semconv.TRACE_METADATA: '{"shared": "trace"}',
            },
        ),
        span(2, 1, name="same", session_id="s", user_id="u", **{semconv.SPAN_TAGS: ["b", "a"]}),
        span(3, 1, name="elsewhere", session_id="other", user_id="u"),
        span(4, 1, name="before-the-session", **{semconv.SPAN_TAGS: '["x"]'}),
    ]
    lines = render.tree(spans, verbose=True).splitlines()
    assert lines == [
        f'trace {1:032x}  session=s  user=u  tags=a,b  metadata={{"k":1,"shared":"trace"}}',
        "  [span] root  1.0 ms",
        "    [span] same  1.0 ms",
        "    [span] elsewhere  1.0 ms  session=other",
        "    [span] before-the-session  1.0 ms  session=-  user=-",
        "      tags: x",
    ]


def test_a_trace_without_context_has_a_bare_header() -> None:
    lines = render.tree([span(1), span(2, 1, session_id="late")]).splitlines()
    assert lines == [
        f"trace {1:032x}",
        "  [span] step  1.0 ms",
        "    [span] step  1.0 ms  session=late",
    ]


def test_chat_text_cannot_act_on_the_terminal() -> None:
    hostile = "\x1b]0;pwned\x07\x1b[2J\u202egnp.exe"
    output = {
        "graph": None,
        "update": {"messages": [{"type": "ai", "content": hostile, "tool_calls": []}]},
    }
    tool_call = {"name": hostile, "args": {"x": hostile}, "type": "tool_call"}
    spans = [
        span(
            1,
            session_id=hostile,
            **{
                semconv.SPAN_TAGS: [hostile],
                semconv.SPAN_METADATA: json.dumps({"k": hostile}),
                semconv.SPAN_INPUT: json.dumps([tool_call]),
                semconv.SPAN_OUTPUT: json.dumps([output]),
                semconv.GEN_AI_OUTPUT_MESSAGES: json.dumps([{"role": hostile, "content": "x"}]),
            },
        )
    ]
    printed = render.tree(spans, verbose=True)
    assert acting(printed) == []
    assert "output: assistant: \\x1b]0;pwned\\x07\\x1b[2J\\u202egnp.exe" in printed
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\u202egnp.exe: x" in printed


def nested_sends(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"role": "user", "content": "deep"}
    for _ in range(depth):
        value = {"node": "a", "arg": value}
    return value


@pytest.mark.parametrize(
    "stored",
    [
        "[" * 100_000 + "]" * 100_000,  # past what the JSON reader can nest
        json.dumps(nested_sends(900)),  # readable JSON, nested past what a chat can be
    ],
)
def test_values_nested_past_reading_are_shown_as_stored(stored: str) -> None:
    printed = render.tree([span(1, **{semconv.SPAN_OUTPUT: stored})], verbose=True)
    assert printed.splitlines()[2] == "    output: " + stored[:197] + "..."


def test_a_tool_s_call_values_are_shown_once() -> None:
    # An @observe tool mirrors its input and output as the GenAI call values: not shown twice.
    mirrored = span(
        1,
        **{
            semconv.SPAN_INPUT: '{"city":"Paris"}',
            semconv.SPAN_OUTPUT: "Sunny",
            semconv.GEN_AI_TOOL_CALL_ARGUMENTS: '{"city":"Paris"}',
            semconv.GEN_AI_TOOL_CALL_RESULT: "Sunny",
        },
    )
    assert render.details(mirrored) == ['input: {"city":"Paris"}', "output: Sunny"]
    # A framework's tool span with only the call values still shows them.
    called = span(
        2,
        **{
            semconv.GEN_AI_TOOL_CALL_ARGUMENTS: '{"city":"Rome"}',
            semconv.GEN_AI_TOOL_CALL_RESULT: "Rain",
        },
    )
    assert render.details(called) == ['arguments: {"city":"Rome"}', "result: Rain"]
