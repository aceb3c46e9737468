"""CrewAI's native async path, which OpenInference's instrumentor does not wrap.

``await crew.akickoff()`` runs its tasks through ``Task._aexecute_core``, not ``Crew.kickoff``
and ``Task._execute_core``: without these two wrappers its model and tool calls would be
separate traces with no crew or agent span. They make the spans the sync path gets, under the
names the reader gives those (:mod:`traceroot.integrations.crewai.reader`): the crew kickoff as
the root, each task run an ``agent`` span named after the agent's role, current while it runs
so the model and tool calls nest under it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from traceroot import semconv, spans
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration
from traceroot.spans import SpanKind

_starting = contained("crewai.async.start")
_finishing = contained("crewai.async.finish")

Wrapper = Callable[..., Coroutine[Any, Any, Any]]


def crew_akickoff(integration: BaseIntegration) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        return await _run(wrapped, args, kwargs, lambda: _crew_span(instance))

    return wrapper


def task_aexecute_core(integration: BaseIntegration) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        agent = args[0] if args else kwargs.get("agent")
        return await _run(wrapped, args, kwargs, lambda: _agent_span(instance, agent))

    return wrapper


async def _run(
    wrapped: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    start: Callable[[], trace.Span],
) -> Any:
    span = token = None
    with _starting:
        span = start()
        token = otel_context.attach(trace.set_span_in_context(span))
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as error:
        with _finishing:
            if span is not None:
                spans.record_error(span, error)
        raise
    else:
        with _finishing:
            if span is not None:
                attributes: dict[str, Any] = {}
                spans.content_into(attributes, semconv.SPAN_OUTPUT, getattr(result, "raw", None))
                spans.set_attributes(span, attributes)
        return result
    finally:
        with _finishing:
            if token is not None:
                otel_context.detach(token)
            if span is not None:
                span.end()


def _crew_span(crew: Any) -> trace.Span:
    name = str(getattr(crew, "name", "") or "").strip()
    title = name if name and name.lower() != "crew" else "Crew"
    return spans.start(
        f"{title}.kickoff", SpanKind.SPAN, attributes={"crew_id": str(getattr(crew, "id", ""))}
    )


def _agent_span(task: Any, agent: Any) -> trace.Span:
    agent = agent or getattr(task, "agent", None)
    role = str(getattr(agent, "role", "") or "").strip() or "Agent"
    attributes: dict[str, Any] = {semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_INVOKE_AGENT}
    spans.content_into(attributes, semconv.SPAN_INPUT, getattr(task, "description", None))
    return spans.start(role, SpanKind.AGENT, attributes=attributes)
