"""The store keeps the whole span (resource, scope, OpenTelemetry kind, events, links, trace
state), each resource and scope once; a store written by the first schema is read as it is by a
read-only open and migrated in place by a writer."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, TraceState, set_span_in_context
from opentelemetry.trace.span import NonRecordingSpan, SpanContext, TraceFlags

from traceroot.store import SpanStore
from traceroot.store_exporter import LocalStoreExporter

from .stores import cli

# The first schema, as traceroot wrote it before the whole span was kept: files users have.
FIRST_SCHEMA = """
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
OLD_TRACE = "0af7651916cd43dd8448eb211c80319c"
OLD_ROWS = [
    (
        OLD_TRACE,
        "b7ad6b7169203331",
        None,
        "agent",
        "agent",
        1_700_000_000_000_000_000,
        1_700_000_000_900_000_000,
        "OK",
        None,
        "chat-1",
        "ada",
        "old-service",
        None,
        None,
        None,
        json.dumps({"traceroot.span.type": "agent", "session.id": "chat-1", "user.id": "ada"}),
        "[]",
    ),
    (
        OLD_TRACE,
        "00f067aa0ba902b7",
        "b7ad6b7169203331",
        "chat gpt-4o",
        "llm",
        1_700_000_000_100_000_000,
        1_700_000_000_800_000_000,
        "ERROR",
        "rate limited",
        "chat-1",
        "ada",
        "old-service",
        "gpt-4o",
        12,
        3,
        json.dumps({"traceroot.span.type": "llm", "gen_ai.request.model": "gpt-4o"}),
        json.dumps(
            [{"name": "exception", "timestamp": 1_700_000_000_700_000_000, "attributes": {}}]
        ),
    ),
]


def old_store(path: Path) -> Path:
    """A store file exactly as the first schema's writer left it."""
    with sqlite3.connect(path) as connection:
        connection.executescript(FIRST_SCHEMA)
        connection.executemany(f"INSERT INTO spans VALUES ({', '.join('?' * 17)})", OLD_ROWS)
    connection.close()
    return path


def record_spans(path: Path, *, service: str = "shop") -> list[ReadableSpan]:
    """Spans of every shape written to the store at ``path`` through its exporter; the same
    spans, as the SDK made them, returned."""
    memory = InMemorySpanExporter()
    exporter = LocalStoreExporter(str(path))
    provider = TracerProvider(
        resource=Resource(
            {"service.name": service, "service.version": "2.1", "host.cores": 8, "k8s": ("a", "b")},
            "https://opentelemetry.io/schemas/1.26.0",
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer(
        "shop.checkout", "3.4.5", "https://opentelemetry.io/schemas/1.21.0", {"team": "payments"}
    )
    other = provider.get_tracer("openinference.instrumentation.openai", "0.1.2")
    remote = SpanContext(
        0x5B8EFFF798038103D269B633813FC60C,
        0xEEE19B7EC3C1B174,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "abc"), ("other", "1")]),
    )
    linked = SpanContext(0x1234, 0x5678, is_remote=True, trace_state=TraceState([("l", "v")]))
    incoming = set_span_in_context(NonRecordingSpan(remote))
    with tracer.start_as_current_span("POST /checkout", context=incoming, kind=SpanKind.SERVER):
        with other.start_as_current_span(
            "chat gpt-4o",
            kind=SpanKind.CLIENT,
            links=[Link(linked, {"link.reason": "retry of", "attempt": 2})],
            attributes={"traceroot.span.type": "llm", "gen_ai.request.model": "gpt-4o"},
        ) as call:
            call.add_event("gen_ai.choice", {"index": 0, "ids": (1, 2)}, timestamp=1_234_567)
            call.set_status(Status(StatusCode.ERROR, "rate limited"))
        with tracer.start_as_current_span("publish", kind=SpanKind.PRODUCER):
            pass
    provider.shutdown()
    return list(memory.get_finished_spans())


def test_the_whole_span_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "traces.db"
    originals = {span.name: span for span in record_spans(path)}
    store = SpanStore(str(path), read_only=True)
    (trace_id,) = store.trace_ids("")
    spans = {span.name: span for span in store.spans(trace_id)}
    assert {name: span.span_kind for name, span in spans.items()} == {
        "POST /checkout": "SERVER",
        "chat gpt-4o": "CLIENT",
        "publish": "PRODUCER",
    }
    # traceroot's own type stays in `kind`, as before.
    assert {name: span.kind for name, span in spans.items()} == {
        "POST /checkout": "server",
        "chat gpt-4o": "llm",
        "publish": "producer",
    }
    resource = {
        "service.name": "shop",
        "service.version": "2.1",
        "host.cores": 8,
        "k8s": ["a", "b"],
    }
    for span in spans.values():
        assert span.resource == resource
        assert span.resource_schema_url == "https://opentelemetry.io/schemas/1.26.0"
        assert span.service_name == "shop"
        assert span.trace_state == "vendor=abc,other=1"
        assert span.trace_flags == 1
    server, call = spans["POST /checkout"], spans["chat gpt-4o"]
    assert server.scope == {
        "name": "shop.checkout",
        "version": "3.4.5",
        "schema_url": "https://opentelemetry.io/schemas/1.21.0",
        "attributes": {"team": "payments"},
    }
    assert call.scope == {
        "name": "openinference.instrumentation.openai",
        "version": "0.1.2",
        "schema_url": None,
        "attributes": None,
    }
    assert server.parent_id == "eee19b7ec3c1b174"
    assert server.parent_is_remote is True
    assert call.parent_is_remote is False
    assert call.events == [
        {"name": "gen_ai.choice", "timestamp": 1_234_567, "attributes": {"index": 0, "ids": [1, 2]}}
    ]
    assert list(call.links) == [
        {
            "trace_id": f"{0x1234:032x}",
            "span_id": f"{0x5678:016x}",
            "trace_state": "l=v",
            "trace_flags": 0,
            "is_remote": True,
            "attributes": {"link.reason": "retry of", "attempt": 2},
        }
    ]
    assert server.links == ()
    assert (call.status, call.status_message) == ("ERROR", "rate limited")
    assert call.start_ns == originals["chat gpt-4o"].start_time
    # One resource row and one row per scope, however many spans use them.
    assert store.query("SELECT COUNT(*) AS n FROM resources")[0]["n"] == 1
    assert store.query("SELECT COUNT(*) AS n FROM scopes")[0]["n"] == 2
    (row,) = store.query("SELECT attributes FROM resources")
    assert json.loads(row["attributes"]) == resource
    # Records of one store share their resource's values: read once, not once per span.
    assert len({id(span.resource) for span in spans.values()}) == 1


