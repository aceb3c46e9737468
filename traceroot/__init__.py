"""traceroot: observability for AI agents in one line.

    import traceroot
    traceroot.instrument()

Importing traceroot imports no AI framework and not the OpenTelemetry SDK; ``instrument()`` sets
up export and patches each installed integration only when the app imports its framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from traceroot import config as _config
from traceroot import pipeline as _pipeline
from traceroot._version import __version__
from traceroot.context import using_attributes, using_session, using_user
from traceroot.current import (
    get_current_span_id,
    get_current_trace_id,
    update_current_span,
    update_current_trace,
)
from traceroot.integrations.names import Integration
from traceroot.logs import logger, warn_once
from traceroot.observe import observe, start_span
from traceroot.spans import ObservedSpan, SpanKind

if TYPE_CHECKING:
    from traceroot.integrations.registry import IntegrationStatus

__all__ = [
    "Integration",
    "ObservedSpan",
    "SpanKind",
    "__version__",
    "dropped_spans",
    "export_failures",
    "flush",
    "get_current_span_id",
    "get_current_trace_id",
    "initialize",
    "instrument",
    "integrations_status",
    "observe",
    "shutdown",
    "start_span",
    "uninstrument",
    "update_current_span",
    "update_current_trace",
    "using_attributes",
    "using_session",
    "using_user",
]


def instrument(
    *,
    integrations: Iterable[Integration | str] | None = None,
    exporter: str | None = None,
    api_key: str | None = None,
    host_url: str | None = None,
    environment: str | None = None,
    capture_content: bool | None = None,
    store_path: str | None = None,
    enabled: bool | None = None,
    redact: Callable[[Any], Any] | None = None,
) -> None:
    """Set up tracing once and instrument every installed integration (or only ``integrations``).

    Arguments override the environment (see the README). Calling it again is harmless::

        import traceroot
        traceroot.instrument()                      # everything installed
        traceroot.instrument(integrations=["openai"])  # or a chosen few
    """
    settings = _config.load(
        {
            "exporter": exporter,
            "api_key": api_key,
            "host_url": host_url,
            "environment": environment,
            "capture_content": capture_content,
            "store_path": store_path,
            "enabled": enabled,
            "redact": redact,
        }
    )
    _start(settings, integrations, every_integration=True)


def initialize(
    api_key: str | None = None,
    host_url: str | None = None,
    flush_interval: float | None = None,
    batch_size: int | None = None,
    timeout: float | None = None,
    enabled: bool | None = None,
    integrations: Iterable[Integration | str] | None = None,
    git_repo: str | None = None,
    git_ref: str | None = None,
    redact: Callable[[Any], Any] | None = None,
    *,
    environment: str | None = None,
    exporter: str | None = None,
) -> None:
    """The TraceRoot SDK's set-up call: export spans and turn on the named ``integrations``.

    Unlike :func:`instrument`, no integration is turned on unless named, as in the TraceRoot SDK.
    A second call warns and keeps the first configuration::

        traceroot.initialize(integrations=[traceroot.Integration.OPENAI])
    """
    active = _pipeline.active()
    if active is not None and not active.awaiting_app:  # after opentelemetry-instrument: adopted
        logger.warning(
            "traceroot: initialize() was already called; keeping the first configuration "
            "(call traceroot.shutdown() first to start again)"
        )
        return
    settings = _config.load(
        {
            "api_key": api_key,
            "host_url": host_url,
            "flush_interval": flush_interval,
            "flush_at": batch_size,
            "timeout": timeout,
            "enabled": enabled,
            "git_repo": git_repo,
            "git_ref": git_ref,
            "redact": redact,
            "environment": environment,
            "exporter": exporter,
        }
    )
    _start(settings, integrations, every_integration=False)


def _start(
    settings: _config.Settings,
    integrations: Iterable[Integration | str] | None,
    *,
    every_integration: bool,
) -> None:
    pipeline = _pipeline.setup(settings)
    if pipeline is not None:
        logger.info("traceroot: spans go to %s", pipeline.destination)
    if not _config.current().enabled:
        return
    from traceroot.integrations import registry

    integrations = _checked_integrations(integrations)
    if integrations is not None and not integrations:
        return  # ``integrations=[]``: nothing at all, not even the context carried into threads
    if integrations is not None or every_integration:
        registry.instrument(_with_context_carrying(integrations))
    else:
        registry.instrument(_CONTEXT_CARRYING)


# Carrying the context into threads is core behaviour, not a framework integration: it is on
# with any choice of integrations unless switched off (TRACEROOT_INSTRUMENT_THREADING=false).
_CONTEXT_CARRYING: Final = (Integration.THREADING,)


def _checked_integrations(
    integrations: Iterable[Integration | str] | None,
) -> list[Integration | str] | None:
    """The ``integrations`` argument as a list; anything that is not names warns once and counts
    as not given (``instrument`` then turns on everything installed)."""
    if integrations is None:
        return None
    if isinstance(integrations, (str, Integration)):
        return [integrations]
    try:
        names = list(integrations)
    except TypeError:
        names = None
    if names is None or not all(isinstance(name, (str, Integration)) for name in names):
        warn_once(
            "argument:integrations",
            "traceroot: integrations=%r is not a list of integration names; ignored",
            integrations,
        )
        return None
    return names


def _with_context_carrying(
    integrations: Iterable[Integration | str] | None,
) -> list[Integration | str] | None:
    if integrations is None:
        return None  # every installed integration, threading included
    return [*integrations, *_CONTEXT_CARRYING]


def uninstrument() -> None:
    """Remove every integration's patches and pending import hooks (export stays set up)."""
    from traceroot.integrations import registry

    registry.uninstrument()


def integrations_status() -> list[IntegrationStatus]:
    """Each known integration and its state: active, waiting for import, disabled (by which
    setting), unsupported version, failed, or not requested.

        for item in traceroot.integrations_status():
            print(item.name, item.state, item.detail)
    """
    from traceroot.integrations import registry

    return registry.status()


def dropped_spans() -> int:
    """How many spans were dropped because the export queue was full (the backend slow or down)."""
    return _pipeline.dropped_spans()


def export_failures() -> int:
    """How many spans reached the exporter but not their destination: refused by the backend
    (401, 413, 500, ...) or not written to the local store."""
    return _pipeline.export_failures()


def flush(timeout: float | None = None) -> bool:
    """Export every finished span now. Returns ``True`` only if every span pending reached its
    destination within ``timeout`` seconds (``False``: time ran out, or spans were refused,
    failed to be written or were dropped since the last flush). A timeout that is not a number
    means the default, with one warning."""
    return _pipeline.flush(_config.checked_timeout("flush", timeout))


def shutdown(timeout: float | None = None) -> bool:
    """Export what is pending and stop, within ``timeout`` seconds (default: the export
    timeout). Runs by itself when the process exits, bounded to a few seconds there."""
    return _pipeline.shutdown(_config.checked_timeout("shutdown", timeout))
