"""A small agent traced end to end, offline: two turns of one chat session.

    python examples/observe_basics.py

Spans go to the local store (``.traceroot/traces.db``) unless ``TRACEROOT_API_KEY`` or
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; the script ends by printing the last trace's tree.
"""

from __future__ import annotations

import time

from show_trace import show_last_trace

import traceroot
from traceroot import observe, update_current_span, using_attributes

FACTS = {
    "weather": "Sunny, 21 C in San Francisco.",
    "tomorrow": "Light rain expected tomorrow afternoon.",
}


@observe(type="tool")
def search(query: str) -> list[str]:
    """A stand-in retriever: keyword lookup over a tiny knowledge base."""
    time.sleep(0.01)
    return [text for key, text in FACTS.items() if key in query.lower()] or ["No result."]


@observe(type="llm")
def think(question: str, context: list[str]) -> str:
    """A stand-in model that reports its own token usage, as a custom provider would."""
    time.sleep(0.02)
    reply = f"Based on {len(context)} source(s): {' '.join(context)}"
    update_current_span(
        model="scripted-model",
        usage={"input_tokens": len(question.split()) + 20, "output_tokens": len(reply.split())},
    )
    return reply


@observe(type="agent")
def agent(question: str) -> str:
    docs = search(question)
    return think(question, docs)


def main() -> None:
    traceroot.instrument()
    with using_attributes(session_id="quickstart-chat", user_id="ada", tags=["demo"]):
        for question in ("What's the weather in SF?", "And tomorrow?"):
            print(f"> {question}\n{agent(question)}")
    traceroot.flush()
    show_last_trace("quickstart-chat")


if __name__ == "__main__":
    main()
