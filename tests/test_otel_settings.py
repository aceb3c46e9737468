"""OpenTelemetry settings an app already has, honoured as the OpenTelemetry SDK and the GenAI
instrumentations honour them: ``OTEL_SDK_DISABLED``,
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, ``OTEL_EXPORTER_OTLP_PROTOCOL``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import traceroot
from traceroot import config, semconv

from .conftest import Spans, run_script
from .integrations.openai_server import start_openai_server
from .otlp_receiver import Receiver


def _load(env: Mapping[str, str], **arguments: Any) -> config.Settings:
    return config.load(arguments, env=env)


# -- OTEL_SDK_DISABLED ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "TRUE", " True "])
def test_otel_sdk_disabled_turns_traceroot_off(
    value: str, logged: pytest.LogCaptureFixture
) -> None:
    assert _load({"OTEL_SDK_DISABLED": value}).enabled is False
    assert logged.messages == []


@pytest.mark.parametrize("value", ["false", "", "FALSE"])
def test_otel_sdk_not_disabled_leaves_traceroot_on(
    value: str, logged: pytest.LogCaptureFixture
) -> None:
    assert _load({"OTEL_SDK_DISABLED": value}).enabled is True
    assert logged.messages == []


def test_otel_sdk_disabled_bad_value_warns_once_and_stays_enabled(
    logged: pytest.LogCaptureFixture,
) -> None:
    # As the SDK reads it: only "true" disables, so "1" leaves the SDK, and traceroot, on.
    first = _load({"OTEL_SDK_DISABLED": "1"})
    second = _load({"OTEL_SDK_DISABLED": "1"})
    assert first.enabled is second.enabled is True
    assert len(logged.messages) == 1
    assert "OTEL_SDK_DISABLED" in logged.messages[0]
    assert "true | false" in logged.messages[0]


def test_traceroot_enabled_set_explicitly_wins(logged: pytest.LogCaptureFixture) -> None:
    assert _load({"OTEL_SDK_DISABLED": "false", "TRACEROOT_ENABLED": "false"}).enabled is False
    assert logged.messages == []
    on = _load({"OTEL_SDK_DISABLED": "true", "TRACEROOT_ENABLED": "true"})
    assert on.enabled is True
    # The SDK still records nothing under OTEL_SDK_DISABLED=true: said once, not left to guess.
    assert len(logged.messages) == 1
    assert "record no span while OTEL_SDK_DISABLED=true" in logged.messages[0]
    assert _load({"OTEL_SDK_DISABLED": "true"}, enabled=True).enabled is True
    assert len(logged.messages) == 1


DISABLED_APP = """
import sys, threading
import traceroot
from opentelemetry import trace

original_start, original_run = threading.Thread.start, threading.Timer.run

def plain(x):
    assert trace.get_current_span() is trace.INVALID_SPAN  # no span around the call
    return x * 2

observed = traceroot.observe(plain)
traceroot.{setup}
assert observed(21) == 42
assert traceroot.get_current_trace_id() is None
assert getattr(observed, "__wrapped__", observed) is plain

