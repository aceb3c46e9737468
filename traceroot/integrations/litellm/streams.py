"""Streamed completions: LiteLLM's ``CustomStreamWrapper`` behind the shared stream proxies
(:mod:`traceroot.integrations.streaming`), its chunks read as Chat Completions chunks with
``reasoning_content``."""

from __future__ import annotations

from typing import Any

from traceroot.genai import Attributes
from traceroot.integrations import chat_completions, streaming
from traceroot.integrations.litellm import messages


class ChatStream(chat_completions.ChatStream):
    """Rebuilds the choices of a streamed completion from LiteLLM's chunks."""

    reasoning_field = "reasoning_content"

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream

    def record(self, attributes: Attributes) -> None:
        # Without ``stream_options={"include_usage": True}`` LiteLLM keeps the provider's usage
        # from the caller, but holds the chunk it came in among the ones it logs.
        if self.usage is None:
            self.usage = _held_usage(self._stream)
        super().record(attributes)
        messages.drop_unknown_reasoning(attributes)

    def output_message(self, message: dict[str, Any], finish_reason: object) -> dict[str, Any]:
        return messages.output_message(message, finish_reason)


def _held_usage(stream: Any) -> Any:
    held = getattr(stream, "chunks", None)
    if not isinstance(held, list):
        return None
    for chunk in reversed(held[-4:]):
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            return usage
    return None


class AsyncStream(streaming.AsyncGeneratorStream):
    """Stands in for the ``CustomStreamWrapper`` that ``litellm.acompletion`` returns: one class
    for both kinds of stream, so it also closes synchronously."""

    __slots__ = ()

    def close(self) -> None:  # type: ignore[override]
        try:
            self.__wrapped__.close()
        finally:
            self._self_recorder.finish()
