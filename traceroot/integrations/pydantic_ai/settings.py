"""Pydantic AI's instrumentation settings as traceroot switches them on (loaded with it)."""

from __future__ import annotations

import re
from typing import Any

from opentelemetry import trace
from pydantic_ai.models.instrumented import InstrumentationSettings

from traceroot.config import current

# Newest first. 3 is the first with the GenAI span names; 3 and 4 are deprecated where 5 exists
# (and warn), but then 5 is chosen.
_FORMAT_VERSIONS = (6, 5, 4, 3)


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
    version = format_version()
    if version is None:
        return TracerootInstrumentationSettings(tracer_provider=provider)
    return TracerootInstrumentationSettings(tracer_provider=provider, version=version)


def format_version() -> int | None:
    """The newest of :data:`_FORMAT_VERSIONS` the installed version declares (older versions
    accept a number they do not know without a word, so it is read from the signature)."""
    declared = InstrumentationSettings.__init__.__annotations__.get("version")
    known = {int(number) for number in re.findall(r"\d+", str(declared))}
    return next((version for version in _FORMAT_VERSIONS if version in known), None)
