"""What an OpenAI endpoint module provides to the shared request wrapper.

Each method fills a dict of span attributes; the wrapper sets them on the span in one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from traceroot.genai import Attributes


class StreamAccumulator(Protocol):
    """Gathers a stream's chunks; records what arrived when the stream ends, however it ends."""

    def add(self, chunk: Any) -> None: ...

    def record(self, attributes: Attributes) -> None: ...


class Endpoint(Protocol):
    operation: str

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None: ...

    def record_response(self, attributes: Attributes, response: Any) -> None: ...

    def accumulator(self) -> StreamAccumulator: ...
