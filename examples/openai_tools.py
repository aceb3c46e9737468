"""The raw OpenAI client with tool calls and streaming, traced: one session, two model calls.

    pip install -e ".[openai]" && python examples/openai_tools.py

Offline by default (a scripted OpenAI-compatible server on 127.0.0.1); the real API when
``OPENAI_API_KEY`` is set.
"""

from __future__ import annotations

import json
import os
from typing import Any

import openai
import scripted_openai

import traceroot

TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@traceroot.observe(type="tool")
def get_weather(city: str) -> str:
    return f"Sunny and 21 C in {city}"


@traceroot.observe(type="agent")
def ask(client: openai.OpenAI, question: str) -> str:
    messages: list[Any] = [{"role": "user", "content": question}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    reply = first.choices[0].message
    messages.append(reply.model_dump(exclude_none=True))
    for call in reply.tool_calls or []:
        result = get_weather(**json.loads(call.function.arguments))  # type: ignore[union-attr]
        messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    # The answer streams; the span ends when the stream does, with the usage chunk's counts.
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def main() -> None:
    traceroot.instrument()
    if os.environ.get("OPENAI_API_KEY"):
        client = openai.OpenAI()
    else:
        client = openai.OpenAI(api_key="offline", base_url=scripted_openai.start())
    with traceroot.using_session("openai-tools-demo"):
        print(ask(client, "What's the weather in San Francisco?"))
    traceroot.flush()


if __name__ == "__main__":
    main()
