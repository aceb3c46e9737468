"""The embedded local store: finished spans in a SQLite file, so a first run needs no server.

One row per span, with the trace, parent, session and user as indexed columns. WAL mode and a busy
timeout let several processes write the same file at once. The file is created readable by its
owner only: spans hold prompts and outputs.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from traceroot.logs import logger
from traceroot.records import StoredSpan, stored

if TYPE_CHECKING:
    import sqlite3

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS spans (
    trace_id       TEXT    NOT NULL,
    span_id        TEXT    NOT NULL,
    parent_id      TEXT,
    name           TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    start_ns       INTEGER NOT NULL,
    end_ns         INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    status_message TEXT,
    session_id     TEXT,
    user_id        TEXT,
    service_name   TEXT,
    model          TEXT,
    input_tokens   INTEGER,
    output_tokens  INTEGER,
    attributes     TEXT    NOT NULL,
    events         TEXT    NOT NULL,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_by_session ON spans (session_id, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_user ON spans (user_id, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_start ON spans (start_ns);
"""
_COLUMNS: Final = (  # in the order of StoredSpan's fields
    "trace_id, span_id, parent_id, name, kind, start_ns, end_ns, status, status_message, "
    "session_id, user_id, service_name, model, input_tokens, output_tokens, attributes, events"
)
_INSERT: Final = f"INSERT OR REPLACE INTO spans ({_COLUMNS}) VALUES ({', '.join('?' * 17)})"
_BUSY_TIMEOUT_MS: Final = 10_000
_WRITE_ATTEMPTS: Final = 5
_READ_TIMEOUT_S: Final = 2.0  # a reader waiting on a writer's lock gives up, and says so, soon


_inherited: list[Any] = []  # connections inherited across a fork: left alone on purpose


def _release_and_reopen_across_forks(store: SpanStore) -> None:
    """Fork only between writes, and give the child a connection of its own. Weakly held: a
    dropped store is not kept alive by the fork hooks."""
    ref = weakref.ref(store)

    def before() -> None:
        if (alive := ref()) is not None:
            alive._lock.acquire()

    def after_in_parent() -> None:
        if (alive := ref()) is not None:
            alive._lock.release()

    def after_in_child() -> None:
        if (alive := ref()) is not None:
            alive._after_fork()

    os.register_at_fork(
        before=before, after_in_parent=after_in_parent, after_in_child=after_in_child
    )


