"""What the Groq client supplies to the shared ``request`` wrappers
(:mod:`traceroot.integrations.client_requests`): its chat endpoint, read as Chat Completions with
the usage of a stream in ``x_groq``, and how a raw response is read: one whose body the caller
has yet to read keeps its span open until it does.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Mapping
from typing import Any, Final

import wrapt
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.genai import Attributes
from traceroot.integrations import chat_completions, client_requests
from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.integrations.client_requests import Call
from traceroot.integrations.streaming import StreamAccumulator

CHAT_PATH: Final = "/openai/v1/chat/completions"
# What Groq's chat endpoint takes besides model, messages and tools.
PARAMETERS: Final = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "response_format",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning_effort",
    "reasoning_format",
    "service_tier",
)


class _GroqChat:
    """Groq's chat endpoint, read as Chat Completions."""

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None:
        chat_completions.record_request(attributes, body, PARAMETERS)

    def record_response(self, attributes: Attributes, response: Any) -> None:
        chat_completions.record_response(attributes, response)

    def accumulator(self) -> StreamAccumulator:
        return GroqChatStream()


_CHAT: Final = _GroqChat()


class _Groq(client_requests.StainlessClient):
    awaits_parse = True  # an async raw response's parse() is a coroutine

    def endpoint(self, url: Any) -> _GroqChat | None:
        return _CHAT if url == CHAT_PATH else None

    def start(self, endpoint: Any, model: str | None, client: Any, attributes: Attributes) -> Span:
        return genai.start_llm_span(
            semconv.OPERATION_CHAT, model, provider=semconv.PROVIDER_GROQ, attributes=attributes
        )

    def handed_over(self, call: Call, result: Any, *, is_async: bool) -> Any:
        """Also an unstreamed ``with_streaming_response``, whose span stays open until the caller
        reads the body."""
        proxy = super().handed_over(call, result, is_async=is_async)
        if proxy is None and _raw(result) and not _read_body(result):
            return UnreadResponse(result, call)
        return proxy

    def parsed(self, result: Any) -> Any:
        return result.parse() if _raw(result) else result


_CLIENT: Final = _Groq("groq")


class GroqChatStream(chat_completions.ChatStream):
    """A streamed Groq chat completion: the usage comes in the last chunk's ``x_groq``."""

    def add(self, chunk: Any) -> None:
        super().add(chunk)
        usage = getattr(getattr(chunk, "x_groq", None), "usage", None)
        if usage is not None:
            self.usage = usage


def _raw(result: Any) -> bool:
    """``with_raw_response`` (body read, unless streamed) or ``with_streaming_response`` (body
    unread): the HTTP response, whose ``parse()`` is cached, so the caller's own gets the same
    object."""
    return hasattr(result, "http_response") and hasattr(result, "parse")


def _read_body(result: Any) -> bool:
    # A body still streaming belongs to the caller: reading it here would consume it.
    return bool(getattr(result.http_response, "is_closed", False))


def sync_request(integration: BaseIntegration) -> Wrapper:
    return client_requests.sync_request(_CLIENT)


def async_request(integration: BaseIntegration) -> Wrapper:
    return client_requests.async_request(_CLIENT)


class UnreadResponse(wrapt.ObjectProxy):  # type: ignore[type-arg,misc,unused-ignore]
    """The response of an unstreamed call made through ``with_streaming_response``: its body is
    the caller's to read, so the span stays open until the caller parses it, and then records the
    completion and ends. Closed (leaving the ``with`` block) or dropped unparsed, or read another
    way (``read()``, ``json()``, ``iter_lines()``), it ends without the response.
    """

    def __init__(self, wrapped: Any, call: Call) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_done = threading.Lock()

    def __del__(self) -> None:
        try:
            self._self_end(None)
        except Exception:  # noqa: BLE001 - from the garbage collector: nothing to report to
            pass

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        # Only the default parse is a chat completion; ``parse(to=...)`` may be anything.
        default = not args and kwargs.get("to") is None
        try:
            parsed = self.__wrapped__.parse(*args, **kwargs)
        except BaseException as error:
            self._self_fail(error)
            raise
        # By the result, not the client: parse() is a coroutine on the async client only.
        if inspect.isawaitable(parsed):
            return self._self_parse_async(parsed, default)
        self._self_end(parsed if default else None)
        return parsed

    async def _self_parse_async(self, parsing: Any, default: bool) -> Any:
        try:
            parsed = await parsing
        except BaseException as error:
            self._self_fail(error)
            raise
        self._self_end(parsed if default else None)
        return parsed

    def close(self) -> Any:
        try:
            closing = self.__wrapped__.close()
        except BaseException:
            self._self_end(None)
            raise
        if inspect.isawaitable(closing):
            return self._self_close_async(closing)
        self._self_end(None)
        return closing

    async def _self_close_async(self, closing: Any) -> Any:
        try:
            return await closing
        finally:
            self._self_end(None)

    def _self_end(self, parsed: Any) -> None:
        if self._self_done.acquire(blocking=False):
            _CLIENT.end(self._self_call, parsed)

    def _self_fail(self, error: BaseException) -> None:
        if self._self_done.acquire(blocking=False):
            _CLIENT.fail(self._self_call, error)
