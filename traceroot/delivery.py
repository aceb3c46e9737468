"""The outermost exporter: bounds each span, splits a batch refused as too large, counts failures.

The SDK's batch processor ignores what its exporter returns, so without this nothing would know
that a batch was refused (401, 413, 500) or could not be written (a store that is a directory or
read-only): ``flush()`` would say all went well. Every span that did not reach its destination is
counted here, and ``flush()`` compares the count before and after.

The HTTP status of the last request comes from a response hook on the OTLP exporter's session
(``requests`` hooks are public API, and the exporter takes a session in every supported
version), so a 401 can name the setting to check and a 413 can be retried in halves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from traceroot.bounds import bounded
from traceroot.logs import warn_once

if TYPE_CHECKING:
    import requests

_TOO_LARGE: Final = 413
_UNAUTHORIZED: Final = (401, 403)


class StatusSession:
    """Builds the ``requests`` session an OTLP exporter sends with, remembering the last status."""

    def __init__(self) -> None:
        self.last_status: int | None = None

    def session(self) -> requests.Session:
        import requests

        session = requests.Session()
        session.hooks["response"].append(self._record)
        return session

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_status = response.status_code


class DeliveringExporter(SpanExporter):
    """Hands ``exporter`` bounded spans and counts the spans it did not deliver."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        budget: int,
        statuses: StatusSession | None = None,
        credentials_setting: str | None = None,
    ) -> None:
        self.exporter = exporter
        self.budget = budget
        self.statuses = statuses
        self.credentials_setting = credentials_setting
        self.failures = 0
        self._counting = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            batch = [bounded(span, self.budget) for span in spans]
        except Exception as error:  # noqa: BLE001 - a span it cannot read is sent as it is
            warn_once("bounds:failed", "traceroot: could not bound a span's texts (%r)", error)
            batch = list(spans)
        return self._deliver(batch)

    def _deliver(self, batch: list[ReadableSpan]) -> SpanExportResult:
        if self.statuses is not None:
            self.statuses.last_status = None
        try:
            result = self.exporter.export(batch)
        except Exception as error:  # noqa: BLE001 - an exporter's error must not reach the app
            warn_once("export:raised", "traceroot: the exporter raised %r", error)
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            return result
        status = self.statuses.last_status if self.statuses is not None else None
        if status == _TOO_LARGE and len(batch) > 1:
            # One huge span must not take the small ones down with it: halves until the
            # refused span is alone.
            middle = len(batch) // 2
            first = self._deliver(batch[:middle])
            second = self._deliver(batch[middle:])
            both = first is SpanExportResult.SUCCESS and second is SpanExportResult.SUCCESS
            return SpanExportResult.SUCCESS if both else SpanExportResult.FAILURE
        if status in _UNAUTHORIZED and self.credentials_setting is not None:
            warn_once(
                "export:unauthorized",
                "traceroot: the backend refused the spans as unauthorized (HTTP %s): check %s",
                status,
                self.credentials_setting,
            )
        with self._counting:
            self.failures += len(batch)
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


class RepeatFilter(logging.Filter):
    """Lets one record of each message template through: the OTLP exporter logs an error for
    every failed batch, the same line over and over while a backend refuses."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        key = (str(record.msg), str(args[:2]))  # the template and its first values (the status)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True
