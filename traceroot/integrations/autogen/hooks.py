"""What traceroot adds to AutoGen's own spans: tool arguments and results, names, and no
``create_agent`` trace of its own (see the package docstring)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.sdk.trace import Span

from traceroot import genai, semconv
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper

_arguments = contained("autogen.tool_arguments")
_result = contained("autogen.tool_result")
_TOOL_SPAN_PREFIX: Final = f"{semconv.OPERATION_EXECUTE_TOOL} "


def _tool_span() -> Any:
    """AutoGen's tool span, when it is the current span (``FunctionTool.run`` runs inside it)."""
    span = trace.get_current_span()
    if not span.is_recording() or not getattr(span, "name", "").startswith(_TOOL_SPAN_PREFIX):
        return None
    scope = getattr(span, "instrumentation_scope", None)
    return span if scope is not None and scope.name == "autogen-core" else None


def function_tool_run(integration: BaseIntegration) -> Wrapper:
    """``FunctionTool.run(args, cancellation_token)``: the arguments on AutoGen's tool span
    before the call, the result after it (a failure AutoGen records itself)."""

    async def run(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        span = None
        with _arguments:
            span = _tool_span()
            if span is not None:
                model = args[0] if args else kwargs.get("args")
                recorded: dict[str, Any] = {}
                genai.set_content(recorded, semconv.GEN_AI_TOOL_CALL_ARGUMENTS, model.model_dump())
                span.set_attributes(recorded)
        result = await wrapped(*args, **kwargs)
        if span is not None:
            with _result:
                recorded = {}
                genai.set_content(
                    recorded,
                    semconv.GEN_AI_TOOL_CALL_RESULT,
                    instance.return_value_as_string(result),
                )
                span.set_attributes(recorded)
        return result

    return run


def create_agent_span(
    integration: BaseIntegration,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """AutoGen's ``trace_create_agent_span``, as the agent base class calls it: no span for an
    agent built outside any trace (it would be a one-span trace beside the run's)."""

    def replace(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def create_agent(*args: Any, **kwargs: Any) -> Any:
            if not trace.get_current_span().get_span_context().is_valid:
                return contextlib.nullcontext(trace.INVALID_SPAN)
            return original(*args, **kwargs)

        return create_agent

    return replace


def at_start(span: Span) -> None:
    """An agent's construction inside a trace is not an agent run but a plain span."""
    attributes = span.attributes or {}
    if attributes.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OPERATION_CREATE_AGENT:
        span.set_attribute(semconv.SPAN_TYPE, semconv.TYPE_SPAN)


def at_export(name: str, attributes: dict[str, Any]) -> str:
    """Agent spans named after the agent, tool spans after the tool."""
    operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
    if operation == semconv.OPERATION_INVOKE_AGENT:
        return str(attributes.get(semconv.GEN_AI_AGENT_NAME) or name)
    if operation == semconv.OPERATION_EXECUTE_TOOL:
        return str(attributes.get(semconv.GEN_AI_TOOL_NAME) or name)
    return name
