"""Where spans go, each case in a fresh interpreter (the global provider can be set only once)."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from traceroot import semconv
from traceroot.store import SpanStore

from .conftest import run_script
from .otlp_receiver import Receiver

AGENT = """
import traceroot
from traceroot import observe, using_attributes

@observe(type="tool")
def search(query):
    return ["doc-" + query]

@observe(type="agent")
def agent(question):
    return {"docs": search(question), "answer": "42"}
"""


def _ok(result: object) -> None:
    assert getattr(result, "returncode", 1) == 0, getattr(result, "stderr", "")


def test_local_store_by_default(tmp_path: Path) -> None:
    result = run_script(
        AGENT
        + """
import sys
traceroot.instrument()
with using_attributes(session_id="chat-1", user_id="ada"):
    agent("life")
assert traceroot.flush(5)
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
assert isinstance(trace.get_tracer_provider(), TracerProvider)
loaded = [m for m in sys.modules if m.split(".")[0] in ("openai", "langchain", "langchain_core",
          "langgraph", "llama_index") or m.startswith("opentelemetry.exporter")]
print("LOADED", loaded)
""",
        cwd=str(tmp_path),
        env={"TRACEROOT_ENVIRONMENT": "test-env"},
    )
    _ok(result)
    assert "LOADED []" in result.stdout
    path = tmp_path / ".traceroot" / "traces.db"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    store = SpanStore(str(path))
    (summary,) = store.traces(session_id="chat-1")
    assert summary["root_name"] == "agent"
    assert summary["span_count"] == 2
    stored = {span.name: span for span in store.spans(summary["trace_id"])}
    assert stored["search"].parent_id == stored["agent"].span_id
    assert stored["agent"].parent_id is None
    assert stored["agent"].kind == "agent"
    assert stored["search"].kind == "tool"
    for span in stored.values():
        assert (span.session_id, span.user_id) == ("chat-1", "ada")
        assert span.attributes[semconv.ENVIRONMENT] == "test-env"
    assert json.loads(stored["agent"].attributes[semconv.SPAN_OUTPUT]) == {
        "docs": ["doc-life"],
        "answer": "42",
    }
    assert store.traces(user_id="ada")[0]["trace_id"] == summary["trace_id"]
    assert store.spans(summary["trace_id"][:8])[0].name == "agent"  # a prefix is enough


def test_joins_an_existing_provider_without_replacing_it(tmp_path: Path) -> None:
    result = run_script(
        AGENT
        + """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

apps_exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(apps_exporter))
trace.set_tracer_provider(provider)

traceroot.instrument(exporter="none")
assert trace.get_tracer_provider() is provider
with using_attributes(session_id="joined"):
    agent("x")
names = sorted((s.name, s.attributes["session.id"]) for s in apps_exporter.get_finished_spans())
print("SPANS", names)
""",
        cwd=str(tmp_path),
    )
    _ok(result)
    assert "SPANS [('agent', 'joined'), ('search', 'joined')]" in result.stdout
    assert not (tmp_path / ".traceroot").exists()


def test_disabled_touches_nothing_and_passes_through(tmp_path: Path) -> None:
    result = run_script(
        AGENT
        + """
from opentelemetry import trace
traceroot.instrument()
assert agent("q") == {"docs": ["doc-q"], "answer": "42"}
assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
assert traceroot.get_current_trace_id() is None
import sys
print("SDK", "opentelemetry.sdk.trace" in sys.modules)
""",
        cwd=str(tmp_path),
        env={"TRACEROOT_ENABLED": "false"},
    )
    _ok(result)
    assert "SDK False" in result.stdout
    assert not (tmp_path / ".traceroot").exists()


def test_observe_before_initialize_still_exports(tmp_path: Path) -> None:
    result = run_script(
        AGENT
        + """
