"""Where spans go, each case in a fresh interpreter (the global provider can be set only once)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

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
    assert lines[1].startswith("  [agent] agent")
    assert "session=console-s" in lines[1]
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
