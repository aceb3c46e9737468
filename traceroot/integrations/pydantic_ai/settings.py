"""Pydantic AI's instrumentation settings as traceroot switches them on (loaded with Pydantic AI)."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from pydantic_ai.models.instrumented import InstrumentationSettings

from traceroot.config import current

# Newest first; 2 to 4 are deprecated (and warn), so an older Pydantic AI keeps its own default.
_FORMAT_VERSIONS = (6, 5)


class TracerootInstrumentationSettings(InstrumentationSettings):  # type: ignore[misc]
    """Pydantic AI's settings, with content capture read from traceroot's settings in force
    when each span is recorded (``TRACEROOT_CAPTURE_CONTENT``), not once at start-up."""

    @property
    def include_content(self) -> bool:
        return current().capture_content

    @include_content.setter
    def include_content(self, value: bool) -> None:
        pass  # set by InstrumentationSettings.__init__; traceroot's settings decide


def instrumentation_settings() -> Any:
    """Settings that record Pydantic AI's spans on the process's tracer provider, in the newest
    data format the installed version has."""
    provider = trace.get_tracer_provider()
    for version in _FORMAT_VERSIONS:
        try:
            return TracerootInstrumentationSettings(tracer_provider=provider, version=version)
        except (TypeError, ValueError):
            continue
    return TracerootInstrumentationSettings(tracer_provider=provider)
