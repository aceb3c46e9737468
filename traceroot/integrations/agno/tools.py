"""A failed Agno tool call, recorded once on its tool span.

Agno catches what a tool raises, logs it (``log_exception``) and hands the model the message as the
call's result; the instrumentor marks the span an error but records no exception. Around
``FunctionCall._execute`` (which runs inside the instrumentor's tool span) traceroot keeps the
exception Agno logs, and when the call fails with that exception's message records it on the span
as the one exception event, with its type and traceback.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, Final

from opentelemetry import trace

from traceroot import semconv
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper

_recording: Final = contained("agno.tool_failure")
# The exceptions Agno logged during the tool call running in this context, if one is.
_logged: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "traceroot_agno_logged", default=None
)


def log_exception(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        logged = _logged.get()
        if logged is not None and args and isinstance(args[0], BaseException):
            logged.append(args[0])
        return wrapped(*args, **kwargs)

    return wrapper


def execute(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        logged: list[BaseException] = []
        token = _logged.set(logged)
        try:
            outcome = wrapped(*args, **kwargs)
        finally:
            _logged.reset(token)
        _record(instance, outcome, logged)
        return outcome

    return wrapper


def aexecute(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        async def run() -> Any:
            logged: list[BaseException] = []
            token = _logged.set(logged)
            try:
                outcome = await wrapped(*args, **kwargs)
            finally:
                _logged.reset(token)
            _record(instance, outcome, logged)
            return outcome

        return run()

    return wrapper


def _record(call: Any, outcome: Any, logged: list[BaseException]) -> None:
    with _recording:
        if getattr(outcome, "status", None) != "failure":
            return
        message = getattr(call, "error", None) or getattr(outcome, "error", None)
        span = trace.get_current_span()
        if not span.is_recording() or not _is_agno_tool(span):
            return
        for error in logged:
            if str(error) == message:
                span.record_exception(error)
                span.set_attribute(semconv.ERROR_TYPE, type(error).__qualname__)
                return


def _is_agno_tool(span: Any) -> bool:
    from traceroot.integrations.agno import SCOPE

    scope = getattr(span, "instrumentation_scope", None)
    attributes = getattr(span, "attributes", None) or {}
    return (
        scope is not None
        and scope.name == SCOPE
        and attributes.get(semconv.OPENINFERENCE_SPAN_KIND) == "TOOL"
    )
