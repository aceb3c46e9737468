"""The exporter to the local store; the store (:mod:`traceroot.store`, its schema and its record
code) is loaded at the first export, in the export thread, not at ``instrument()``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from traceroot.logs import logger

if TYPE_CHECKING:
    from traceroot.store import SpanStore


class NotAStoreError(Exception):
    """The store path names an SQLite database of something else."""


class LocalStoreExporter(SpanExporter):
    """Writes finished spans to a :class:`~traceroot.store.SpanStore` at ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._store: SpanStore | None = None
        self._opening = threading.Lock()
        self._failed_once = False

    @property
    def store(self) -> SpanStore:
        """The store, made on first use (which opens no file: its first write does)."""
        store = self._store
        if store is None:
            with self._opening:  # a flush may export from another thread than the export thread
                store = self._store
                if store is None:
                    from traceroot.store import SpanStore

                    store = self._store = SpanStore(self.path)
        return store

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            self.store.write_spans(spans)
        except Exception as error:  # noqa: BLE001 - an export failure must not reach the app
            if not self._failed_once and isinstance(error, NotAStoreError):
                self._failed_once = True
                logger.warning("traceroot: %s", error)
            elif not self._failed_once:
                self._failed_once = True
                logger.warning(
                    "traceroot: could not write spans to %s (%s); the app keeps running",
                    self.path,
                    error,
                )
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._store is not None:
            self._store.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
