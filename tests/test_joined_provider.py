"""Joining a provider that already exports: no second exporter to the same place.

The choice itself is a function of the settings and the joined provider's exporters, tested as a
table; two fresh interpreters show it end to end (the global provider can be set only once).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from traceroot import config, joined_provider
from traceroot.foreign import ReadingExporter
from traceroot.joined_provider import Export
from traceroot.processor import ContextProcessor
from traceroot.store import SpanStore

from .conftest import run_script
from .otlp_receiver import Receiver

TRACEROOT_CLOUD = "https://app.traceroot.ai/api/v1/public/traces"


def test_the_exporters_already_on_a_provider_are_read_from_its_processors() -> None:
    provider = TracerProvider()
    batch = BatchSpanProcessor(OTLPSpanExporter(endpoint="http://127.0.0.1:4318/v1/traces"))
    provider.add_span_processor(batch)
    provider.add_span_processor(SimpleSpanProcessor(ReadingExporter(ConsoleSpanExporter())))
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    provider.add_span_processor(ContextProcessor())  # exports nothing
    try:
        assert joined_provider.provider_exports(provider) == [
            Export("OTLPSpanExporter", "http://127.0.0.1:4318/v1/traces"),
            Export("ConsoleSpanExporter", "the console"),
            Export("InMemorySpanExporter", "memory"),
        ]
    finally:
        provider.shutdown()


def _settings(**given: object) -> config.Settings:
    return config.load(given, env={})


OTLP_HTTP = Export("OTLPSpanExporter", "http://127.0.0.1:4318/v1/traces")


@pytest.mark.parametrize(
    ("given", "joined", "expected"),
    [
        # Nothing exporting on the provider (or traceroot's own): the usual choice.
        ({}, [], ("local", None)),
        ({"exporter": "none"}, [OTLP_HTTP], ("none", None)),
        # auto: the local store is another place than the app's collector, added as always;
        # an OTLP endpoint the app's exporter already sends to is not added a second time.
        ({}, [OTLP_HTTP], ("local", None)),
        (
            {"otlp_endpoint": "http://127.0.0.1:4318"},
            [OTLP_HTTP],
            ("none", "the app's tracer provider already exports to http://127.0.0.1:4318"),
        ),
        # A key is a destination of its own, added unless the app already sends there.
        ({"api_key": "tr-key"}, [OTLP_HTTP], ("traceroot", None)),
        (
            {"api_key": "tr-key"},
            [Export("OTLPSpanExporter", TRACEROOT_CLOUD)],
            ("none", f"the app's tracer provider already exports to {TRACEROOT_CLOUD}"),
        ),
        # An explicit OTLP exporter to the endpoint the app's exporter has: a base endpoint and
        # its /v1/traces are one place; gRPC endpoints come without a scheme.
        (
            {"exporter": "otlp", "otlp_endpoint": "http://127.0.0.1:4318/"},
            [OTLP_HTTP],
            ("none", "the app's tracer provider already exports to http://127.0.0.1:4318/"),
        ),
        (
            {"exporter": "otlp", "otlp_endpoint": "http://127.0.0.1:4319"},
            [OTLP_HTTP],
            ("otlp", None),
        ),
        (
            {"exporter": "otlp", "otlp_endpoint": "http://collector:4317", "otlp_protocol": "grpc"},
            [Export("OTLPSpanExporter", "collector:4317")],
            ("none", "the app's tracer provider already exports to http://collector:4317"),
        ),
        ({"exporter": "otlp"}, [Export("OTLPSpanExporter", "localhost:4317")], ("otlp", None)),
        # Another printout or store is another place; the same store file is not.
        (
            {"exporter": "console"},
            [Export("ConsoleSpanExporter", "the console")],
            ("console", None),
        ),
        ({"exporter": "local"}, [OTLP_HTTP], ("local", None)),
        (
            {"exporter": "local", "store_path": "/data/t.db"},
            [Export("LocalStoreExporter", "/data/t.db")],
            ("none", "the app's tracer provider already exports to /data/t.db"),
        ),
    ],
)
def test_no_second_exporter_to_the_same_place(
    given: dict[str, object], joined: list[Export], expected: tuple[str, str | None]
) -> None:
    assert joined_provider.choose_exporter(_settings(**given), joined) == expected


APP_WITH_ITS_OWN_EXPORTER = """
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import traceroot
from traceroot import observe, pipeline, using_attributes

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
traceroot.instrument()