agent("before")            # no provider yet: nothing recorded, nothing broken
traceroot.initialize()     # the TraceRoot call; must still configure export
agent("after")
traceroot.flush()
""",
        cwd=str(tmp_path),
    )
    _ok(result)
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    (summary,) = store.traces()
    stored = {span.name: span for span in store.spans(summary["trace_id"])}
    assert json.loads(stored["agent"].attributes[semconv.SPAN_INPUT]) == {"question": "after"}


def test_second_initialize_warns_and_keeps_the_first(tmp_path: Path) -> None:
    result = run_script(
        AGENT
        + """
traceroot.initialize(environment="first")
traceroot.initialize(environment="second")
agent("q")
traceroot.flush()
""",
        cwd=str(tmp_path),
    )
    _ok(result)
    assert "already called" in result.stderr
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    (summary,) = store.traces()
    for span in store.spans(summary["trace_id"]):
        assert span.attributes[semconv.ENVIRONMENT] == "first"


def test_console_prints_each_trace_as_a_tree(tmp_path: Path) -> None:
    result = run_script(
        AGENT
        + """
traceroot.instrument()
with using_attributes(session_id="console-s"):
    agent("q")
""",
        cwd=str(tmp_path),
        env={"TRACEROOT_EXPORTER": "console"},
    )
    _ok(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("trace ")
    assert lines[0].endswith("  session=console-s")  # the trace's, not repeated on each span
    assert lines[1].startswith("  [agent] agent")
    assert lines[2].startswith("    [tool] search")


def test_traceroot_cloud_export_shape(tmp_path: Path, receiver: Receiver) -> None:
    result = run_script(
        AGENT
        + """
traceroot.initialize()
with using_attributes(session_id="cloud-s", user_id="u"):
    agent("q")
assert traceroot.flush(10)
""",
        cwd=str(tmp_path),
        env={"TRACEROOT_API_KEY": "tr-test-key", "TRACEROOT_HOST_URL": receiver.url},
    )
    _ok(result)
    assert receiver.requests, result.stderr
    request = receiver.requests[0]
    assert request.path == "/api/v1/public/traces"
    assert request.headers["authorization"] == "Bearer tr-test-key"
    assert request.headers["content-type"] == "application/x-protobuf"
    spans = receiver.spans()
    assert spans["agent"][semconv.SPAN_TYPE] == "agent"
    assert spans["search"][semconv.SESSION_ID] == "cloud-s"
    assert not (tmp_path / ".traceroot").exists()


def test_standard_otlp_endpoint(tmp_path: Path, receiver: Receiver) -> None:
    result = run_script(
        AGENT
        + """
traceroot.instrument()
with using_attributes(session_id="otlp-s"):
    agent("q")
assert traceroot.flush(10)
""",
        cwd=str(tmp_path),
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_SERVICE_NAME": "my-agent"},
    )
    _ok(result)
    assert [r.path for r in receiver.requests] == ["/v1/traces"]
    assert "authorization" not in receiver.requests[0].headers
    assert receiver.spans()["agent"][semconv.SESSION_ID] == "otlp-s"


def test_flush_at_exit_without_explicit_flush(tmp_path: Path) -> None:
    result = run_script(AGENT + "traceroot.instrument()\nagent('exit')\n", cwd=str(tmp_path))
    _ok(result)
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    assert store.traces()[0]["span_count"] == 2


def test_store_path_setting(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "spans.db"
    result = run_script(
        AGENT + "traceroot.instrument()\nagent('q')\n",
        cwd=str(tmp_path),
        env={"TRACEROOT_STORE_PATH": str(target)},
    )
    _ok(result)
    assert SpanStore(str(target)).traces()[0]["root_name"] == "agent"


def test_sampling_keeps_whole_traces_or_none(tmp_path: Path) -> None:
    result = run_script(
        AGENT + "traceroot.instrument()\nfor i in range(200):\n    agent(str(i))\n",
        cwd=str(tmp_path),
        env={"TRACEROOT_SAMPLE_RATE": "0.5"},
    )
    _ok(result)
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    traces = store.traces(limit=1000)
    assert 50 <= len(traces) <= 150
    assert {summary["span_count"] for summary in traces} == {2}


def test_sample_rate_zero_records_nothing_and_bad_rates_warn(tmp_path: Path) -> None:
    result = run_script(
        AGENT + "traceroot.instrument()\nassert agent('x')['answer'] == '42'\n",
        cwd=str(tmp_path),
        env={"TRACEROOT_SAMPLE_RATE": "0"},
    )
    _ok(result)
    assert (
        not (tmp_path / ".traceroot").exists()
        or not SpanStore(str(tmp_path / ".traceroot" / "traces.db")).traces()
    )
    bad = run_script(
        AGENT + "traceroot.instrument()\n", cwd=str(tmp_path), env={"TRACEROOT_SAMPLE_RATE": "2"}
    )
    _ok(bad)
    assert "TRACEROOT_SAMPLE_RATE" in bad.stderr


FAILING_EXPORT = """
import sys, traceroot
from traceroot import observe

