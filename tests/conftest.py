"""Shared fixtures: one SDK provider per test session, with an in-memory exporter the tests read.

traceroot joins that provider (``exporter="none"``), exactly as it joins an app's own provider.
Tests that need a fresh process (owning the provider, the local store, start-up imports) run a
script in a subprocess with :func:`run_script`.
"""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator, Mapping
from typing import Final

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import traceroot
from traceroot import config, logs, semconv
from traceroot.foreign import ReadingExporter

from .otlp_receiver import Receiver, start_receiver

os.environ.setdefault("TRACEROOT_STRICT", "1")

_exporter = InMemorySpanExporter()


class Spans:
    """The spans finished during one test, with lookups that fail loudly."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self._exporter = exporter

    def all(self) -> list[ReadableSpan]:
        return list(self._exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.all() if span.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, f"expected one span {name!r}, got {[s.name for s in self.all()]}"
        return found[0]

    def clear(self) -> None:
        self._exporter.clear()

    def assert_no_content(self) -> None:
        """No span holds inputs, outputs, messages, tool arguments or results, in any convention
        a tracer of the process writes, nor an event carrying them (content capture is off)."""
        for span in self.all():
            for key in span.attributes or {}:
                assert not is_content(key), (span.name, key)
            for event in span.events:
                assert not is_content_event(event.name, event.attributes or {}), (
                    span.name,
                    event.name,
                )


# Attributes that hold content (prompts, replies, inputs, outputs, tool arguments and results):
# traceroot's, the GenAI conventions' (and their older span-event era), OpenInference's, and the
# frameworks' own.
CONTENT_KEYS: Final = frozenset(
    {
        semconv.SPAN_INPUT,
        semconv.SPAN_OUTPUT,
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
        semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
        semconv.GEN_AI_TOOL_CALL_RESULT,
        semconv.OPENINFERENCE_INPUT_VALUE,
        semconv.OPENINFERENCE_OUTPUT_VALUE,
        semconv.OPENINFERENCE_TOOL_PARAMETERS,
        "gen_ai.prompt",
        "gen_ai.completion",
        "llm.prompts",
        "llm.prompt_template.variables",
        # CrewAI (OpenInference's instrumentor), smolagents, Pydantic AI (every data format)
        "crew_inputs",
        "crew_agents",
        "crew_tasks",
        "smolagents.task",
        "pydantic_ai.all_messages",
        "final_result",
        "events",
        "tool_arguments",
        "tool_response",
    }
)
CONTENT_PREFIXES: Final = (
    semconv.OPENINFERENCE_INPUT_MESSAGES_PREFIX,
    semconv.OPENINFERENCE_OUTPUT_MESSAGES_PREFIX,
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "llm.prompts.",
    "embedding.embeddings.",
    "retrieval.documents.",
)
# Span events of the GenAI conventions that carry a message (Pydantic AI's event_mode, older
# instrumentations), and the attributes they carry it in.
_CONTENT_EVENT_KEYS: Final = frozenset(
    {"content", "message", "body", "tool_calls", "gen_ai.prompt"}
)


def is_content(key: str) -> bool:
    return key in CONTENT_KEYS or key.startswith(CONTENT_PREFIXES)


def is_content_event(name: str, attributes: Mapping[str, object]) -> bool:
    if name.startswith("gen_ai.") and not _CONTENT_EVENT_KEYS.isdisjoint(attributes):
        return True
    return any(is_content(key) for key in attributes)


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


@pytest.fixture(scope="session")
def _traceroot_on_test_provider() -> None:
    provider = TracerProvider()
    # As traceroot's own exporters see them: other tracers' GenAI spans read like ours.
    provider.add_span_processor(SimpleSpanProcessor(ReadingExporter(_exporter)))
    trace.set_tracer_provider(provider)
    traceroot.instrument(exporter="none", integrations=[])


@pytest.fixture
def spans(_traceroot_on_test_provider: None) -> Iterator[Spans]:
    _exporter.clear()
    yield Spans(_exporter)
    _exporter.clear()


REQUIRED_ENV = "TRACEROOT_REQUIRE_FRAMEWORKS"


def required(module: str) -> types.ModuleType:
    """Import ``module`` for a test file (call it at the file's top); skip the file if it is
    missing, unless ``TRACEROOT_REQUIRE_FRAMEWORKS`` names it (the tox env made to test that
    framework or provider), where a missing module fails instead."""
    names = {name.strip() for name in os.environ.get(REQUIRED_ENV, "").split(",")}
    if module in names:
        return importlib.import_module(module)
    return pytest.importorskip(module)


@pytest.fixture
def settings_override() -> Iterator[object]:
    """Swap the settings in force for one test: ``settings_override(capture_content=False)``."""
    saved = config.current()

    def apply(**changes: object) -> None:
        config.activate(config._apply_overrides(saved, changes))

    yield apply
    config.activate(saved)


def run_script(
    code: str, env: Mapping[str, str] | None = None, cwd: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with a clean traceroot/OTel environment."""
    return run_python(["-c", textwrap.dedent(code)], env=env, cwd=cwd, timeout=timeout)


def run_python(
    args: list[str],
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``python *args`` with a clean traceroot/OTel environment."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TRACEROOT_", "OTEL_"))
    }
    clean["TRACEROOT_STRICT"] = "1"
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, *args],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An OTLP/HTTP receiver on 127.0.0.1, answering 200."""
    found, server = start_receiver()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.LogCaptureFixture]:
    """traceroot's warnings (``logged.messages``), each key warned anew in every test."""
    monkeypatch.setattr(logs, "_seen", set())
    with caplog.at_level(logging.WARNING, logger="traceroot"):
        yield caplog
