"""The batching export processor, with a bounded queue that drops spans quietly and counts them.

The SDK's own processor logs a warning for every span it drops once its queue is full, which under
load is a flood exactly when the app is busiest. This one drops the newest span instead, counts
it, and warns once, with the likely cause for its destination.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from traceroot.logs import logger

REMOTE_CAUSE = "the backend is slow or down"


class BoundedBatchProcessor(BatchSpanProcessor):
    def __init__(self, *args: Any, full_queue_cause: str = REMOTE_CAUSE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dropped = 0
        self.full_queue_cause = full_queue_cause
        self._warned = False
        # Checking the queue's length and adding to it are one step: two threads ending spans at
        # once could otherwise both see one free place, and the SDK would drop the oldest span
        # without a count.
        self._enqueueing = threading.Lock()
        if hasattr(os, "register_at_fork"):
            # A fork while another thread held the lock would leave it held for good in the
            # child (a multiprocessing worker would hang at its first span): a new one there.
            renew = weakref.WeakMethod(self._renew_lock)
            os.register_at_fork(after_in_child=lambda: _call(renew))

    def _renew_lock(self) -> None:
        self._enqueueing = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        # The queue is the SDK's private state (1.3x and later); with another layout, getattr
        # finds nothing and the SDK's own handling applies unchanged.
        batch = getattr(self, "_batch_processor", None)
        queue = getattr(batch, "_queue", None)
        limit = getattr(batch, "_max_queue_size", None)
        if queue is None or limit is None:
            super().on_end(span)
            return
        with self._enqueueing:
            full = len(queue) >= limit
            if full:
                self.dropped += 1
            else:
                super().on_end(span)
        if full and not self._warned:
            self._warned = True
            logger.warning(
                "traceroot: the export queue is full, so spans are being dropped (counted in "
                "traceroot.dropped_spans()); %s, or TRACEROOT_MAX_QUEUE_SIZE is too small",
                self.full_queue_cause,
            )

    def shutdown_within(self, timeout_millis: int) -> bool:
        """Shut down waiting at most ``timeout_millis`` for the export thread (the SDK's
        ``shutdown()`` waits 30 s, and at interpreter exit there may be no thread to bound it);
        ``False`` if the export thread was still busy when the time ran out."""
        batch = getattr(self, "_batch_processor", None)
        bounded_shutdown = getattr(batch, "shutdown", None)
        if bounded_shutdown is None:
            self.shutdown()  # type: ignore[no-untyped-call,unused-ignore]
            return True
        try:
            bounded_shutdown(timeout_millis=timeout_millis)
        except TypeError:  # an SDK whose inner shutdown takes no bound
            self.shutdown()  # type: ignore[no-untyped-call,unused-ignore]
        worker = getattr(batch, "_worker_thread", None)
        return not (isinstance(worker, threading.Thread) and worker.is_alive())


def _call(method: weakref.WeakMethod[Any]) -> None:
    bound = method()
    if bound is not None:
        bound()
