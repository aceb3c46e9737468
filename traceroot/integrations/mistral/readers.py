"""Reading the spans of the ``mistralai`` SDK's own telemetry, for apps that switch it on too.

Its span of a model call starts named after the API operation, with no GenAI attribute yet (it
adds them once the request is built): typed only at export, it would stand beside traceroot's
span of the same call as a second ``llm`` span. Typed at start instead, it nests under
traceroot's span and takes part in the one-llm-span-per-call protocol: it becomes the call's
``llm`` span, traceroot's the enclosing ``span``. Its messages follow
``TRACEROOT_CAPTURE_CONTENT`` like every other span's.
"""

from __future__ import annotations

from typing import Any, Final

from opentelemetry.sdk.trace import Span

from traceroot import semconv
from traceroot.config import current
from traceroot.model_calls import model_calls

SCOPE: Final = "mistralai_sdk_tracer"
# The SDK's operation ids of model calls (its span names until it renames them).
_MODEL_OPERATIONS: Final = frozenset(
    {
        "chat_completion_v1_chat_completions_post",
        "stream_chat",
        "agents_completion_v1_agents_completions_post",
        "stream_agents",
        "fim_completion_v1_fim_completions_post",
        "stream_fim",
        "embeddings_v1_embeddings_post",
    }
)
_CONTENT: Final = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
)


def at_start(span: Span) -> None:
    if span.name in _MODEL_OPERATIONS:
        span.set_attribute(semconv.SPAN_TYPE, semconv.TYPE_LLM)
        model_calls.started(span, foreign=True)


def at_export(name: str, attributes: dict[str, Any]) -> str:
    if not current().capture_content:
        for key in _CONTENT:
            attributes.pop(key, None)
    return name
