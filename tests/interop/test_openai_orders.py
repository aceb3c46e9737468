"""traceroot beside OpenInference and OpenTelemetry's openai-v2, in either order.

Each case runs :mod:`tests.interop.scenario` in a process of its own and checks the one trace it
makes: one usage-carrying ``llm`` span per model call, never two and never none; a traceroot span
for the OpenAI call, whichever instrumentation patched the client first; the session on every
span; the reply on a span of the call.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..conftest import run_python

pytest.importorskip("openinference.instrumentation.openai")
pytest.importorskip("opentelemetry.instrumentation.openai_v2")

_USAGE_PREFIXES = ("gen_ai.usage.", "llm.token_count.")


def _scenario(other: str, order: str, call: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    done = run_python(["-m", "tests.interop.scenario", other, order, call], timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return [line for line in lines if "status" not in line], lines[-1]["status"]


def _usage(span: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in span["attributes"].items() if k.startswith(_USAGE_PREFIXES)}


def _ancestors(span: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> list[str]:
    names = []
    parent = span["parent"]
    while parent in by_id:
        names.append(by_id[parent]["name"])
        parent = by_id[parent]["parent"]
    return names


@pytest.mark.parametrize(
    "call",
    ["plain", "stream", "async-stream", "chat-openai", "chat-openai-stream", "llama-index-stream"],
)
@pytest.mark.parametrize("order", ["before", "after"])
@pytest.mark.parametrize("other", ["openinference", "openai-v2"])
def test_one_usage_carrying_llm_span_per_call_in_any_order(
    other: str, order: str, call: str
) -> None:
    spans, status = _scenario(other, order, call)
    by_id = {span["id"]: span for span in spans}

    assert status["openai"] == "active"  # not bypassed
    assert len({span["trace"] for span in spans}) == 1
    assert all(span["attributes"].get("session.id") == "interop-session" for span in spans)

    llm = [span for span in spans if span["attributes"].get("traceroot.span.type") == "llm"]
    assert len(llm) == 1, [(s["scope"], s["name"]) for s in spans]
    with_usage = [span for span in spans if _usage(span)]
    assert with_usage == llm
    assert llm[0]["attributes"]["gen_ai.usage.input_tokens"] == 7  # mapped if the span is not ours
    assert "gen_ai.usage.output_tokens" in llm[0]["attributes"]

    ours = [
        span
        for span in spans
        if span["scope"] == "traceroot" and span["name"] == "chat gpt-4o-mini"
    ]
    assert len(ours) == 1
    assert "echo: hello there" in ours[0]["attributes"]["gen_ai.output.messages"]
    assert _ancestors(ours[0], by_id)[-1] == "turn"
    assert _ancestors(llm[0], by_id)[-1] == "turn"
    if call.startswith("chat-openai"):
        # The provider's spans, both instrumentations', nest under traceroot's ChatOpenAI span,
        # which keeps its messages but not the usage.
        chat_model = next(
            span for span in spans if span["scope"] == "traceroot" and span["name"] == "ChatOpenAI"
        )
        assert chat_model["attributes"]["traceroot.span.type"] == "span"
        assert "echo: hello there" in chat_model["attributes"]["gen_ai.output.messages"]
        assert "ChatOpenAI" in _ancestors(ours[0], by_id)
        assert "ChatOpenAI" in _ancestors(llm[0], by_id)
    if call.startswith("llama-index"):
        # LlamaIndex's call returned a stream read after it: it is a plain span beside (or over)
        # the provider's spans, with the reply, and no usage.
        framework = next(span for span in spans if span["name"] == "OpenAI.stream_chat")
        assert framework["attributes"]["traceroot.span.type"] == "span"
        assert "echo: hello there" in framework["attributes"]["gen_ai.output.messages"]
