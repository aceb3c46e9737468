"""Per-call cost of the OpenAI integration against a hand-written span with the same attributes.

The real ``openai`` client runs on a mocked HTTP transport (canned replies, no sockets), so the
figures are the client's own work plus instrumentation. Blocks of calls alternate in one process,
in rotating order (:func:`_common.paired`):

- bare: no span at all (the floor);
- hand-written: the cheapest span a careful engineer would write for the same attributes traceroot
  records (type, session, user, operation, provider, model, parameters, server, messages, usage,
  finish reasons, output): a tracer of a plain SDK provider with no traceroot processor, the
  request's attributes given at start and the response's in one ``set_attributes`` call;
- traceroot: ``traceroot.instrument(integrations=["openai"])``, inside a ``using_attributes``
  block.

Cases: a plain chat call; a streamed one (20 text chunks, then the usage chunk); a 50-message
conversation (about 6 KB of messages). Budget: traceroot at most 1.3x the hand-written span
(issue 19; issue 15's bound was 1.5x), 1.5x for the long conversation.

    python benchmarks/openai_overhead.py [--calls 20 --rounds 40]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from _common import Variant, paired, plain_tracer, print_against_hand, set_up_tracing

import traceroot
from traceroot import semconv

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the answer to everything?"},
]
# A long conversation: 50 turns of about 120 characters.
CONVERSATION = [MESSAGES[0]] + [
    {
        "role": "user" if turn % 2 else "assistant",
        "content": f"Turn {turn}: " + "a sentence of an ongoing conversation, " * 3,
    }
    for turn in range(1, 50)
]
REPLY = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-bench",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "The answer is 42."},
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }
).encode()


def _stream_body() -> bytes:
    base = {
        "id": "chatcmpl-2",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-bench",
    }
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    events += [
        {**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "}}]} for i in range(20)
    ]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 12, "completion_tokens": 20, "total_tokens": 32}
    events.append({**base, "choices": [], "usage": usage})
    lines = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


STREAM_BODY = _stream_body()


def mocked_client() -> Any:
    import openai
    import openai._base_client as base_client

    # openai 1.x and 2.x are built on httpx, later majors on its successor httpx2.
    http_module = getattr(base_client, "httpx2", None) or base_client.httpx

    def handler(request: Any) -> Any:
        streaming = b'"stream":true' in request.content.replace(b" ", b"")
        if streaming:
            headers = {"content-type": "text/event-stream"}
            return http_module.Response(200, headers=headers, content=STREAM_BODY)
        return http_module.Response(
            200, headers={"content-type": "application/json"}, content=REPLY
        )

    http_client = openai.DefaultHttpxClient(transport=http_module.MockTransport(handler))
    return openai.OpenAI(
        api_key="sk-bench",
        base_url="http://bench.invalid/v1",
        http_client=http_client,
        max_retries=0,
    )


SESSION = {semconv.SESSION_ID: "bench", semconv.USER_ID: "u"}


def input_parts(messages: list[dict[str, str]]) -> str:
    parts = [
        {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]} for m in messages
    ]
    return json.dumps(parts)


def request_attributes(client: Any, messages: list[dict[str, str]], stream: bool) -> dict[str, Any]:
    return {
        **SESSION,
        semconv.SPAN_TYPE: "llm",
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-bench",
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        semconv.GEN_AI_REQUEST_STREAM: stream,
        semconv.SERVER_ADDRESS: client.base_url.host,
        semconv.GEN_AI_INPUT_MESSAGES: input_parts(messages),
    }


def response_attributes(
    response_id: str, model: str, text: str, reason: str, usage: Any
) -> dict[str, Any]:
    output = {
        "role": "assistant",
        "parts": [{"type": "text", "content": text}],
        "finish_reason": reason,
    }
    return {
        semconv.GEN_AI_RESPONSE_ID: response_id,
        semconv.GEN_AI_RESPONSE_MODEL: model,
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: [reason],
        semconv.GEN_AI_USAGE_INPUT_TOKENS: usage.prompt_tokens,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: usage.completion_tokens,
        semconv.GEN_AI_OUTPUT_MESSAGES: json.dumps([output]),
    }


def cases(client: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Each case's uninstrumented call and its hand-written counterpart."""
    tracer = plain_tracer()

    def chat(messages: list[dict[str, str]]) -> Callable[[], Any]:
        return lambda: client.chat.completions.create(
            model="gpt-bench", messages=messages, temperature=0.2
        )

    def hand_chat(messages: list[dict[str, str]]) -> Callable[[], Any]:
        call = chat(messages)

        def hand() -> Any:
            attributes = request_attributes(client, messages, False)
            with tracer.start_as_current_span("chat gpt-bench", attributes=attributes) as span:
                result = call()
                choice = result.choices[0]
                text, reason = choice.message.content, choice.finish_reason
                span.set_attributes(
                    response_attributes(result.id, result.model, text, reason, result.usage)
                )
                return result

        return hand

    def stream() -> list[Any]:
        chunks = client.chat.completions.create(
            model="gpt-bench",
            messages=MESSAGES,
            temperature=0.2,
            stream=True,
            stream_options={"include_usage": True},
        )
        return list(chunks)

    def hand_stream() -> list[Any]:
        attributes = request_attributes(client, MESSAGES, True)
        with tracer.start_as_current_span("chat gpt-bench", attributes=attributes) as span:
            chunks, text, reason, usage, first = [], [], "", None, None
            for chunk in stream():
                first = first or chunk
                chunks.append(chunk)
                for choice in chunk.choices:
                    text.append(choice.delta.content or "")
                    reason = choice.finish_reason or reason
                usage = chunk.usage or usage
            span.set_attributes(
                response_attributes(first.id, first.model, "".join(text), reason, usage)
            )
            return chunks

    return {
        "chat": (chat(MESSAGES), hand_chat(MESSAGES)),
        "stream": (stream, hand_stream),
        "chat, 50 messages": (chat(CONVERSATION), hand_chat(CONVERSATION)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    set_up_tracing()
    client = mocked_client()
    print("OpenAI chat call, real client on a mocked transport (CPU per call, medians)")
    with traceroot.using_attributes(session_id="bench", user_id="u"):
        for label, (bare, hand) in cases(client).items():
            ours = Variant(
                bare,
                on=lambda: traceroot.instrument(integrations=["openai"]),
                off=traceroot.uninstrument,
            )
            floor, overheads = paired(
                bare, {"hand": Variant(hand), "traceroot": ours}, args.calls, args.rounds
            )
            print_against_hand(label, floor, overheads)


if __name__ == "__main__":
    main()
