"""The embedded local store: finished spans in a SQLite file, so a first run needs no server.

One row per span, with the trace, parent, session and user as indexed columns. The whole span is
kept: its OpenTelemetry kind, events, links and trace state in its row, and its resource and
instrumentation scope each written once to their own table (``resources``, ``scopes``), keyed by
a hash of their content and referenced from the row, so 100k spans of one process do not repeat
them. WAL mode and a busy timeout let several processes write the same file at once. The file is
created readable by its owner only: spans hold prompts and outputs.

Schema versions (``PRAGMA user_version``): 0, the first, kept only what ``_LEGACY_COLUMNS`` names;
1 adds ``_ADDED_COLUMNS`` and the two tables. A writer migrates an older file in place when it
opens it (added columns only, so older readers still read it); a read-only open (the CLI) reads an
older file as it is, the added fields empty.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.sdk.trace import ReadableSpan

from traceroot.records import StoredSpan, scope_record, stored
from traceroot.store_exporter import NotAStoreError

if TYPE_CHECKING:
    import sqlite3

    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

_SCHEMA_VERSION: Final = 1
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
    span_kind      TEXT,
    resource_id    INTEGER,
    scope_id       INTEGER,
    links          TEXT,
    trace_state    TEXT,
    trace_flags    INTEGER,
    parent_is_remote INTEGER,
    PRIMARY KEY (trace_id, span_id)
);
CREATE TABLE IF NOT EXISTS resources (
    id         INTEGER PRIMARY KEY,
    attributes TEXT NOT NULL,
    schema_url TEXT
);
CREATE TABLE IF NOT EXISTS scopes (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    version    TEXT,
    schema_url TEXT,
    attributes TEXT
);
CREATE INDEX IF NOT EXISTS spans_by_session ON spans (session_id, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_user ON spans (user_id, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_start ON spans (start_ns);
"""
_COLUMNS: Final = (  # the first schema's, in the order of StoredSpan's first fields
    "trace_id, span_id, parent_id, name, kind, start_ns, end_ns, status, status_message, "
    "session_id, user_id, service_name, model, input_tokens, output_tokens, attributes, events"
)
_ADDED_COLUMNS: Final = (  # schema 1, each added to an older file by ALTER TABLE
    ("span_kind", "TEXT"),
    ("resource_id", "INTEGER"),
    ("scope_id", "INTEGER"),
    ("links", "TEXT"),
    ("trace_state", "TEXT"),
    ("trace_flags", "INTEGER"),
    ("parent_is_remote", "INTEGER"),
)
_ADDED: Final = ", ".join(name for name, _ in _ADDED_COLUMNS)
_RECORD_COLUMNS: Final = f"{_COLUMNS}, {_ADDED}"
_LEGACY_RECORD_COLUMNS: Final = _COLUMNS + "".join(
    f", NULL AS {name}" for name, _ in _ADDED_COLUMNS
)
_INSERT: Final = f"INSERT OR REPLACE INTO spans ({_COLUMNS}) VALUES ({', '.join('?' * 17)})"
_INSERT_SPAN: Final = (
    f"INSERT OR REPLACE INTO spans ({_RECORD_COLUMNS}) "
    f"VALUES ({', '.join('?' * (17 + len(_ADDED_COLUMNS)))})"
)
_INSERT_RESOURCE: Final = (
    "INSERT OR IGNORE INTO resources (id, attributes, schema_url) VALUES (?, ?, ?)"
)
_INSERT_SCOPE: Final = (
    "INSERT OR IGNORE INTO scopes (id, name, version, schema_url, attributes) "
    "VALUES (?, ?, ?, ?, ?)"
)
_CACHED: Final = 4_096  # distinct resources or scopes remembered; past it, the cache restarts
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
        self._current = False  # the file has this schema's columns (a writer adds them on open)
        self._resources: dict[int, tuple[dict[str, Any] | None, str | None]] = {}
        self._scopes: dict[int, dict[str, Any] | None] = {}
        self._rows = _SpanRows()
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
                # Readers (the CLI) must not create a store, nor change one: an older file is
                # read as it is.
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
                try:
                    connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                    _refuse_foreign_database(connection, self.path)
                    connection.execute("PRAGMA journal_mode = WAL")
                    connection.execute("PRAGMA synchronous = NORMAL")
                    connection.executescript(_SCHEMA)
                    _migrate(connection)
                except BaseException as error:
                    connection.close()
                    if isinstance(error, NotAStoreError):
                        self._refused = error  # not looked at again on every export
                    raise
                self._current = True
            self._connection = connection
        return connection

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows of the first schema's columns (``_COLUMNS``, attributes and events as
        JSON text) in one transaction; the fields added later are left empty."""
        self._write(((_INSERT, rows),))

    def write_spans(self, spans: Sequence[ReadableSpan]) -> None:
        """Store finished spans whole, in one transaction, with their resources and scopes."""
        span_rows, resources, scopes = self._rows.rows(spans)
        self._write(
            ((_INSERT_RESOURCE, resources), (_INSERT_SCOPE, scopes), (_INSERT_SPAN, span_rows))
        )

    def _write(self, statements: Sequence[tuple[str, Sequence[tuple[Any, ...]]]]) -> None:
        """Run each statement over its rows in one transaction, retrying while another process
        holds the lock."""
        import sqlite3

        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with self._lock:
                    connection = self._connect()
                    with connection:
                        for sql, rows in statements:
                            if rows:
                                connection.executemany(sql, rows)
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

    def record_columns(self) -> str:
        """The columns to select (from ``spans``) for :meth:`record`: all of them, or on an
        older file opened read-only, its own with the later ones as NULL."""
        with self._lock:
            connection = self._connect()
            if not self._current:  # a writer may have migrated the file since the last look
                self._current = _keeps_whole_spans(connection)
            return _RECORD_COLUMNS if self._current else _LEGACY_RECORD_COLUMNS

    def root_condition(self) -> str:
        """SQL saying a span is its trace's local root: it has no parent or, where the file
        records it, its parent is in another process (a request another service sent)."""
        if self.record_columns() == _RECORD_COLUMNS:
            return "(parent_id IS NULL OR parent_is_remote = 1)"
        return "parent_id IS NULL"

    def record(self, row: sqlite3.Row | Mapping[str, Any]) -> StoredSpan:
        """A row selected with :meth:`record_columns` read back as a record, its resource and
        scope filled in (read once per store, then shared). Raises ValueError (bad JSON) or
        TypeError for a row that cannot be read."""
        values = {field: row[field] for field in _LEGACY_FIELDS}
        values["attributes"] = json.loads(values["attributes"])
        values["events"] = json.loads(values["events"])
        resource, resource_schema_url = self._resource(row["resource_id"])
        links = row["links"]
        remote = row["parent_is_remote"]
        return StoredSpan(
            **values,
            span_kind=row["span_kind"],
            resource=resource,
            resource_schema_url=resource_schema_url,
            scope=self._scope(row["scope_id"]),
            links=json.loads(links) if links else (),
            trace_state=row["trace_state"],
            trace_flags=row["trace_flags"],
            parent_is_remote=None if remote is None else bool(remote),
        )

    def _resource(self, key: int | None) -> tuple[dict[str, Any] | None, str | None]:
        if key is None:
            return None, None
        found = self._resources.get(key)
        if found is None:
            rows = self.query("SELECT attributes, schema_url FROM resources WHERE id = ?", (key,))
            attributes = _json_object(rows[0]["attributes"]) if rows else None
            found = (attributes, rows[0]["schema_url"] if rows else None)
            _remember(self._resources, key, found)
        return found

    def _scope(self, key: int | None) -> dict[str, Any] | None:
        if key is None:
            return None
        if key not in self._scopes:
            rows = self.query(
                "SELECT name, version, schema_url, attributes FROM scopes WHERE id = ?", (key,)
            )
            scope = None
            if rows:
                scope = dict(rows[0])
                scope["attributes"] = _json_object(scope["attributes"])
            _remember(self._scopes, key, scope)
        return self._scopes[key]

    def spans(self, trace_id: str) -> list[StoredSpan]:
        """Every span of a trace, by start time; ``trace_id`` may be a unique prefix."""
        rows = self.query(
            f"SELECT {self.record_columns()} FROM spans WHERE trace_id LIKE ? ORDER BY start_ns",
            (trace_id.lower() + "%",),
        )
        return [self.record(row) for row in rows]

    def pages(self, size: int = 500) -> Iterator[list[sqlite3.Row]]:
        """Every row, selected for :meth:`record` with its ``rowid`` as ``row_number``, a page
        at a time in the order they were written (a large store is never held whole)."""
        columns = self.record_columns()
        last = 0
        while True:
            rows = self.query(
                f"SELECT rowid AS row_number, {columns} FROM spans "
                "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, size),
            )
            if not rows:
                return
            last = rows[-1]["row_number"]
            yield rows

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
        rows = self.query(f"SELECT {self.record_columns()} FROM spans ORDER BY start_ns")
        return [self.record(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


_LEGACY_FIELDS: Final = tuple(name.strip() for name in _COLUMNS.split(","))
_LEGACY_COLUMNS: Final = frozenset(_LEGACY_FIELDS)  # what any traceroot store has


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
    if columns >= _LEGACY_COLUMNS:
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


def _migrate(connection: sqlite3.Connection) -> None:
    """Bring an older store to this schema in place: the added columns, then the version. Under
    a write lock, looked at again inside it, so processes opening one file at once agree."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version >= _SCHEMA_VERSION and not _missing_columns(connection):
        return
    connection.execute("BEGIN IMMEDIATE")  # busy: raised, and the write is tried again
    try:
        for name, declared in _missing_columns(connection):
            connection.execute(f"ALTER TABLE spans ADD COLUMN {name} {declared}")
        if version < _SCHEMA_VERSION:
            connection.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _missing_columns(connection: sqlite3.Connection) -> list[tuple[str, str]]:
    present = {row[1] for row in connection.execute("PRAGMA table_info(spans)")}
    return [(name, declared) for name, declared in _ADDED_COLUMNS if name not in present]