traceroot.instrument(integrations=[])

@observe
def step(i):
    return i

for i in range(10):
    step(i)
print("FLUSH", traceroot.flush(10), traceroot.export_failures(), traceroot.dropped_spans())
"""


def _refusing_server(refuse: Callable[[int], int]) -> tuple[str, list[int], ThreadingHTTPServer]:
    """An OTLP/HTTP endpoint answering each request with ``refuse(body size)``."""
    answered: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = refuse(len(body))
            answered.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", answered, server


@pytest.mark.parametrize("status", [401, 413, 500])
def test_flush_is_false_and_counted_when_the_backend_refuses(tmp_path: Path, status: int) -> None:
    url, answered, server = _refusing_server(lambda size: status)
    try:
        result = run_script(
            FAILING_EXPORT,
            cwd=str(tmp_path),
            env={
                "TRACEROOT_API_KEY": "tr-refused",
                "TRACEROOT_HOST_URL": url,
                "TRACEROOT_FLUSH_AT": "2",  # five batches, each refused
                "TRACEROOT_TIMEOUT": "5",
            },
        )
    finally:
        server.shutdown()
    _ok(result)
    assert "FLUSH False 10 0" in result.stdout, result.stdout + result.stderr
    assert set(answered) == {status}
    if status == 401:
        # Which setting to check, said once, and the exporter's own line not once per batch.
        assert result.stderr.count("check TRACEROOT_API_KEY") == 1, result.stderr
        assert result.stderr.count("Failed to export") <= 1, result.stderr


def test_flush_is_false_and_counted_when_the_store_cannot_be_written(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory.db"
    directory.mkdir()
    for store in (str(directory), "/dev/full"):
        result = run_script(FAILING_EXPORT, cwd=str(tmp_path), env={"TRACEROOT_STORE_PATH": store})
        _ok(result)
        assert "FLUSH False 10 0" in result.stdout, (store, result.stdout + result.stderr)
        assert result.stderr.count("could not write spans") == 1, result.stderr


def test_flush_is_true_again_once_spans_are_delivered(tmp_path: Path) -> None:
    result = run_script(
        FAILING_EXPORT + "step(11)\nprint('AGAIN', traceroot.flush(10))\n",
        cwd=str(tmp_path),
    )
    _ok(result)
    assert "FLUSH True 0 0" in result.stdout
    assert "AGAIN True" in result.stdout


HUGE_ERROR = """
import traceroot
from traceroot import observe

traceroot.instrument(integrations=[])

@observe
def small(i):
    return i

@observe(name="huge-" + "n" * 100_000)
def huge():
    raise ValueError("x" * 10_000_000)

for i in range(50):
    small(i)
try:
    huge()
except ValueError:
    pass
for i in range(50, 99):
    small(i)
