"""Tool spans for automatic function calling: when ``generate_content`` (or a chat session) is
given Python functions as tools, the SDK runs the model's function calls itself, between two
model requests, through one helper (sync and async). Each run becomes a ``tool`` span, a sibling
of the model calls' ``llm`` spans, with the arguments and the result as content.

The SDK catches what a function raises and hands the model ``{"error": str(exception)}``; the
span records the exception once and lets it go on to the SDK unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from traceroot import genai, semconv, spans
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper
from traceroot.spans import SpanKind

_starting = contained("google_genai.tool.start")
_recording = contained("google_genai.tool.end")


def _start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Span | None:
    arguments = args[0] if args else kwargs.get("args")
    function = args[1] if len(args) > 1 else kwargs.get("function_to_invoke")
    name = str(getattr(function, "__name__", None) or type(function).__name__)
    attributes: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_EXECUTE_TOOL,
        semconv.GEN_AI_TOOL_NAME: name,
    }
    description = getattr(function, "__doc__", None)
    if isinstance(description, str) and description.strip():
        attributes[semconv.GEN_AI_TOOL_DESCRIPTION] = description.strip()
    genai.set_content(attributes, semconv.GEN_AI_TOOL_CALL_ARGUMENTS, arguments)
    return spans.start(name, SpanKind.TOOL, attributes=attributes)


def _end(span: Span, result: Any = None, error: BaseException | None = None) -> None:
    with _recording:
        if error is not None:
            spans.record_error(span, error)
        else:
            attributes: dict[str, Any] = {}
            genai.set_content(attributes, semconv.GEN_AI_TOOL_CALL_RESULT, result)
            spans.set_attributes(span, attributes)
    span.end()


def invoke(integration: BaseIntegration) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        span = None
        with _starting:
            span = _start(args, kwargs)
        if span is None:
            return wrapped(*args, **kwargs)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as error:
            otel_context.detach(token)
            _end(span, error=error)
            raise
        otel_context.detach(token)
        _end(span, result)
        return result

    return wrapper


def ainvoke(integration: BaseIntegration) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        span = None
        with _starting:
            span = _start(args, kwargs)
        if span is None:
            return await wrapped(*args, **kwargs)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as error:
            otel_context.detach(token)
            _end(span, error=error)
            raise
        otel_context.detach(token)
        _end(span, result)
        return result

    return wrapper
