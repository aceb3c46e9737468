"""What an OpenAI endpoint module provides to the shared request wrapper.

Each method fills a dict of span attributes; the wrapper sets them on the span in one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from traceroot.genai import Attributes
from traceroot.integrations.streaming import StreamAccumulator

__all__ = ["Endpoint", "StreamAccumulator"]


class Endpoint(Protocol):
    operation: str

    def record_request(self, attributes: Attributes, body: Mapping[str, Any]) -> None: ...

    def record_response(self, attributes: Attributes, response: Any) -> None: ...

    def accumulator(self) -> StreamAccumulator: ...