import openai                              # an integration's target imported after set-up
from openai._base_client import SyncAPIClient
assert not hasattr(SyncAPIClient.request, "__wrapped__"), "openai patched"
assert (threading.Thread.start, threading.Timer.run) == (original_start, original_run)
busy = [s.name for s in traceroot.integrations_status() if s.state in ("active", "waiting for import")]
assert busy == [], busy
assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
print("SDK", "opentelemetry.sdk.trace" in sys.modules)
"""


@pytest.mark.parametrize("setup", ["instrument()", "initialize(integrations=['openai'])"])
def test_otel_sdk_disabled_patches_nothing_sets_no_provider_and_observe_passes_through(
    setup: str, tmp_path: Any
) -> None:
    result = run_script(
        DISABLED_APP.replace("{setup}", setup),
        env={"OTEL_SDK_DISABLED": "true"},
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "SDK False" in result.stdout  # no provider made, the SDK not even imported
    assert "traceroot: warning" not in result.stderr.lower()
    assert not (tmp_path / ".traceroot").exists()


# -- OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT ------------------------------------------

CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


@pytest.mark.parametrize(
    ("value", "captured"),
    [
        ("true", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("SPAN_ONLY", True),
        ("span_and_event", True),
        ("EVENT_ONLY", False),  # content in events only: traceroot writes it on spans
        ("NO_CONTENT", False),
    ],
)
def test_otel_content_setting_values(
    value: str, captured: bool, logged: pytest.LogCaptureFixture
) -> None:
    assert _load({CONTENT: value}).capture_content is captured
    assert logged.messages == []


def test_content_default_without_any_setting() -> None:
    assert _load({}).capture_content is True
    assert _load({CONTENT: "  "}).capture_content is True


def test_traceroot_capture_content_wins_over_the_otel_setting(
    logged: pytest.LogCaptureFixture,
) -> None:
    assert _load({CONTENT: "false", "TRACEROOT_CAPTURE_CONTENT": "true"}).capture_content is True
    assert _load({CONTENT: "true", "TRACEROOT_CAPTURE_CONTENT": "false"}).capture_content is False
    # Not read at all when TRACEROOT_CAPTURE_CONTENT decides: no warning about its value.
    assert _load({CONTENT: "bogus", "TRACEROOT_CAPTURE_CONTENT": "off"}).capture_content is False
    assert logged.messages == []


def test_argument_wins_over_both_variables() -> None:
    env = {CONTENT: "false", "TRACEROOT_CAPTURE_CONTENT": "false"}
    assert _load(env, capture_content=True).capture_content is True
    env = {CONTENT: "SPAN_ONLY", "TRACEROOT_CAPTURE_CONTENT": "true"}
    assert _load(env, capture_content=False).capture_content is False


def test_bad_otel_content_value_warns_once_and_keeps_the_default(
    logged: pytest.LogCaptureFixture,
) -> None:
    first = _load({CONTENT: "sometimes"})
    second = _load({CONTENT: "sometimes"})
    assert first.capture_content is second.capture_content is True
    assert len(logged.messages) == 1
    (said,) = logged.messages
    assert f"{CONTENT}='sometimes' is not valid" in said
    assert "true | false | SPAN_ONLY | SPAN_AND_EVENT | EVENT_ONLY | NO_CONTENT" in said


@pytest.fixture(scope="module")
def openai_url() -> Iterator[str]:
    found, server = start_openai_server()
    yield found.url
    server.shutdown()


CONTENT_CASES = [
    ({CONTENT: "false"}, {}, False),
    ({CONTENT: "NO_CONTENT"}, {}, False),
    ({CONTENT: "SPAN_ONLY"}, {}, True),
    ({CONTENT: "false", "TRACEROOT_CAPTURE_CONTENT": "true"}, {}, True),
    ({CONTENT: "true"}, {"capture_content": False}, False),
]


def _assert_content(attributes: Mapping[str, Any], captured: bool) -> None:
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-test"
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS in attributes  # the span itself is whole
    content_keys = {semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES}
    if captured:
        assert content_keys <= attributes.keys()
    else:
        assert content_keys.isdisjoint(attributes)
        assert all("secret plan" not in str(value) for value in attributes.values())


@pytest.mark.parametrize(("env", "arguments", "captured"), CONTENT_CASES)
def test_content_on_the_llm_span_follows_the_settings(
    env: dict[str, str],
    arguments: dict[str, Any],
    captured: bool,
    openai_url: str,
    spans: Spans,
    settings_override: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import openai

    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    config.activate(config.load(arguments))  # read from this process's environment
    traceroot.instrument(integrations=["openai"])
    try:
        client = openai.OpenAI(api_key="sk-test", base_url=openai_url, max_retries=0)
        client.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "the secret plan"}]
        )
    finally:
        traceroot.uninstrument()
    (llm,) = [s for s in spans.all() if (s.attributes or {}).get(semconv.SPAN_TYPE) == "llm"]
    _assert_content(dict(llm.attributes or {}), captured)


CHAT_APP = """
import json, openai, traceroot
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
traceroot.instrument(exporter="none", integrations=["openai"])
client = openai.OpenAI(api_key="sk-test", base_url="{url}", max_retries=0)
client.chat.completions.create(
    model="gpt-test", messages=[{{"role": "user", "content": "the secret plan"}}]
)
(llm,) = [s for s in exporter.get_finished_spans() if s.attributes.get("{span_type}") == "llm"]
print("LLM", json.dumps(dict(llm.attributes)))
"""


def test_otel_content_setting_read_by_a_fresh_process(openai_url: str, tmp_path: Any) -> None:
    code = CHAT_APP.format(url=openai_url, span_type=semconv.SPAN_TYPE)
    result = run_script(code, env={CONTENT: "false"}, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("LLM ")]
    _assert_content(json.loads(line.removeprefix("LLM ")), captured=False)


# -- OTEL_EXPORTER_OTLP_PROTOCOL -----------------------------------------------------------------


@pytest.mark.parametrize(
    "variable", ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]
)
def test_http_json_is_refused_with_one_warning_naming_the_setting(
    variable: str, logged: pytest.LogCaptureFixture
) -> None:
    env = {variable: "HTTP/JSON", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    first, second = _load(env), _load(env)
    assert first.otlp_protocol == second.otlp_protocol == "http/protobuf"
    assert len(logged.messages) == 1
    assert f"{variable}=http/json is not supported" in logged.messages[0]
    assert "protobuf over HTTP" in logged.messages[0]


def test_http_json_says_nothing_where_spans_do_not_go_over_otlp(
    logged: pytest.LogCaptureFixture,
) -> None:
    # A variable kept for other tools in the process; traceroot writes to its local store.
    assert _load({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}).resolved_exporter() == "local"
    assert logged.messages == []


def test_traces_protocol_wins_and_an_unknown_one_warns(logged: pytest.LogCaptureFixture) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
    }
    assert _load(env).otlp_protocol == "http/protobuf"
    assert _load({"OTEL_EXPORTER_OTLP_PROTOCOL": "GRPC"}).otlp_protocol == "grpc"
    assert logged.messages == []
    bad = _load({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/xml"})
    assert bad.otlp_protocol == "http/protobuf"
    assert len(logged.messages) == 1
    assert "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='http/xml' is not valid" in logged.messages[0]
    assert "http/protobuf | grpc" in logged.messages[0]


EXPORTING_APP = """
import traceroot

@traceroot.observe(type="agent")
def agent(question):
    return "42"

traceroot.instrument()
agent("q")
assert traceroot.flush(10)
"""


def test_http_json_export_arrives_as_protobuf_with_one_warning(
    receiver: Receiver, tmp_path: Any
) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
    }
    result = run_script(EXPORTING_APP, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert [r.path for r in receiver.requests] == ["/v1/traces"]
    assert receiver.requests[0].headers["content-type"] == "application/x-protobuf"
    assert receiver.spans()["agent"][semconv.SPAN_TYPE] == "agent"  # the body is protobuf
    said = [line for line in result.stderr.splitlines() if "http/json" in line]
    assert len(said) == 1, result.stderr
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=http/json is not supported" in said[0]
