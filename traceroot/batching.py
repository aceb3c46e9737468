"""The batching export processor, with a bounded queue that drops spans quietly and counts them.

The SDK's own processor logs a warning for every span it drops once its queue is full, which under
load is a flood exactly when the app is busiest. This one drops the newest span instead, counts
it, and warns once.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from traceroot.logs import logger


class BoundedBatchProcessor(BatchSpanProcessor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dropped = 0
        self._warned = False
        self._counting = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        # The queue is the SDK's private state (1.3x and later); with another layout, getattr
        # finds nothing and the SDK's own handling applies unchanged.
        batch = getattr(self, "_batch_processor", None)
        queue = getattr(batch, "_queue", None)
        limit = getattr(batch, "_max_queue_size", None)
        if queue is not None and limit is not None and len(queue) >= limit:
            self._drop()
            return
        super().on_end(span)

    def _drop(self) -> None:
        with self._counting:
            self.dropped += 1
            first = not self._warned
            self._warned = True
        if first:
            logger.warning(
                "traceroot: the export queue is full, so spans are being dropped (counted in "
                "traceroot.dropped_spans()); the backend is slow or down, or "
                "TRACEROOT_MAX_QUEUE_SIZE is too small"
            )
