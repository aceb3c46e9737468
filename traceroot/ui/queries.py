"""The UI's reads of the local store: SQL over its columns, on a read-only connection.

Each list starts from an index: traces from their root spans by start time (``spans_by_start``),
a session's spans by ``spans_by_session``, a user's by ``spans_by_user``; a page's aggregates are
then read for the rows on it only. Text and tag filters read the attributes' JSON, so they cost a
scan; the lists without them do not.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, NamedTuple

from traceroot import costs, semconv

_READ_TIMEOUT_S: Final = 2.0
_SPAN_COLUMNS: Final = (
    "trace_id, span_id, parent_id, name, kind, start_ns, end_ns, status, status_message, "
    "session_id, user_id, service_name, model, input_tokens, output_tokens, attributes, events"
)
_TAG_KEYS: Final = (semconv.SPAN_TAGS, semconv.TRACE_TAGS)
MAX_LIMIT: Final = 500


class Filters(NamedTuple):
    """What a list is narrowed to; each field ``None`` when not asked for."""

    user: str | None = None
    session: str | None = None
    tag: str | None = None
    text: str | None = None
    since_ns: int | None = None
    until_ns: int | None = None


class StoreMissingError(Exception):
    """There is no store at the path yet."""


class StoreConnection(sqlite3.Connection):
    """A read-only connection that knows how the store marks a trace's local root."""

    # A trace's first span in this process: no parent, or a parent in another process (a request
    # another service sent, its parent remote). Stores written before the remote flag existed
    # know only the first kind.
    root: str = "parent_id IS NULL"


def root(connection: sqlite3.Connection, alias: str = "") -> str:
    """The SQL condition that a span (``alias``: its table's alias) is its trace's local root."""
    condition = getattr(connection, "root", StoreConnection.root)
    return condition.replace("parent", f"{alias}.parent") if alias else condition


@contextmanager
def connect(path: str) -> Iterator[sqlite3.Connection]:
    """A read-only connection: the UI neither creates a store nor changes one."""
    if not os.path.exists(path):
        raise StoreMissingError(path)
    uri = f"file:{os.path.abspath(path)}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=_READ_TIMEOUT_S, factory=StoreConnection)
    connection.row_factory = sqlite3.Row
    try:
        columns = {row["name"] for row in connection.execute("PRAGMA table_info(spans)")}
        if "parent_is_remote" in columns:
            connection.root = "(parent_id IS NULL OR parent_is_remote = 1)"
        yield connection
    finally:
        connection.close()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _escaped_forms(text: str) -> list[str]:
    """``text`` as it may stand in JSON: as is, escaped once, escaped twice."""
    forms = [text]
    for _ in range(2):
        forms.append(json.dumps(forms[-1])[1:-1])
    return list(dict.fromkeys(forms))


def _root_conditions(filters: Filters, alias: str = "r") -> tuple[list[str], list[Any]]:
    """Conditions on a trace's root span (session and user are stamped on every span, the root
    included); tag and text match any span of the trace."""
    where: list[str] = []
    parameters: list[Any] = []
    if filters.user is not None:
        where.append(f"{alias}.user_id = ?")
        parameters.append(filters.user)
    if filters.session is not None:
        where.append(f"{alias}.session_id = ?")
        parameters.append(filters.session)
    if filters.since_ns is not None:
        where.append(f"{alias}.end_ns >= ?")
        parameters.append(filters.since_ns)
    if filters.until_ns is not None:
        where.append(f"{alias}.start_ns <= ?")
        parameters.append(filters.until_ns)
    if filters.tag:
        tagged = " OR ".join(
            f"EXISTS (SELECT 1 FROM json_each(t.attributes, '$.\"{key}\"') WHERE value = ?)"
            for key in _TAG_KEYS
        )
        # A cheap first pass where the tag's JSON form is certain (plain ASCII: the same however
        # the writer escapes): only rows holding it are parsed.
        quoted = json.dumps(filters.tag)
        first_pass = "t.attributes LIKE ? ESCAPE '\\' AND " if quoted.isascii() else ""
        where.append(
            f"{alias}.trace_id IN (SELECT trace_id FROM spans t WHERE {first_pass}({tagged}))"
        )
        if first_pass:
            parameters.append(_like(quoted))
        parameters.extend([filters.tag] * len(_TAG_KEYS))
    if filters.text:
        pattern = _like(filters.text)
        # Attributes are JSON text, and a recorded input or output is JSON inside it: a quote, a
        # backslash or a non-ASCII character may be stored escaped once or twice.
        forms = _escaped_forms(filters.text)
        in_attributes = " OR ".join(["t.attributes LIKE ? ESCAPE '\\'"] * len(forms))
        where.append(
            f"{alias}.trace_id IN (SELECT trace_id FROM spans t WHERE "
            f"t.name LIKE ? ESCAPE '\\' OR {in_attributes} "
            "OR t.session_id LIKE ? ESCAPE '\\' OR t.user_id LIKE ? ESCAPE '\\' "
            "OR t.trace_id LIKE ? ESCAPE '\\' OR t.status_message LIKE ? ESCAPE '\\' "
            "OR t.events LIKE ? ESCAPE '\\')"
        )
        parameters.extend([pattern, *map(_like, forms), *[pattern] * 5])
    return where, parameters


