"""traceroot under ``opentelemetry-instrument``: zero-code use.

``opentelemetry-instrument python app.py`` loads every entry point in the group
``opentelemetry_instrumentor`` after the distro has set the global tracer provider (the
configurator runs first), instantiates it and calls ``instrument()``. traceroot's entry point,
``traceroot``, is this module's :class:`TraceRootInstrumentor`: it runs :func:`traceroot.instrument`
from the environment, which joins that provider (adding the context processor, and no exporter
where the provider already exports; see :mod:`traceroot.pipeline`) and turns on every installed
integration, each patched only when the app imports its framework.

Only that path imports this module (it needs ``opentelemetry-instrumentation``, which traceroot
does not depend on), so ``import traceroot`` stays as light as it is. ``traceroot`` in
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` skips it; one of traceroot's integration names there
turns that integration off, as it does for ``instrument()``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[import-not-found,attr-defined,unused-ignore]
    BaseInstrumentor,
)

from traceroot import guard


class TraceRootInstrumentor(BaseInstrumentor):  # type: ignore[misc,unused-ignore]
    """Every traceroot integration, as one OpenTelemetry instrumentor."""

    def instrumentation_dependencies(self) -> Collection[str]:
        # Each integration checks its own framework's version when that framework is imported;
        # none is needed for traceroot to load.
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        import traceroot
        from traceroot import pipeline

        with guard.contained("opentelemetry-instrument: traceroot.instrument()"):
            traceroot.instrument()
            active = pipeline.active()
            if active is not None:
                # The app's own instrument()/initialize() later adopts this set-up, not a second.
                active.zero_code = active.awaiting_app = True

    def _uninstrument(self, **kwargs: Any) -> None:
        import traceroot

        traceroot.uninstrument()
