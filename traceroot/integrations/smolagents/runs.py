"""A failed smolagents run, closed.

When ``agent.run()`` raises, the instrumentor records the error on the run's span but neither ends
the span nor takes it out of the context it made current: the run never reaches any exporter, and
everything the thread does afterwards would join its trace. Around the instrumented ``run``
traceroot ends that span and puts back the context the call started in; the exception goes on
unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace

from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper

_closing: Final = contained("smolagents.failed_run")


def run(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        before = otel_context.get_current()
        try:
            return wrapped(*args, **kwargs)
        except BaseException:
            with _closing:
                _close_left_open(before)
            raise

    return wrapper


def _close_left_open(before: otel_context.Context) -> None:
    from traceroot.integrations.smolagents import SCOPE

    span = trace.get_current_span()
    if span is trace.get_current_span(before):
        return  # nothing was left current
    scope = getattr(span, "instrumentation_scope", None)
    if scope is None or scope.name != SCOPE:
        return
    if span.is_recording():
        span.end()
    # The instrumentor's token is lost with its frame: attaching the context the run started in
    # gives the thread back exactly the value that detaching that token would have.
    otel_context.attach(before)
