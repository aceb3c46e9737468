"""What traceroot adds to ADK's own spans: a run's session and user in force while it runs,
content capture following traceroot's setting, names, each exception once (see the package
docstring)."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextvars import Token
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import Span

from traceroot import foreign, semconv, stamping
from traceroot.config import current as current_settings
from traceroot.context import with_attributes
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper

_preparing = contained("google_adk.run_config")
_entering = contained("google_adk.run_context")
# The app's own choice of where ADK puts message content (OpenTelemetry's GenAI setting).
CONTENT_ENV: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def run_async(integration: BaseIntegration) -> Wrapper:
    """``Runner.run_async(*, user_id, session_id, ..., run_config=None)``: the run's events, each
    step of it run with the run's session and user in force; its config with traceroot's content
    mode."""

    def run(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        with _preparing:
            kwargs = {**kwargs, "run_config": _with_content_mode(kwargs.get("run_config"))}
        events = wrapped(*args, **kwargs)
        return _RunInContext(events, kwargs.get("session_id"), kwargs.get("user_id"))

    return run


def _with_content_mode(run_config: Any) -> Any:
    """``run_config`` with ADK's content mode set from ``TRACEROOT_CAPTURE_CONTENT``: on the spans,
    or none; left alone when content is on and the app chose a mode itself."""
    from google.adk.agents.run_config import RunConfig
    from google.adk.telemetry.context import ContentCapturingMode, TelemetryConfig

    capture = current_settings().capture_content
    telemetry = run_config.telemetry if run_config is not None else None
    if capture and (
        os.environ.get(CONTENT_ENV, "").strip()
        or (telemetry is not None and telemetry.capture_message_content is not None)
    ):
        return run_config
    mode = ContentCapturingMode.SPAN_ONLY if capture else ContentCapturingMode.NO_CONTENT
    if telemetry is None:
        telemetry = TelemetryConfig(capture_message_content=mode)
    else:
        telemetry = telemetry.model_copy(update={"capture_message_content": mode})
    if run_config is None:
        return RunConfig(telemetry=telemetry)
    return run_config.model_copy(update={"telemetry": telemetry})


class _RunInContext:
    """The run's event stream; each step runs with the run's session and user in force, where
    no ``using_attributes`` block sets them."""

    __slots__ = ("_events", "_session", "_user")

    def __init__(self, events: Any, session: object, user: object) -> None:
        self._events = events
        self._session = session
        self._user = user

    def __aiter__(self) -> _RunInContext:
        return self

    async def __anext__(self) -> Any:
        token = self._enter()
        try:
            return await self._events.__anext__()
        finally:
            if token is not None:
                otel_context.detach(token)

    async def asend(self, value: Any) -> Any:
        token = self._enter()
        try:
            return await self._events.asend(value)
        finally:
            if token is not None:
                otel_context.detach(token)

    async def athrow(self, *args: Any) -> Any:
        token = self._enter()
        try:
            return await self._events.athrow(*args)
        finally:
            if token is not None:
                otel_context.detach(token)

    async def aclose(self) -> None:
        token = self._enter()
        try:
            await self._events.aclose()
        finally:
            if token is not None:
                otel_context.detach(token)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._events, name)

    def _enter(self) -> Token[otel_context.Context] | None:
        with _entering:
            ctx = otel_context.get_current()
            session, user = stamping.ids(ctx)
            missing_session = None if session is not None else self._session
            missing_user = None if user is not None else self._user
            if missing_session is None and missing_user is None:
                return None
            return otel_context.attach(
                with_attributes(ctx, session_id=missing_session, user_id=missing_user)
            )
        return None


def at_start(span: Span) -> None:
    foreign.record_each_exception_once(span)


def at_export(name: str, attributes: dict[str, Any]) -> str:
    """Agent spans named after the agent, tool spans after the tool; ADK's session id as the
    session where no other was in force (a run not started through a ``Runner``)."""
    if semconv.SESSION_ID not in attributes:
        conversation = attributes.get(semconv.GEN_AI_CONVERSATION_ID)
        if conversation is not None:
            attributes[semconv.SESSION_ID] = conversation
    operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
    if operation == semconv.OPERATION_INVOKE_AGENT:
        return str(attributes.get(semconv.GEN_AI_AGENT_NAME) or name)
    if operation == semconv.OPERATION_EXECUTE_TOOL:
        return str(attributes.get(semconv.GEN_AI_TOOL_NAME) or name)
    return name