def _keeps_whole_spans(connection: sqlite3.Connection) -> bool:
    """Whether the file has this schema's columns and tables (a read-only open of an older one
    reads it as it is)."""
    tables = connection.execute(
        "SELECT COUNT(*) FROM sqlite_master "
        "WHERE type = 'table' AND name IN ('resources', 'scopes')"
    ).fetchone()[0]
    return tables == 2 and not _missing_columns(connection)


def _json_object(text: str | None) -> dict[str, Any] | None:
    """A JSON object column, or None for an empty or unreadable one (a hand-edited store)."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHED:
        cache.clear()
    cache[key] = value


class _SpanRows:
    """Rows for finished spans. A resource or scope is encoded and hashed once, the first time
    its object is seen (one per provider or tracer, not per span); its row goes with each batch
    that uses it, written ``INSERT OR IGNORE``, so the store holds each distinct one once."""

    def __init__(self) -> None:
        # id(object) -> (object, key, row): the object is held, so its id is not reused.
        self._resources: dict[int, tuple[Resource, int, tuple[Any, ...]]] = {}
        self._scopes: dict[int, tuple[InstrumentationScope, int, tuple[Any, ...]]] = {}

    def rows(
        self, spans: Sequence[ReadableSpan]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(span rows, resource rows, scope rows) for one batch."""
        span_rows = []
        resources: dict[int, tuple[Any, ...]] = {}
        scopes: dict[int, tuple[Any, ...]] = {}
        for span in spans:
            record = stored(span)
            resource_key, resource_row = self._resource(span.resource)
            resources[resource_key] = resource_row
            scope_key = None
            if span.instrumentation_scope is not None:
                scope_key, scope_row = self._scope(span.instrumentation_scope)
                scopes[scope_key] = scope_row
            span_rows.append(
                (
                    *record[:15],
                    json.dumps(record.attributes, default=list),
                    json.dumps(record.events, default=list),
                    record.span_kind,
                    resource_key,
                    scope_key,
                    json.dumps(record.links, default=list) if record.links else None,
                    record.trace_state,
                    record.trace_flags,
                    record.parent_is_remote,
                )
            )
        return span_rows, list(resources.values()), list(scopes.values())

    def _resource(self, resource: Resource) -> tuple[int, tuple[Any, ...]]:
        found = self._resources.get(id(resource))
        if found is None or found[0] is not resource:
            attributes = _canonical(dict(resource.attributes))
            schema_url = resource.schema_url or None
            key = _content_key(attributes, schema_url)
            found = (resource, key, (key, attributes, schema_url))
            _remember(self._resources, id(resource), found)
        return found[1], found[2]

    def _scope(self, scope: InstrumentationScope) -> tuple[int, tuple[Any, ...]]:
        found = self._scopes.get(id(scope))
        if found is None or found[0] is not scope:
            fields = scope_record(scope)
            assert fields is not None
            attributes = _canonical(fields["attributes"]) if fields["attributes"] else None
            values = (fields["name"], fields["version"], fields["schema_url"], attributes)
            key = _content_key(*values)
            found = (scope, key, (key, *values))
            _remember(self._scopes, id(scope), found)
        return found[1], found[2]


def _canonical(attributes: Mapping[str, Any]) -> str:
    """Attributes as JSON text that is the same for the same attributes, in any order."""
    return json.dumps(attributes, sort_keys=True, default=str, ensure_ascii=False)


def _content_key(*values: str | None) -> int:
    """A 64-bit key for a resource's or scope's content, the same in every process."""
    import hashlib

    digest = hashlib.blake2b(json.dumps(values).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)  # SQLite integers are signed