@observe(type="agent")
def agent():
    return helper()

@observe()
def helper():
    return 1

with using_attributes(session_id="s-9"):
    agent()
print("DESCRIBE", pipeline.active().describe())
provider.shutdown()
"""


def test_an_app_exporting_to_the_otlp_endpoint_gets_each_span_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    """The app exports to the endpoint in OTEL_EXPORTER_OTLP_ENDPOINT, which alone would make
    traceroot's ``auto`` add an OTLP exporter of its own: every span would arrive twice."""
    result = run_script(
        APP_WITH_ITS_OWN_EXPORTER,
        cwd=str(tmp_path),
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url},
    )
    assert result.returncode == 0, result.stderr
    names = sorted(name for request in receiver.requests for name, _ in request.spans())
    assert names == ["agent", "helper"]
    assert receiver.spans()["helper"]["session.id"] == "s-9"
    assert (
        f"DESCRIBE joined the app's tracer provider; its exporters: OTLPSpanExporter -> "
        f"{receiver.url}/v1/traces; traceroot added no exporter (the app's tracer provider already exports to "
        f"{receiver.url})"
    ) in result.stdout
    assert not (tmp_path / ".traceroot").exists()


def test_joining_traceroots_own_provider_again_is_not_joining_an_exporting_app(
    tmp_path: Path,
) -> None:
    """After ``shutdown()``, set-up again joins the provider traceroot set before; the exporter it
    left there is traceroot's, not the app's, so the local store is added again."""
    result = run_script(
        """
import traceroot
from traceroot import observe, pipeline

@observe()
def step(n):
    return n

traceroot.instrument()
step(1)
traceroot.shutdown()
traceroot.instrument()
step(2)
assert traceroot.flush(5)
print("DESCRIBE", pipeline.active().describe())
""",
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    store_path = os.path.realpath(tmp_path / ".traceroot" / "traces.db")
    assert (
        "DESCRIBE joined the app's tracer provider; its exporters: none; "
        "traceroot added the local exporter -> "
    ) in result.stdout
    assert len(SpanStore(store_path).traces()) == 2


def test_the_apps_own_call_after_opentelemetry_instrument_adopts_its_set_up(
    tmp_path: Path,
) -> None:
    """As traceroot.otel_instrumentor leaves it: the app's call is its first, not a second one;
    its content setting applies, its export settings are named as ignored."""
    result = run_script(
        """
import traceroot
from traceroot import config, pipeline

traceroot.instrument()   # what opentelemetry-instrument runs, from the environment
active = pipeline.active()
active.zero_code = active.awaiting_app = True
traceroot.instrument(capture_content=False, api_key="tr-key-1234")
assert pipeline.active() is active
print("CAPTURE", config.current().capture_content)
traceroot.initialize()   # now a second call
""",
        cwd=str(tmp_path),
        env={"TRACEROOT_EXPORTER": "none"},
    )
    assert result.returncode == 0, result.stderr
    assert "CAPTURE False" in result.stdout
    assert result.stderr.count("initialize() was already called") == 1
    assert (
        "traceroot: opentelemetry-instrument set traceroot up from the environment before the "
        "app ran, so where spans go is fixed (the app's own span processors); the app's "
        "api_key is ignored: set them as TRACEROOT_* variables instead"
    ) in result.stderr