def _roots_sql(
    connection: sqlite3.Connection, filters: Filters, columns: str
) -> tuple[str, list[Any]]:
    where, parameters = _root_conditions(filters)
    clause = "".join(f" AND {condition}" for condition in where)
    return f"SELECT {columns} FROM spans r WHERE {root(connection, 'r')}{clause}", parameters


def trace_rows(
    connection: sqlite3.Connection, filters: Filters, *, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Traces, newest first: root name, input and output, session, user, duration, spans,
    tokens, errors and cost."""
    sql, parameters = _roots_sql(connection, filters, _SPAN_COLUMNS)
    roots = connection.execute(
        f"{sql} ORDER BY r.start_ns DESC LIMIT ? OFFSET ?", [*parameters, limit, offset]
    ).fetchall()
    totals = trace_totals(connection, [root["trace_id"] for root in roots])
    return [{"root": dict(root), **totals[root["trace_id"]]} for root in roots]


def trace_totals(connection: sqlite3.Connection, trace_ids: Sequence[str]) -> dict[str, Any]:
    """Per trace: span count, tokens, errors, and the model calls to price."""
    found: dict[str, dict[str, Any]] = {
        trace_id: {"spans": 0, "input_tokens": 0, "output_tokens": 0, "errors": 0, "calls": []}
        for trace_id in trace_ids
    }
    for chunk in _chunks(list(trace_ids)):
        rows = connection.execute(
            "SELECT trace_id, status, model, input_tokens, output_tokens, start_ns, "
            f"{_usage_columns()} FROM spans WHERE trace_id IN ({_marks(chunk)})",
            chunk,
        )
        for row in rows:
            _add(found[row["trace_id"]], row)
    return found


def _add(total: dict[str, Any], row: sqlite3.Row) -> None:
    total["spans"] += 1
    total["input_tokens"] += row["input_tokens"] or 0
    total["output_tokens"] += row["output_tokens"] or 0
    total["errors"] += row["status"] == "ERROR"
    if row["input_tokens"] is not None or row["output_tokens"] is not None:
        total["calls"].append(_call(row))


def _usage_columns() -> str:
    """The provider and cache counts, read from the JSON only where the span has usage."""
    provider = ", ".join(
        f"json_extract(attributes, '$.\"{key}\"')" for key in costs.PROVIDER_ATTRIBUTES
    )
    usage = "(input_tokens IS NOT NULL OR output_tokens IS NOT NULL)"
    return (
        f"CASE WHEN {usage} THEN COALESCE({provider}) END AS provider, "
        f"CASE WHEN {usage} THEN json_extract(attributes, '$.\"{costs.CACHE_READ_ATTRIBUTE}\"') "
        "END AS cache_read, "
        f"CASE WHEN {usage} THEN json_extract(attributes, '$.\"{costs.CACHE_WRITE_ATTRIBUTE}\"') "
        "END AS cache_write"
    )


def _call(row: sqlite3.Row) -> costs.Usage:
    return costs.Usage(
        row["model"],
        None if row["provider"] is None else str(row["provider"]),
        row["input_tokens"],
        row["output_tokens"],
        _int(row["cache_read"]),
        _int(row["cache_write"]),
        row["start_ns"],
    )


def model_calls(
    connection: sqlite3.Connection, column: str, keys: Sequence[str]
) -> dict[str, list[costs.Usage]]:
    """The model calls (spans with usage) of each session or trace: ``column`` is
    ``session_id`` or ``trace_id``; read along that column's index."""
    if column not in ("session_id", "trace_id"):
        raise ValueError(column)
    found: dict[str, list[costs.Usage]] = {key: [] for key in keys}
    for chunk in _chunks(list(keys)):
        rows = connection.execute(
            f"SELECT {column} AS key, model, input_tokens, output_tokens, start_ns, "
            f"{_usage_columns()} FROM spans WHERE {column} IN ({_marks(chunk)}) "
            "AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)",
            chunk,
        )
        for row in rows:
            found[row["key"]].append(_call(row))
    return found


def session_rows(
    connection: sqlite3.Connection, filters: Filters, *, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Sessions, most recently active first, each whole (a filter picks sessions, it does not
    cut them): user, traces, first and last seen, tokens, errors, cost."""
    return _grouped(connection, "session_id", filters, limit=limit, offset=offset)


def user_rows(
    connection: sqlite3.Connection, filters: Filters, *, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Users, most recently active first: sessions, traces, first and last seen, tokens, cost."""
    return _grouped(connection, "user_id", filters, limit=limit, offset=offset)


def _grouped(
    connection: sqlite3.Connection, column: str, filters: Filters, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    other = "user_id" if column == "session_id" else "session_id"
    where, parameters = _root_conditions(filters)
    if where:
        matched, parameters = _roots_sql(connection, filters, f"r.{column}")
        restriction = f" AND s.{column} IN ({matched})"
    else:
        restriction = ""
    # Grouped along the column's index; only the page's rows are then read again for totals.
    keys = connection.execute(
        f"SELECT s.{column} AS key, MIN(s.start_ns) AS first_ns, MAX(s.end_ns) AS last_ns "
        f"FROM spans s WHERE s.{column} IS NOT NULL{restriction} "
        f"GROUP BY s.{column} ORDER BY last_ns DESC LIMIT ? OFFSET ?",
        [*parameters, limit, offset],
    ).fetchall()
    found: dict[str, dict[str, Any]] = {
        row["key"]: {
            column: row["key"],
            "first_ns": row["first_ns"],
            "last_ns": row["last_ns"],
            "traces": set(),
            f"{other}s": set(),
            "spans": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "errors": 0,
            "calls": [],
        }
        for row in keys
    }
    for chunk in _chunks(list(found)):
        rows = connection.execute(
            f"SELECT {column} AS key, trace_id, {other} AS other, status, model, input_tokens, "
            f"output_tokens, start_ns, {_usage_columns()} "
            f"FROM spans WHERE {column} IN ({_marks(chunk)})",
            chunk,
        )
        for row in rows:
            total = found[row["key"]]
            total["traces"].add(row["trace_id"])
            if row["other"] is not None:
                total[f"{other}s"].add(row["other"])
            _add(total, row)
    return list(found.values())


def stats(connection: sqlite3.Connection, filters: Filters) -> dict[str, Any]:
    """Over the traces a list's filters select: count, latency p50/p95 (root durations, ms) and
    token totals."""
    sql, parameters = _roots_sql(
        connection, filters, "r.trace_id, r.end_ns - r.start_ns AS duration"
    )
    roots = connection.execute(sql, parameters).fetchall()
    durations = sorted(row["duration"] for row in roots)
    where, _ = _root_conditions(filters)
    input_tokens = output_tokens = 0
    # Filtered: the matched traces' spans, by the primary key (the filters are not run twice);
    # unfiltered: one pass over the table.
    chunks: Iterable[list[str] | None] = (
        _chunks([row["trace_id"] for row in roots]) if where else [None]
    )
    for chunk in chunks:
        clause = "" if chunk is None else f" WHERE trace_id IN ({_marks(chunk)})"
        (row,) = connection.execute(
            f"SELECT SUM(input_tokens) AS i, SUM(output_tokens) AS o FROM spans{clause}",
            chunk or [],
        ).fetchall()
        input_tokens += row["i"] or 0
        output_tokens += row["o"] or 0
    return {
        "traces": len(durations),
        "p50_ms": _percentile(durations, 0.50),
        "p95_ms": _percentile(durations, 0.95),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }


def _percentile(ordered: list[int], fraction: float) -> float | None:
    """The nearest-rank percentile, in milliseconds."""
    if not ordered:
        return None
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank] / 1e6


def session_roots(connection: sqlite3.Connection, session_id: str) -> list[sqlite3.Row]:
    """A session's traces as their root spans, in the order they ran."""
    return connection.execute(
        f"SELECT {_SPAN_COLUMNS} FROM spans WHERE session_id = ? AND {root(connection)} "
        "ORDER BY start_ns",
        (session_id,),
    ).fetchall()


def trace_spans(connection: sqlite3.Connection, trace_id: str) -> list[sqlite3.Row]:
    """Every span of one trace, by start time."""
    return connection.execute(
        f"SELECT {_SPAN_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_ns", (trace_id,)
    ).fetchall()


def cursor(connection: sqlite3.Connection) -> int:
    """A mark that grows with every span written (the rowid of the newest row): cheap to read,
    so the page can poll it."""
    (row,) = connection.execute("SELECT COALESCE(MAX(rowid), 0) AS mark FROM spans").fetchall()
    return int(row["mark"])


def traces_written_since(connection: sqlite3.Connection, mark: int) -> list[str]:
    """Traces whose root span was written after ``mark``, oldest first."""
    rows = connection.execute(
        f"SELECT trace_id FROM spans WHERE rowid > ? AND {root(connection)} "
        "ORDER BY rowid LIMIT 100",
        (mark,),
    )
    return [row["trace_id"] for row in rows]


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
