"""What traceroot adds to ADK's own spans: a run's session and user in force while it runs,
content capture following traceroot's setting, names, ADK's session id as the session (see the
package docstring)."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import Span

from traceroot import semconv, stamping
from traceroot.config import CAPTURE_CONTENT as TRACEROOT_CONTENT_ENV
from traceroot.config import OTEL_CAPTURE_MESSAGE_CONTENT as CONTENT_ENV
from traceroot.config import current as current_settings
from traceroot.context import with_attributes
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper

_preparing = contained("google_adk.run_config")
_entering = contained("google_adk.run_context")
# The app's own choice of where ADK puts message content (OpenTelemetry's GenAI setting).


def run_async(integration: BaseIntegration) -> Wrapper:
    """``Runner.run_async(*, user_id, session_id, ..., run_config=None)``: the run's events, each
    step of it run with the run's session and user in force; its config with traceroot's content
    mode."""

    def run(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        with _preparing:
            kwargs = {**kwargs, "run_config": _with_content_mode(kwargs.get("run_config"))}
        events = wrapped(*args, **kwargs)
        return _run_in_context(events, kwargs.get("session_id"), kwargs.get("user_id"))

    return run


def _with_content_mode(run_config: Any) -> Any:
    """``run_config`` with ADK's content mode set from ``TRACEROOT_CAPTURE_CONTENT``: on the spans,
    or none; left alone when content is on and the app chose a mode itself."""
    from google.adk.agents.run_config import RunConfig
    from google.adk.telemetry.context import ContentCapturingMode, TelemetryConfig

    capture = current_settings().capture_content
    telemetry = run_config.telemetry if run_config is not None else None
    app_mode = os.environ.get(CONTENT_ENV, "").strip()
    if app_mode and not os.environ.get(TRACEROOT_CONTENT_ENV, "").strip():
        # The app's OpenTelemetry content setting alone decided (EVENT_ONLY included): ADK reads
        # it itself, with the meanings traceroot's spans-only view cannot hold.
        return run_config
    if capture and (
        app_mode or (telemetry is not None and telemetry.capture_message_content is not None)
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


async def _run_in_context(events: Any, session: object, user: object) -> AsyncGenerator[Any, Any]:
    """The run's event stream, an async generator like ADK's own; each step of it runs with the
    run's session and user in force, where no ``using_attributes`` block sets them. Values sent
    and exceptions thrown in, and closing, reach ADK's generator as they would without it."""
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        token = _enter(session, user)
        try:
            if thrown is not None:
                event = await events.athrow(thrown)
            elif sent is not None:
                event = await events.asend(sent)
            else:
                event = await events.__anext__()
        except StopAsyncIteration:
            return
        finally:
            thrown = None
            if token is not None:
                otel_context.detach(token)
        try:
            sent = yield event
        except GeneratorExit:
            token = _enter(session, user)
            try:
                await events.aclose()
            finally:
                if token is not None:
                    otel_context.detach(token)
            raise
        except BaseException as error:  # noqa: BLE001 - thrown in by the caller: passed on
            thrown, sent = error, None


def _enter(session: object, user: object) -> Token[otel_context.Context] | None:
    with _entering:
        ctx = otel_context.get_current()
        in_force_session, in_force_user = stamping.ids(ctx)
        missing_session = None if in_force_session is not None else session
        missing_user = None if in_force_user is not None else user
        if missing_session is None and missing_user is None:
            return None
        return otel_context.attach(
            with_attributes(ctx, session_id=missing_session, user_id=missing_user)
        )
    return None


def at_start(span: Span) -> None:
    """ADK's session id as the session where no other is in force (a run not started through a
    ``Runner``), on the live span, so every destination sees it."""
    attributes = span.attributes or {}
    if semconv.SESSION_ID in attributes:
        return
    conversation = attributes.get(semconv.GEN_AI_CONVERSATION_ID)
    if conversation is not None:
        span.set_attribute(semconv.SESSION_ID, conversation)


def at_export(name: str, attributes: dict[str, Any]) -> str:
    """Agent spans named after the agent, tool spans after the tool; ADK's session id as the
    session where none was in force, for a span that was given it only after it started."""
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
