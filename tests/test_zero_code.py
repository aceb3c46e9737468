"""Zero-code use: an app run under ``opentelemetry-instrument`` (with ``opentelemetry-distro``).

Each case runs a small app in a fresh interpreter under the real ``opentelemetry-instrument``,
exporting over OTLP/HTTP to a receiver on 127.0.0.1 that this test starts; the app's OpenAI
client talks to the local OpenAI-compatible server. Needs ``opentelemetry-distro`` (the tox env
``distro``); skipped where it is not installed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.distro", reason="needs opentelemetry-distro (tox -e distro)")
pytest.importorskip("openai")

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from traceroot import semconv

from .conftest import run_python
from .integrations.openai_server import OpenAIServer, start_openai_server
from .otlp_receiver import Receiver, start_receiver

# The app traceroot never sees set up: no ``instrument()`` unless asked for on its command line.
APP = """
import sys

import traceroot
from traceroot import observe, using_attributes

@observe(type="agent")
def agent(question):
    if len(sys.argv) < 2 or sys.argv[1].startswith("--"):
        return "no model"
    import openai

    client = openai.OpenAI(base_url=sys.argv[1], api_key="sk-test")
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
    )
    return reply.choices[0].message.content

if "--instrument" in sys.argv:
    traceroot.instrument()
if "--initialize" in sys.argv:
    traceroot.initialize(integrations=[traceroot.Integration.OPENAI])
with using_attributes(session_id="chat-7", user_id="ada"):
    print("ANSWER", agent("hello there"))
