"""A DSPy model call's token usage, on the instrumentor's ``LM`` span.

DSPy 3.4 reaches most providers through its own HTTP client (lm15), which no provider
integration sees, and the instrumentor records no usage, so without this the call's ``llm`` span
would carry none (and the TraceRoot backend would estimate it). ``finalize`` is DSPy's one step
after every ``LM.__call__`` / ``acall`` has its result, run inside the ``LM`` span.

When a provider SDK traceroot instruments made the call (``engine="litellm"`` uses the
``openai`` client), its span nested under the ``LM`` span and carries the usage; the ``LM`` span
is then a plain span, and the reader of foreign spans drops the usage set here from it, so the
call is counted once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import trace

from traceroot import genai, semconv
from traceroot.guard import contained
from traceroot.integrations.base import BaseIntegration, Wrapper

from .reading import SCOPE

_recording = contained("dspy.usage")


def finalize(integration: BaseIntegration) -> Wrapper:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        outputs = wrapped(*args, **kwargs)
        with _recording:
            result = args[2] if len(args) > 2 else kwargs.get("result")
            _record(trace.get_current_span(), result)
        return outputs

    return wrapper


def _record(span: Any, result: Any) -> None:
    scope = getattr(span, "instrumentation_scope", None)
    if scope is None or scope.name != SCOPE:
        return
    recorded = getattr(span, "attributes", None) or {}
    if recorded.get(semconv.OPENINFERENCE_SPAN_KIND) != "LLM":
        return
    attributes: dict[str, Any] = {}
    genai.set_if(attributes, semconv.GEN_AI_RESPONSE_MODEL, getattr(result, "response_model", None))
    if recorded.get(semconv.SPAN_TYPE) == semconv.TYPE_SPAN:
        pass  # a provider span nested under it carries the usage (traceroot.model_calls)
    elif getattr(result, "cache_hit", False):
        # Answered from DSPy's cache: no tokens were spent (and none should be estimated).
        genai.set_usage(attributes, input_tokens=0, output_tokens=0)
    elif isinstance(usage := getattr(result, "usage", None), Mapping):
        prompt = usage.get("prompt_tokens_details") or {}
        completion = usage.get("completion_tokens_details") or {}
        genai.set_usage(
            attributes,
            usage,
            cache_read_tokens=prompt.get("cached_tokens"),
            cache_creation_tokens=prompt.get("cache_creation_tokens"),
            reasoning_tokens=completion.get("reasoning_tokens"),
        )
    span.set_attributes(attributes)
