"""Edges found by a hostile review of plugin discovery, the OpenTelemetry settings and joined
providers: a pathlib.Path on sys.path, exporters inside multi-span processors, the app's
exporter as the only way out (read as traceroot reads), a bad traceroot value beside an
OpenTelemetry setting, ADK's content mode, and the README's zero-code recipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import (
    ConcurrentMultiSpanProcessor,
    SynchronousMultiSpanProcessor,
    TracerProvider,
)
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from traceroot import config, joined_provider, sampling
from traceroot.integrations import discovery
from traceroot.joined_provider import Export

from .conftest import run_script
from .otlp_receiver import Receiver

# -- discovery: a pathlib.Path on sys.path ---------------------------------------------------------


def _plugin_dir(root: Path) -> Path:
    """A directory holding a third-party plugin's metadata, as an app would put on sys.path."""
    info = root / "review_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: review-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[traceroot.integrations]\nreview_toy = review_toy:ReviewToyIntegration\n"
    )
    return root


def test_quick_pass_reads_a_path_object_on_sys_path(tmp_path: Path) -> None:
    assert discovery.others_may_register([_plugin_dir(tmp_path)], []) is True


def test_instrument_with_a_path_object_on_sys_path_finds_its_plugin(tmp_path: Path) -> None:
    plugins = _plugin_dir(tmp_path / "plugins")
    result = run_script(
        f"""
import pathlib, sys
sys.path.insert(0, pathlib.Path({str(plugins)!r}))  # apps do append Path objects
import traceroot
from traceroot.integrations import registry
traceroot.instrument(exporter="none")
print("FOUND", "review_toy" in registry.discover())
""",
        cwd=str(tmp_path),
        env={"TRACEROOT_STRICT": "0"},
    )
    assert result.returncode == 0, result.stderr
    assert "FOUND True" in result.stdout


# -- joined providers: an exporter one processor deeper --------------------------------------------


@pytest.mark.parametrize("multi", [SynchronousMultiSpanProcessor, ConcurrentMultiSpanProcessor])
def test_an_exporter_inside_a_multi_span_processor_is_seen(multi: type) -> None:
    provider = TracerProvider()
    group = multi()
    group.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint="http://127.0.0.1:4318/v1/traces"))
    )
    provider.add_span_processor(group)
    try:
        assert joined_provider.provider_exports(provider) == [
            Export("OTLPSpanExporter", "http://127.0.0.1:4318/v1/traces")
        ]
    finally:
        provider.shutdown()


NESTED_APP = """
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import traceroot
from traceroot import observe

provider = TracerProvider()
group = SynchronousMultiSpanProcessor()
group.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
provider.add_span_processor(group)
trace.set_tracer_provider(provider)
traceroot.instrument()

@observe()
def helper():
    return 1

helper()
traceroot.flush(5)
provider.shutdown()
"""


def test_an_app_exporting_through_a_multi_span_processor_gets_each_span_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    result = run_script(
        NESTED_APP, cwd=str(tmp_path), env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
    )
    assert result.returncode == 0, result.stderr
    names = [name for request in receiver.requests for name, _ in request.spans()]
    assert names == ["helper"]


# -- joined providers: the skipped exporter also skips the reading of foreign spans ---------------

FOREIGN_APP = """
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import traceroot

provider = TracerProvider()
if {app_exports}:
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
traceroot.instrument()

# An OpenInference-instrumented model call inside another model span (a framework's).
tracer = trace.get_tracer("openinference.instrumentation.openai")
usage = {{"openinference.span.kind": "LLM", "llm.model_name": "m",
          "llm.token_count.prompt": 5, "llm.token_count.completion": 7}}
with tracer.start_as_current_span("framework call", attributes=usage):
    with tracer.start_as_current_span("ChatCompletion", attributes=usage):
        pass
traceroot.flush(5)
provider.shutdown()
"""


@pytest.mark.parametrize("app_exports", [True, False], ids=["app's exporter", "traceroot's"])
def test_other_tracers_spans_are_read_whichever_exporter_carries_them(
    tmp_path: Path, receiver: Receiver, app_exports: bool
) -> None:
    """Where the app already exports to traceroot's destination, its exporter is the only way
    out and reads them; without it, traceroot's own OTLP exporter does (the control)."""
    result = run_script(
        FOREIGN_APP.format(app_exports=app_exports),
        cwd=str(tmp_path),
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url},
    )
    assert result.returncode == 0, result.stderr
    spans = receiver.spans()
    assert spans["ChatCompletion"].get("gen_ai.usage.input_tokens") == 5
    assert "llm.token_count.prompt" not in spans["framework call"]


# -- settings: a bad traceroot value falls back past the OpenTelemetry setting -------------------


def test_a_bad_traceroot_enabled_falls_back_to_otel_sdk_disabled(
    logged: pytest.LogCaptureFixture,
) -> None:
    settings = config.load(env={"TRACEROOT_ENABLED": "maybe", "OTEL_SDK_DISABLED": "true"})
    assert settings.enabled is False
    assert not any("wins over" in message for message in logged.messages)


def test_a_bad_traceroot_capture_content_falls_back_to_the_otel_content_setting() -> None:
    settings = config.load(
        env={
            "TRACEROOT_CAPTURE_CONTENT": "nah",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false",
        }
    )
    assert settings.capture_content is False


def test_a_bad_traceroot_sample_rate_leaves_the_otel_sampler_in_force() -> None:
    env = {"TRACEROOT_SAMPLE_RATE": "half", "OTEL_TRACES_SAMPLER": "always_off"}
    settings = config.load(env=env)
    rate, _ = sampling.sampling_rule(settings, env=env)
    assert rate is None


# -- settings meet google_adk: the app's EVENT_ONLY becomes NO_CONTENT ---------------------------


def test_the_apps_event_only_content_mode_reaches_adk_unchanged(
    monkeypatch: pytest.MonkeyPatch, settings_override: object
) -> None:
    pytest.importorskip("google.adk")
    from google.adk.telemetry.context import ContentCapturingMode

    from traceroot.integrations.google_adk.hooks import _with_content_mode

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "EVENT_ONLY")
    loaded = config.load()
    assert loaded.capture_content is False  # traceroot writes content on spans only
    config.activate(loaded)  # settings_override puts the suite's settings back afterwards
    run_config = _with_content_mode(None)
    mode = None if run_config is None else run_config.telemetry.capture_message_content
    assert mode is not ContentCapturingMode.NO_CONTENT


# -- zero-code: the README's recipe as written ------------------------------------------------------


def test_the_readme_zero_code_recipe_sets_traceroot_up(tmp_path: Path, receiver: Receiver) -> None:
    pytest.importorskip("opentelemetry.distro")
    app = tmp_path / "app.py"
    app.write_text("import traceroot\nprint('SET UP', traceroot.pipeline.active() is not None)\n")
    launcher = (
        "import sys\n"
        "from opentelemetry.instrumentation.auto_instrumentation import run\n"
        f"sys.argv = ['opentelemetry-instrument', sys.executable, {str(app)!r}]\n"
        "run()\n"
    )
    # "OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_* as usual": an endpoint, nothing else.
    result = run_script(
        launcher,
        cwd=str(tmp_path),
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "SET UP True" in result.stdout, result.stderr[-2000:]
