"""A ``dspy.ReAct`` run is an agent: its span is typed ``agent`` and named after the agent.

The instrumentor traces every module call as a chain named ``<Class>.forward``; nothing on that
span tells an agent from any other module. ``ReAct.forward`` (and ``aforward``) runs inside it,
with that span current, so the wrapper here types it and gives it the agent's name while it is
still open, for every destination (the app's own exporters included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from opentelemetry import trace

from traceroot import semconv
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper

from .reading import AGENT_KIND, SCOPE

_naming = contained("dspy.agent")
_GENERIC_SIGNATURE: Final = "StringSignature"  # the class of every "question -> answer" signature


def agent_run(integration: BaseIntegration) -> Wrapper:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        with _naming:
            _mark_agent(trace.get_current_span(), instance)
        return wrapped(*args, **kwargs)

    return wrapper


def agent_name(module: Any) -> str:
    """What a user calls the agent: their own subclass's name, else their signature's (a
    ``class WeatherQA(dspy.Signature)``), else DSPy's class (``ReAct``)."""
    cls = type(module)
    if not cls.__module__.startswith("dspy."):
        return cls.__name__
    name = getattr(getattr(module, "signature", None), "__name__", None)
    if isinstance(name, str) and name and name != _GENERIC_SIGNATURE:
        return name
    return cls.__name__


def _mark_agent(span: Any, module: Any) -> None:
    scope = getattr(span, "instrumentation_scope", None)
    if scope is None or scope.name != SCOPE:
        return  # the instrumentor made no span for this call (suppressed, or not running)
    if span.name not in (f"{type(module).__name__}.forward", f"{type(module).__name__}.aforward"):
        return  # ``forward`` called directly, not through ``__call__``: the span is a caller's
    span.update_name(agent_name(module))
    span.set_attributes(
        {
            semconv.SPAN_TYPE: semconv.TYPE_AGENT,
            semconv.OPENINFERENCE_SPAN_KIND: AGENT_KIND,
            semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_INVOKE_AGENT,
        }
    )
