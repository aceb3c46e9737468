"""The scripted OpenAI server, answering streams as Groq does: the last chunk carries the token
usage under ``x_groq`` (Groq's own extension), not as a chunk of its own.

Everything else (paths, models, errors, cut streams) is the OpenAI server's: Groq's paths
(``/openai/v1/chat/completions``) end as OpenAI's do, and its handler routes by the path's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

from .local_http import serve
from .openai_server import OpenAIServer, _Handler, _last_user_text, _usage, chat_reply


class _GroqHandler(_Handler):
    def _sse(self, events: Iterator[tuple[str | None, dict[str, Any]]]) -> None:
        body = self.server.recorded[-1].body
        super()._sse(_with_x_groq(events, body))


def _with_x_groq(
    events: Iterator[tuple[str | None, dict[str, Any]]], body: dict[str, Any]
) -> Iterator[tuple[str | None, dict[str, Any]]]:
    for event, payload in events:
        if any(choice.get("finish_reason") for choice in payload.get("choices") or ()):
            message, _ = chat_reply(body)
            usage = _usage(_last_user_text(body), message.get("content") or "")
            payload = {**payload, "x_groq": {"id": "req_test_1", "usage": usage}}
        yield event, payload


def start_groq_server() -> tuple[OpenAIServer, ThreadingHTTPServer]:
    """The server, and the ``base_url`` a ``Groq`` client takes (it adds ``/openai/v1``)."""
    server, recorded, port = serve(_GroqHandler)
    return OpenAIServer(f"http://127.0.0.1:{port}", recorded), server