print("FLUSH", traceroot.flush(30), traceroot.export_failures())
"""


def test_huge_texts_are_cut_to_the_attribute_budget(tmp_path: Path) -> None:
    budget = 4096
    result = run_script(
        HUGE_ERROR,
        cwd=str(tmp_path),
        env={"TRACEROOT_MAX_ATTRIBUTE_BYTES": str(budget)},
        timeout=120,
    )
    _ok(result)
    assert "FLUSH True 0" in result.stdout, result.stdout + result.stderr
    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    spans = store.all_spans()
    assert len(spans) == 100
    (failed,) = [span for span in spans if span.status == "ERROR"]
    assert failed.name.startswith("huge-nnn")
    assert len(failed.name.encode()) <= budget
    assert failed.status_message is not None
    assert "xxxx" in failed.status_message
    assert len(failed.status_message.encode()) <= budget
    (event,) = failed.events
    assert event["name"] == "exception"
    for key, value in event["attributes"].items():
        assert len(str(value).encode()) <= budget, key
    assert "cut: " in event["attributes"]["exception.message"]


def test_a_batch_refused_as_too_large_is_split_until_the_huge_span_is_alone(
    tmp_path: Path,
) -> None:
    # Bodies over 20 kB are refused: the huge span, even cut to the 32 kB budget, is; a batch
    # of the small ones is not.
    url, answered, server = _refusing_server(lambda size: 413 if size > 20_000 else 200)
    try:
        result = run_script(
            HUGE_ERROR,
            cwd=str(tmp_path),
            env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": url,
                "TRACEROOT_FLUSH_INTERVAL": "60",  # one batch of 100, at the flush
                "TRACEROOT_FLUSH_AT": "100",
            },
            timeout=120,
        )
    finally:
        server.shutdown()
    _ok(result)
    # Only the huge span is lost, and counted: the 99 small ones went through.
    assert "FLUSH False 1" in result.stdout, result.stdout + result.stderr
    assert answered.count(200) >= 2
    assert answered[0] == 413


def test_every_span_the_full_queue_turns_away_is_counted_once_per_span() -> None:
    import logging
    import time

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    from traceroot.batching import BoundedBatchProcessor

    exported: list[int] = []

    class Slow(SpanExporter):
        def export(self, spans: object) -> SpanExportResult:
            time.sleep(0.01)
            exported.append(len(spans))  # type: ignore[arg-type]
            return SpanExportResult.SUCCESS

    processor = BoundedBatchProcessor(
        Slow(),
        full_queue_cause="the local store cannot write as fast as spans are made",
        max_queue_size=4,
        max_export_batch_size=2,
        schedule_delay_millis=1,
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("burst")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)

    def burst() -> None:
        for _ in range(500):
            tracer.start_span("s").end()

    import sys

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave between the queue's check and its append
    try:
        threads = [threading.Thread(target=burst) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        processor.force_flush()
    finally:
        sys.setswitchinterval(switching)
        logging.getLogger().removeHandler(handler)
        provider.shutdown()
    assert processor.dropped > 0
    assert sum(exported) + processor.dropped == 8 * 500
    messages = [record.getMessage() for record in records]
    assert not [m for m in messages if m.startswith("Queue full")]  # the SDK's own, per span
    (warning,) = [m for m in messages if "export queue is full" in m]
    assert "cannot write as fast" in warning
    assert "backend" not in warning


def test_the_local_store_gets_a_queue_for_bursts_and_remote_backends_the_setting() -> None:
    from traceroot import config, pipeline
    from traceroot.store_exporter import LocalStoreExporter

    settings = config.Settings(max_queue_size=100, flush_at=10)
    local = pipeline._batching(LocalStoreExporter(os.devnull), "local", settings)
    remote = pipeline._batching(LocalStoreExporter(os.devnull), "otlp", settings)
    try:
        assert local._batch_processor._max_queue_size >= 32_000
        assert "local store" in local.full_queue_cause
        assert remote._batch_processor._max_queue_size == 100
        assert remote.full_queue_cause == "the backend is slow or down"
    finally:
        local.shutdown()
        remote.shutdown()
