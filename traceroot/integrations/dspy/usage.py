"""A DSPy model call's token usage and response model, on the instrumentor's ``LM`` span.

The instrumentor records no usage. DSPy 3.4 reaches most providers through its own HTTP client
(lm15), which no provider integration sees, so without this the call's ``llm`` span would carry
none (and the TraceRoot backend would estimate it). Each DSPy version has one step where an
``LM.__call__`` / ``acall`` holds its result, inside the ``LM`` span: ``finalize`` from 3.4,
``BaseLM._process_lm_response`` before (where LiteLLM made the call).

When a provider SDK traceroot instruments made the call (LiteLLM uses the ``openai`` client for
OpenAI models), that SDK's span nested under the ``LM`` span and carries the usage; the ``LM``
span is then a plain span (:mod:`traceroot.model_calls`) and gets none here, so the call is
counted once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import trace

from traceroot import genai, semconv
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper

from .reading import LLM_KIND, SCOPE

_recording = contained("dspy.usage")


def finalize(integration: BaseIntegration) -> Wrapper:
    """``dspy.clients.execution.finalize(lm, call, result)`` (DSPy 3.4): ``result`` is DSPy's
    ``CallResult``, its usage a dict in OpenAI's shape."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        outputs = wrapped(*args, **kwargs)
        with _recording:
            result = args[2] if len(args) > 2 else kwargs.get("result")
            _record(trace.get_current_span(), result, getattr(result, "response_model", None))
        return outputs

    return wrapper


def process_lm_response(integration: BaseIntegration) -> Wrapper:
    """``BaseLM._process_lm_response(response, ...)`` (DSPy before 3.4): ``response`` is
    LiteLLM's, with ``usage`` and ``model``."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        outputs = wrapped(*args, **kwargs)
        with _recording:
            response = args[0] if args else kwargs.get("response")
            _record(trace.get_current_span(), response, getattr(response, "model", None))
        return outputs

    return wrapper


def _record(span: Any, result: Any, response_model: object) -> None:
    scope = getattr(span, "instrumentation_scope", None)
    if scope is None or scope.name != SCOPE:
        return
    recorded = getattr(span, "attributes", None) or {}
    if recorded.get(semconv.OPENINFERENCE_SPAN_KIND) != LLM_KIND:
        return
    attributes: dict[str, Any] = {}
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, response_model)
    usage = getattr(result, "usage", None)
    if recorded.get(semconv.SPAN_TYPE) == semconv.TYPE_SPAN:
        pass  # a provider span nested under it carries the usage (traceroot.model_calls)
    elif getattr(result, "cache_hit", False):
        # Answered from DSPy's cache: no tokens were spent (and none should be estimated).
        genai.set_usage(attributes, input_tokens=0, output_tokens=0)
    elif usage:
        usage = usage if isinstance(usage, Mapping) else dict(usage)
        prompt = usage.get("prompt_tokens_details")
        completion = usage.get("completion_tokens_details")
        genai.set_usage(
            attributes,
            usage,
            cache_read_tokens=genai.field(prompt, "cached_tokens"),
            cache_creation_tokens=genai.field(prompt, "cache_creation_tokens"),
            reasoning_tokens=genai.field(completion, "reasoning_tokens"),
        )
    span.set_attributes(attributes)
