"""A LangGraph tool-calling agent, traced end to end: two turns of one chat session.

    pip install -e ".[quickstart]" && python examples/quickstart.py

Offline by default: the model is a scripted OpenAI-compatible server this script starts on
127.0.0.1. With ``OPENAI_API_KEY`` set, it talks to the real API instead. Spans go to the local
store (``.traceroot/traces.db``) unless ``TRACEROOT_API_KEY`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``
is set; the script ends by printing ``traceroot show`` of the last trace.
"""

from __future__ import annotations

import os

import traceroot

traceroot.instrument()  # before the frameworks are imported, or after: either way works

import scripted_openai  # noqa: E402
from langchain.agents import create_agent  # noqa: E402 - imported after instrument() on purpose
from langchain_core.tools import tool  # noqa: E402
from langchain_openai import ChatOpenAI  # noqa: E402
from show_trace import show_last_trace  # noqa: E402


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"Sunny and 21 C in {city}"


@tool
def get_local_time(city: str) -> str:
    """The local time in a city."""
    return f"It is 14:05 in {city}"


def model() -> ChatOpenAI:
    if os.environ.get("OPENAI_API_KEY"):
        return ChatOpenAI(model="gpt-4o-mini")
    return ChatOpenAI(model="gpt-4o-mini", api_key="offline", base_url=scripted_openai.start())  # type: ignore[arg-type]


def main() -> None:
    agent = create_agent(model(), tools=[get_weather, get_local_time])
    history: list[dict[str, str]] = []
    with traceroot.using_attributes(session_id="quickstart-chat", user_id="ada", tags=["demo"]):
        for question in ("What's the weather in San Francisco?", "And what time is it there?"):
            history.append({"role": "user", "content": question})
            result = agent.invoke({"messages": history})
            answer = result["messages"][-1].content
            history.append({"role": "assistant", "content": answer})
            print(f"> {question}\n{answer}")
    traceroot.flush()
    show_last_trace("quickstart-chat")


if __name__ == "__main__":
    main()
