"""What ``traceroot tail`` follows: each trace as its root span reaches the store.

Traces are taken in the order their roots were *written*, by SQLite's rowid, not by when they
ended: several processes write one store, each flushing on its own schedule, so a trace that
ended earlier may arrive later. A rowid only grows, each write committing whole, so a reader that
remembers the last rowid it saw misses nothing that arrives after. Reads only (``mode=ro``),
through the store's own query function.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

from traceroot.records import StoredSpan

if TYPE_CHECKING:
    from traceroot.store import SpanStore

_PAGE: Final = 1_000
_REMEMBERED: Final = 10_000  # roots already printed, should a replay write one again


class TraceFeed:
    """Finished traces of a store, once each, as they arrive; the store may not exist yet."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._store: SpanStore | None = None
        self._after: int | None = None  # the last rowid looked at
        self._printed: OrderedDict[tuple[str, str], None] = OrderedDict()

    def ready(self) -> bool:
        """Whether the store exists with its table; on the first success, what is already in it
        counts as seen (only traces arriving from now on are new). A store that appears later
        is read from its start: all of it arrived after ``tail`` started."""
        if self._store is not None:
            return True
        if not os.path.exists(self.path):
            self._after = 0
            return False
        import sqlite3

        from traceroot.store import SpanStore

        store = SpanStore(self.path, read_only=True)
        try:
            (row,) = store.query("SELECT COALESCE(MAX(rowid), 0) AS last FROM spans")
        except sqlite3.OperationalError as error:
            store.close()
            if "no such table" in str(error) or "locked" in str(error) or "busy" in str(error):
                self._after = 0  # being created by the app right now
                return False
            raise
        if self._after is None:
            self._after = int(row["last"])
        self._store = store
        return True

    def new_traces(self) -> list[str]:
        """Ids of the traces whose root span was written since the last call, in write order."""
        store = self._store
        if store is None or self._after is None:
            return []
        rows = store.query(
            "SELECT rowid AS row_number, trace_id, span_id FROM spans "
            f"WHERE rowid > ? AND {store.root_condition()} ORDER BY rowid LIMIT ?",
            (self._after, _PAGE),
        )
        found = []
        for row in rows:
            self._after = int(row["row_number"])
            key = (row["trace_id"], row["span_id"])
            if key in self._printed:
                continue
            self._printed[key] = None
            if len(self._printed) > _REMEMBERED:
                self._printed.popitem(last=False)
            found.append(str(row["trace_id"]))
        return found

    def spans(self, trace_id: str) -> list[StoredSpan]:
        assert self._store is not None
        return self._store.spans(trace_id)