class SpanStore:
    """A SQLite file of spans. Safe to share between threads; several processes may write it."""

    def __init__(self, path: str, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._refused: NotAStoreError | None = None
        if not read_only and hasattr(os, "register_at_fork"):
            _release_and_reopen_across_forks(self)

    def _after_fork(self) -> None:
        # Forking waits for a write in progress to finish (the lock is taken before the fork), so
        # SQLite holds no lock the child could inherit. A connection must still not cross a fork:
        # the child opens its own, and keeps the parent's unused and unclosed (closing it would
        # touch file locks that belong to the parent).
        self._lock = threading.Lock()
        if self._connection is not None:
            _inherited.append(self._connection)
        self._connection = None

    def _connect(self) -> sqlite3.Connection:
        connection = self._connection
        if self._refused is not None:
            raise self._refused
        if connection is None:
            import sqlite3  # here, not at start-up: the first export runs in the export thread

            if self.read_only:
                # Readers (the CLI) must not create a store, nor change one.
                uri = f"file:{os.path.abspath(self.path)}?mode=ro"
                connection = sqlite3.connect(
                    uri, uri=True, timeout=_READ_TIMEOUT_S, check_same_thread=False
                )
                connection.execute("SELECT 1 FROM spans LIMIT 1")
            else:
                _create_private_file(self.path)
                connection = sqlite3.connect(
                    self.path, timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False
                )
                connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                try:
                    _refuse_foreign_database(connection, self.path)
                except BaseException as error:
                    connection.close()
                    if isinstance(error, NotAStoreError):
                        self._refused = error  # not looked at again on every export
                    raise
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
                connection.executescript(_SCHEMA)
            self._connection = connection
        return connection

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows in one transaction, retrying while another process holds the lock."""
        import sqlite3

        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with self._lock:
                    connection = self._connect()
                    with connection:
                        connection.executemany(_INSERT, rows)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if attempt == _WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)

    def query(self, sql: str, parameters: Iterable[Any] = ()) -> list[sqlite3.Row]:
        import sqlite3

        with self._lock:
            connection = self._connect()
            connection.row_factory = sqlite3.Row
            try:
                return list(connection.execute(sql, tuple(parameters)))
            finally:
                connection.row_factory = None

    def spans(self, trace_id: str) -> list[StoredSpan]:
        """Every span of a trace, by start time; ``trace_id`` may be a unique prefix."""
        rows = self.query(
            f"SELECT {_COLUMNS} FROM spans WHERE trace_id LIKE ? ORDER BY start_ns",
            (trace_id.lower() + "%",),
        )
        return [_stored(row) for row in rows]

    def traces(
        self, *, session_id: str | None = None, user_id: str | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Recent traces, newest first: id, root name, session, user, span count, time, tokens."""
        where, parameters = [], []
        if session_id is not None:
            where.append("session_id = ?")
            parameters.append(session_id)
        if user_id is not None:
            where.append("user_id = ?")
            parameters.append(user_id)
        clause = (
            f"WHERE trace_id IN (SELECT trace_id FROM spans WHERE {' AND '.join(where)})"
            if where
            else ""
        )
        rows = self.query(
            f"""
            SELECT trace_id,
                   (SELECT name FROM spans r WHERE r.trace_id = s.trace_id
                    ORDER BY (r.parent_id IS NOT NULL), r.start_ns LIMIT 1) AS root_name,
                   MAX(session_id) AS session_id, MAX(user_id) AS user_id,
                   COUNT(*) AS span_count, MIN(start_ns) AS start_ns, MAX(end_ns) AS end_ns,
                   SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)) AS tokens,
                   SUM(status = 'ERROR') AS errors
            FROM spans s {clause}
            GROUP BY trace_id ORDER BY start_ns DESC LIMIT ?
            """,
            [*parameters, limit],
        )
        return [dict(row) for row in rows]

    def sessions(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """Sessions, most recently active first: traces, first and last seen, tokens, errors."""
        rows = self.query(
            """
            SELECT session_id, COUNT(DISTINCT trace_id) AS traces,
                   MIN(start_ns) AS first_ns, MAX(end_ns) AS last_ns,
                   SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)) AS tokens,
                   SUM(status = 'ERROR') AS errors
            FROM spans WHERE session_id IS NOT NULL
            GROUP BY session_id ORDER BY last_ns DESC LIMIT ?
            """,
            (limit,),
        )
        return [dict(row) for row in rows]

    def trace_ids(self, prefix: str) -> list[str]:
        """The trace ids starting with ``prefix`` (at most a few)."""
        rows = self.query(
            "SELECT DISTINCT trace_id FROM spans WHERE trace_id LIKE ? LIMIT 5",
            (prefix.lower() + "%",),
        )
        return [row["trace_id"] for row in rows]

    def traces_ended_after(self, end_ns: int) -> list[str]:
        """Traces whose root span ended after ``end_ns``, oldest first."""
        rows = self.query(
            "SELECT trace_id, end_ns FROM spans WHERE parent_id IS NULL AND end_ns > ? "
            "ORDER BY end_ns",
            (end_ns,),
        )
        return [row["trace_id"] for row in rows]

    def all_spans(self) -> list[StoredSpan]:
        rows = self.query(f"SELECT {_COLUMNS} FROM spans ORDER BY start_ns")
        return [_stored(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class NotAStoreError(Exception):
    """The store path names an SQLite database of something else."""


_SPAN_COLUMNS: Final = frozenset(name.strip() for name in _COLUMNS.split(","))


def _refuse_foreign_database(connection: sqlite3.Connection, path: str) -> None:
    """An existing database that is not a traceroot store is left exactly as it is: no tables
    added, its journal mode kept. An empty file (a new store) is not refused."""
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    if not tables:
        return
    columns = {row[1] for row in connection.execute("PRAGMA table_info(spans)")}
    if columns >= _SPAN_COLUMNS:
        return
    shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
    raise NotAStoreError(
        f"{path} is an SQLite database that is not a traceroot store (its tables: {shown}); "
        "traceroot leaves it untouched and stores no spans there: point TRACEROOT_STORE_PATH "
        "(store_path) at a new file"
    )


def _create_private_file(path: str) -> None:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(descriptor)


def _stored(row: sqlite3.Row) -> StoredSpan:
    """A row read back as a record."""
    values = dict(row)
    values["attributes"] = json.loads(values["attributes"])
    values["events"] = json.loads(values["events"])
    return StoredSpan(**values)


def span_row(span: ReadableSpan) -> tuple[Any, ...]:
    """The row for one finished span: its record, attributes and events as JSON."""
    row = stored(span)
    return (
        *row[:15],
        json.dumps(row.attributes, default=list),
        json.dumps(row.events, default=list),
    )


class LocalStoreExporter(SpanExporter):
    """Writes finished spans to a :class:`SpanStore`."""

    def __init__(self, path: str) -> None:
        self.store = SpanStore(path)
        self._failed_once = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            self.store.write([span_row(span) for span in spans])
        except Exception as error:  # noqa: BLE001 - an export failure must not reach the app
            if not self._failed_once and isinstance(error, NotAStoreError):
                self._failed_once = True
                logger.warning("traceroot: %s", error)
            elif not self._failed_once:
                self._failed_once = True
                logger.warning(
                    "traceroot: could not write spans to %s (%s); the app keeps running",
                    self.store.path,
                    error,
                )
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.store.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
