"""What an OpenAI endpoint module provides to the shared request wrapper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from opentelemetry.trace import Span


class StreamAccumulator(Protocol):
    """Gathers a stream's chunks; records what arrived when the stream ends, however it ends."""

    def add(self, chunk: Any) -> None: ...

    def record(self, span: Span) -> None: ...


class Endpoint(Protocol):
    operation: str

    def record_request(self, span: Span, body: Mapping[str, Any]) -> None: ...

    def record_response(self, span: Span, response: Any) -> None: ...

    def accumulator(self) -> StreamAccumulator: ...
