"""Streamed completions: a transparent proxy around LiteLLM's ``CustomStreamWrapper``.

The caller gets the same chunks, in order. The span ends exactly once: when the stream is
exhausted, raises, is closed, leaves its ``with`` block, or is garbage-collected unfinished; a
stream that stopped early is marked partial and keeps what arrived.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import wrapt
from opentelemetry.trace import Span

from traceroot import genai, semconv
from traceroot.genai import Attributes
from traceroot.guard import contained
from traceroot.integrations.litellm import messages

_accumulating = contained("litellm.stream.chunk")
_recording = contained("litellm.stream.end")


class _Choice:
    __slots__ = ("calls", "finish_reason", "reasoning", "role", "text")

    def __init__(self) -> None:
        self.role: object = None
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: object = None

    def message(self) -> dict[str, Any]:
        return {
            "role": self.role or "assistant",
            "content": "".join(self.text) or None,
            "reasoning_content": "".join(self.reasoning) or None,
            "tool_calls": [
                {
                    "id": call["id"],
                    "function": {"name": call["name"], "arguments": "".join(call["arguments"])},
                }
                for _, call in sorted(self.calls.items())
            ],
        }


class ChatStream:
    """Rebuilds the choices of a streamed completion from LiteLLM's chunks."""

    def __init__(self) -> None:
        self.first: Any = None
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}

    def add(self, chunk: Any) -> None:
        # Once per chunk: plain getattr on LiteLLM's chunk objects.
        if self.first is None:
            self.first = chunk
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        for choice_chunk in getattr(chunk, "choices", None) or ():
            index = getattr(choice_chunk, "index", 0) or 0
            choice = self.choices.get(index)
            if choice is None:
                choice = self.choices[index] = _Choice()
            delta = getattr(choice_chunk, "delta", None)
            content = getattr(delta, "content", None)
            if content:
                choice.text.append(content)
            reasoning = getattr(delta, "reasoning_content", None)
            if reasoning:
                choice.reasoning.append(reasoning)
            role = getattr(delta, "role", None)
            if role:
                choice.role = role
            calls = getattr(delta, "tool_calls", None)
            if calls:
                _add_tool_calls(choice, calls)
            reason = getattr(choice_chunk, "finish_reason", None)
            if reason:
                choice.finish_reason = reason

    def record(self, attributes: Attributes, stream: Any) -> None:
        if self.first is not None:
            messages.record_identity(attributes, self.first)
        # Without ``stream_options={"include_usage": True}`` LiteLLM keeps the provider's usage
        # from the caller, but holds the chunk it came in among the ones it logs.
        messages.record_usage(attributes, self.usage or _held_usage(stream))
        ordered = [self.choices[index] for index in sorted(self.choices)]
        messages.record_finish_reasons(attributes, [choice.finish_reason for choice in ordered])
        outputs = [messages.output_message(c.message(), c.finish_reason) for c in ordered]
        if outputs:
            genai.set_content(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, outputs)


def _held_usage(stream: Any) -> Any:
    held = getattr(stream, "chunks", None)
    if not isinstance(held, list):
        return None
    for chunk in reversed(held[-4:]):
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            return usage
    return None


def _add_tool_calls(choice: _Choice, calls: Any) -> None:
    for call in calls:
        index = genai.field(call, "index") or 0
        entry = choice.calls.get(index)
        if entry is None:
            entry = choice.calls[index] = {"id": None, "name": None, "arguments": []}
        function = genai.field(call, "function")
        entry["id"] = genai.field(call, "id") or entry["id"]
        entry["name"] = genai.field(function, "name") or entry["name"]
        arguments = genai.field(function, "arguments")
        if arguments:
            entry["arguments"].append(arguments)


class StreamRecorder:
    """Collects one stream's chunks into its span and ends the span once."""

    __slots__ = ("_done", "_started", "accumulator", "exhausted", "first_chunk_after", "span")

    def __init__(self, span: Span, started: float) -> None:
        self.span = span
        self.accumulator = ChatStream()
        self._started = started
        self._done = threading.Lock()
        self.first_chunk_after: float | None = None
        self.exhausted = False

    def chunk(self, chunk: Any) -> None:
        try:
            if self.first_chunk_after is None:
                self.first_chunk_after = time.monotonic() - self._started
            self.accumulator.add(chunk)
        except Exception as error:  # noqa: BLE001 - once per chunk: no with-block on this path
            _accumulating.failed(error)

    def finish(self, stream: Any, error: BaseException | None = None) -> None:
        if not self._done.acquire(blocking=False):
            return  # already ended
        attributes: Attributes = {}
        with _recording:
            if self.first_chunk_after is not None:
                attributes[semconv.LLM_TIME_TO_FIRST_CHUNK] = self.first_chunk_after
            if not self.exhausted:
                attributes[semconv.LLM_STREAM_PARTIAL] = True
            self.accumulator.record(attributes, stream)
        genai.set_final(self.span, attributes)
        with _recording:
            if error is not None and not isinstance(error, GeneratorExit):
                genai.record_error(self.span, error)
        self.span.end()


class _StreamProxy(wrapt.ObjectProxy):  # type: ignore[type-arg,misc,unused-ignore]
    def __init__(self, wrapped: Any, recorder: StreamRecorder) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder

    def __del__(self) -> None:
        # Dropped unfinished (an early break, an exception in the caller): end the span now.
        try:
            self._self_recorder.finish(self.__wrapped__)
        except Exception:  # noqa: BLE001 - nothing can be reported safely from a finalizer
            pass

    def _self_finish(self, error: BaseException | None = None) -> None:
        self._self_recorder.finish(self.__wrapped__, error)


class SyncStream(_StreamProxy):
    """Stands in for the ``CustomStreamWrapper`` that ``litellm.completion`` returns."""

    def __iter__(self) -> SyncStream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            self._self_recorder.exhausted = True
            self._self_finish()
            raise
        except BaseException as error:
            self._self_finish(error)
            raise
        self._self_recorder.chunk(chunk)
        return chunk

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_finish()

    def __enter__(self) -> SyncStream:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, exc_type: Any, error: BaseException | None, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, error, tb)
        finally:
            self._self_finish(error)


class AsyncStream(_StreamProxy):
    """Stands in for the ``CustomStreamWrapper`` that ``litellm.acompletion`` returns."""

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            self._self_recorder.exhausted = True
            self._self_finish()
            raise
        except BaseException as error:
            self._self_finish(error)
            raise
        self._self_recorder.chunk(chunk)
        return chunk

    async def aclose(self) -> None:
        try:
            await self.__wrapped__.aclose()
        finally:
            self._self_finish()

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_finish()

    async def __aenter__(self) -> AsyncStream:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, error: BaseException | None, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, error, tb)
        finally:
            self._self_finish(error)