def test_each_distinct_resource_is_stored_once_across_writers(tmp_path: Path) -> None:
    path = tmp_path / "traces.db"
    for service in ("shop", "shop", "billing"):  # the same resource from two "processes"
        record_spans(path, service=service)
    store = SpanStore(str(path), read_only=True)
    services = [
        json.loads(row["attributes"])["service.name"]
        for row in store.query("SELECT attributes FROM resources ORDER BY attributes")
    ]
    assert services == ["billing", "shop"]
    assert store.query("SELECT COUNT(*) AS n FROM scopes")[0]["n"] == 2
    assert store.query("SELECT COUNT(*) AS n FROM spans")[0]["n"] == 9
    assert store.query("PRAGMA user_version")[0][0] == 1


def test_an_old_store_is_read_as_it_is_by_a_read_only_open(tmp_path: Path) -> None:
    path = old_store(tmp_path / "traces.db")
    store = SpanStore(str(path), read_only=True)
    agent, llm = store.spans(OLD_TRACE[:8])
    assert (agent.name, agent.kind, agent.session_id, agent.service_name) == (
        "agent",
        "agent",
        "chat-1",
        "old-service",
    )
    assert (llm.model, llm.input_tokens, llm.status_message) == ("gpt-4o", 12, "rate limited")
    assert llm.events[0]["name"] == "exception"
    # The fields kept since then are empty, not invented.
    assert (llm.span_kind, llm.resource, llm.scope, llm.links, llm.trace_state) == (
        None,
        None,
        None,
        (),
        None,
    )
    assert [span.name for span in store.all_spans()] == ["agent", "chat gpt-4o"]
    assert store.traces()[0]["span_count"] == 2
    assert store.sessions()[0]["session_id"] == "chat-1"
    store.close()
    # Nothing changed: no column, no table, no version.
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(spans)")]
        tables = sorted(row[0] for row in connection.execute("SELECT name FROM sqlite_master"))
        (version,) = connection.execute("PRAGMA user_version").fetchone()
    connection.close()
    assert len(columns) == 17
    assert "resources" not in tables
    assert version == 0


def test_the_cli_reads_an_old_store(tmp_path: Path) -> None:
    path = old_store(tmp_path / "traces.db")
    shown = cli("show", OLD_TRACE[:8], "--store", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "agent" in shown.stdout
    assert "chat gpt-4o" in shown.stdout
    listed = cli("traces", "--json", "--store", str(path))
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["trace_id"] == OLD_TRACE
    sessions = cli("sessions", "--json", "--store", str(path))
    assert sessions.returncode == 0, sessions.stderr
    assert json.loads(sessions.stdout)[0]["session_id"] == "chat-1"
    as_json = cli("show", OLD_TRACE, "--json", "--store", str(path))
    assert json.loads(as_json.stdout)[1]["span_kind"] is None
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (0,)
    connection.close()


def test_a_writer_migrates_an_old_store_in_place(tmp_path: Path) -> None:
    path = old_store(tmp_path / "traces.db")
    reader = SpanStore(str(path), read_only=True)  # open before the migration, kept open
    assert reader.spans(OLD_TRACE)[0].span_kind is None
    record_spans(path)
    with sqlite3.connect(path) as connection:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        columns = [row[1] for row in connection.execute("PRAGMA table_info(spans)")]
    connection.close()
    assert version == 1
    assert columns[:17] == [
        "trace_id",
        "span_id",
        "parent_id",
        "name",
        "kind",
        "start_ns",
        "end_ns",
        "status",
        "status_message",
        "session_id",
        "user_id",
        "service_name",
        "model",
        "input_tokens",
        "output_tokens",
        "attributes",
        "events",
    ]
    # The old rows as they were, the new ones whole; the reader opened before sees both.
    assert [span.name for span in reader.spans(OLD_TRACE)] == ["agent", "chat gpt-4o"]
    assert reader.spans(OLD_TRACE)[1].span_kind is None
    new = [span for span in reader.all_spans() if span.trace_id != OLD_TRACE]
    assert {span.span_kind for span in new} == {"SERVER", "CLIENT", "PRODUCER"}
    assert all(span.resource and span.resource["service.name"] == "shop" for span in new)
    assert len(reader.traces()) == 2
    shown = cli("show", OLD_TRACE[:8], "--store", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "chat gpt-4o" in shown.stdout
    assert cli("sessions", "--store", str(path)).returncode == 0


def test_writers_opening_an_old_store_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = old_store(tmp_path / "traces.db")
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def write() -> None:
        try:
            start.wait()
            record_spans(path)  # each with its own connection, as separate processes would
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = SpanStore(str(path), read_only=True)
    assert store.query("SELECT COUNT(*) AS n FROM spans")[0]["n"] == 2 + 6 * 3
    assert store.query("SELECT COUNT(*) AS n FROM resources")[0]["n"] == 1
