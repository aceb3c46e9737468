"""Integrations whose spans come from another package's OpenTelemetry instrumentor.

Where a framework has no tracing of its own that traceroot can switch on, its OpenInference
instrumentor (installed by the integration's extra, ``pip install "traceroot[crewai]"``) is the
best-kept source of its telemetry: traceroot runs it against the process's tracer provider (the
one traceroot owns or joined), with content capture following ``TRACEROOT_CAPTURE_CONTENT``, and
reads its spans like any other tracer's (:mod:`traceroot.foreign`): session and user stamped, kinds
typed, one usage-carrying span per model call.

A subclass names the instrumentor and its distribution; ``instrument()`` raises
:class:`TelemetryMissingError` when that package is absent, and the registry shows the
integration as ``telemetry package missing`` with the command that installs it.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

from traceroot.integrations.base import BaseIntegration


class TelemetryMissingError(RuntimeError):
    """The package an integration takes its spans from is not installed; the message says how
    to install it."""


class InstrumentorIntegration(BaseIntegration):
    """A framework traced by an OpenTelemetry instrumentor (``BaseInstrumentor``) run against the
    process's tracer provider.

    ``instrumentor`` is ``"package.module:ClassName"``; ``telemetry_distribution`` is the
    distribution that provides it and ``extra`` the traceroot extra that installs it.
    """

    instrumentor: ClassVar[str] = ""
    telemetry_distribution: ClassVar[str] = ""
    extra: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self._running: Any = None
        self.note = ""  # said by integrations_status() while active

    def install_hint(self) -> str:
        return f'pip install "traceroot[{self.extra or self.name}]"'

    def missing_telemetry(self) -> str | None:
        """``None`` when the instrumentor's distribution is installed, else what to install (for
        ``integrations_status()`` and ``traceroot doctor``: a metadata lookup, which imports
        nothing, where finding the module would import its parent packages)."""
        from importlib import metadata  # not at instrument(): it costs 15 ms to import

        try:
            metadata.distribution(self.telemetry_distribution)
        except metadata.PackageNotFoundError:
            return f"{self.telemetry_distribution} is not installed: {self.install_hint()}"
        return None

    def instrumentor_options(self) -> dict[str, Any]:
        """Keyword arguments for the instrumentor's ``instrument()`` besides the provider: by
        default OpenInference's content settings, following ``TRACEROOT_CAPTURE_CONTENT``."""
        return {"config": openinference_config()}

    def instrument(self) -> None:
        with self._lock:
            if self._instrumented:
                return
            missing = self.missing_telemetry()
            if missing is not None:
                raise TelemetryMissingError(missing)
            module_name, _, class_name = self.instrumentor.partition(":")
            instrumentor = getattr(importlib.import_module(module_name), class_name)()
            if getattr(instrumentor, "is_instrumented_by_opentelemetry", False):
                # BaseInstrumentor is one instance per class: the app ran it already, on a
                # provider of its choosing. Leave it to the app (uninstrument() must not switch
                # the app's instrumentation off); its spans reach traceroot where that provider
                # is the one traceroot owns or joined.
                self.note = "instrumented by the app itself; left as the app set it up"
            else:
                from opentelemetry import trace

                instrumentor.instrument(
                    tracer_provider=trace.get_tracer_provider(), **self.instrumentor_options()
                )
                if not getattr(instrumentor, "is_instrumented_by_opentelemetry", True):
                    # BaseInstrumentor declines (and only logs) when the framework's version is
                    # outside the instrumentor's own range.
                    raise RuntimeError(
                        f"{self.telemetry_distribution} declined to instrument the installed "
                        f"{self.distribution}; see its log message for the version it needs"
                    )
                self._running = instrumentor
            super().instrument()

    def uninstrument(self) -> None:
        with self._lock:
            running, self._running = self._running, None
            self.note = ""
            if running is not None:
                running.uninstrument()
            super().uninstrument()


def openinference_config() -> Any:
    """OpenInference's ``TraceConfig`` with inputs and outputs hidden when content capture is
    off (what it hides, traceroot's reader has nothing to read)."""
    from openinference.instrumentation import TraceConfig

    from traceroot.config import current

    hidden = not current().capture_content
    return TraceConfig(
        hide_inputs=hidden,
        hide_outputs=hidden,
        hide_input_messages=hidden,
        hide_output_messages=hidden,
        hide_input_text=hidden,
        hide_output_text=hidden,
        hide_llm_invocation_parameters=False,
    )