print("SET UP", traceroot.pipeline.active() is not None)
"""


@pytest.fixture(scope="module")
def openai_server() -> Iterator[OpenAIServer]:
    found, server = start_openai_server()
    yield found
    server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found, server = start_receiver()
    yield found
    _stop(server)


def _stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


def _run_instrumented(app_dir: Path, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """``opentelemetry-instrument python app.py ARGS`` (its ``run()``, so this interpreter's
    environment is the one used, without relying on PATH)."""
    app = app_dir / "app.py"
    app.write_text(APP)
    launcher = (
        "import sys\n"
        "from opentelemetry.instrumentation.auto_instrumentation import run\n"
        f"sys.argv = ['opentelemetry-instrument', sys.executable, {str(app)!r}, *{args!r}]\n"
        "run()\n"
    )
    result = run_python(["-c", launcher], env=env, cwd=str(app_dir))
    return result.returncode, result.stdout, result.stderr


def _otlp_env(receiver: Receiver, **extra: str) -> dict[str, str]:
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        **extra,
    }


def _exported(receiver: Receiver) -> list[dict[str, Any]]:
    """Every span the receiver got, as often as it got it."""
    found = []
    for request in receiver.requests:
        message = ExportTraceServiceRequest()
        message.ParseFromString(request.body)
        for resource_spans in message.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: _value(a.value) for a in span.attributes}
                    found.append(
                        {
                            "id": span.span_id.hex(),
                            "parent": span.parent_span_id.hex() or None,
                            "name": span.name,
                            "attributes": attributes,
                        }
                    )
    return found


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def _by_type(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {span["attributes"][semconv.SPAN_TYPE]: span for span in spans}


def test_integrations_active_with_no_code_change(
    tmp_path: Path, openai_server: OpenAIServer, receiver: Receiver
) -> None:
    code, stdout, stderr = _run_instrumented(tmp_path, [openai_server.url], _otlp_env(receiver))
    assert code == 0, stderr
    assert "ANSWER echo: hello there" in stdout
    assert "SET UP True" in stdout
    spans = _exported(receiver)
    assert len(spans) == 2, spans
    kinds = _by_type(spans)
    agent, llm = kinds["agent"], kinds["llm"]
    assert llm["parent"] == agent["id"]
    assert llm["name"] == "chat gpt-4o-mini"
    assert llm["attributes"][semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert llm["attributes"][semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    for span in spans:
        assert span["attributes"][semconv.SESSION_ID] == "chat-7"
        assert span["attributes"][semconv.USER_ID] == "ada"
    # The distro's exporter carried them; traceroot added no store of its own.
    assert not (tmp_path / ".traceroot").exists()


def test_instrument_in_the_app_exports_each_span_once(
    tmp_path: Path, openai_server: OpenAIServer, receiver: Receiver
) -> None:
    code, _, stderr = _run_instrumented(
        tmp_path, [openai_server.url, "--instrument"], _otlp_env(receiver)
    )
    assert code == 0, stderr
    spans = _exported(receiver)
    ids = [span["id"] for span in spans]
    assert len(ids) == len(set(ids)) == 2, spans
    assert sorted(_by_type(spans)) == ["agent", "llm"]
    assert "already called" not in stderr
    assert not (tmp_path / ".traceroot").exists()


def test_initialize_in_the_app_adopts_the_set_up_and_an_explicit_exporter_is_added(
    tmp_path: Path, openai_server: OpenAIServer, receiver: Receiver
) -> None:
    env = _otlp_env(receiver, TRACEROOT_EXPORTER="local")
    code, _, stderr = _run_instrumented(tmp_path, [openai_server.url, "--initialize"], env)
    assert code == 0, stderr
    assert "already called" not in stderr  # the app's first call, not a second one
    spans = _exported(receiver)
    assert len({span["id"] for span in spans}) == len(spans) == 2
    # TRACEROOT_EXPORTER=local is another place than the distro's endpoint: both get the spans.
    from traceroot.store import SpanStore

    store = SpanStore(str(tmp_path / ".traceroot" / "traces.db"))
    (summary,) = store.traces(session_id="chat-7")
    assert summary["span_count"] == 2


def test_traceroot_in_disabled_instrumentations_leaves_the_app_alone(
    tmp_path: Path, receiver: Receiver
) -> None:
    env = _otlp_env(receiver, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="requests, traceroot")
    code, stdout, stderr = _run_instrumented(tmp_path, [], env)
    assert code == 0, stderr
    assert "ANSWER no model" in stdout
    assert "SET UP False" in stdout
    # traceroot is not set up; @observe still records on the distro's provider.
    (span,) = _exported(receiver)
    assert span["name"] == "agent"


def test_doctor_under_opentelemetry_instrument_says_what_it_joined(
    tmp_path: Path, receiver: Receiver
) -> None:
    launcher = (
        "import sys\n"
        "from opentelemetry.instrumentation.auto_instrumentation import run\n"
        "sys.argv = ['opentelemetry-instrument', sys.executable, '-m', 'traceroot.cli', "
        "'doctor', '--json']\n"
        "run()\n"
    )
    result = run_python(["-c", launcher], env=_otlp_env(receiver), cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["exporter"] == "none"
    assert report["provider"] == (
        "joined the app's tracer provider (set up by opentelemetry-instrument); its exporters: "
        f"OTLPSpanExporter -> {receiver.url}/v1/traces; traceroot added no exporter (the app's "
        f"tracer provider already exports to {receiver.url})"
    )
    assert report["zero_code"] == "traceroot loaded by it, with no code change"
    assert "traceroot" not in {item["name"] for item in report["other_instrumentations"]}


def test_the_instrumentor_is_registered_and_not_imported_by_traceroot() -> None:
    from importlib import metadata

    (entry,) = [
        entry
        for entry in metadata.entry_points(group="opentelemetry_instrumentor")
        if entry.name == "traceroot"
    ]
    assert entry.value == "traceroot.otel_instrumentor:TraceRootInstrumentor"
    result = run_python(
        [
            "-c",
            "import sys, traceroot; traceroot.instrument(exporter='none'); "
            "print(sorted(m for m in sys.modules if m.startswith("
            "('traceroot.otel_instrumentor', 'opentelemetry.instrumentation'))))",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert sys.modules.get("traceroot.otel_instrumentor") is None
