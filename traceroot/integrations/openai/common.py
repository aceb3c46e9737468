"""Pieces the OpenAI endpoint modules share: parameters, identity, finish reasons, tools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.trace import Span

from traceroot import genai, semconv, spans
from traceroot.genai import field

_GEN_AI_PARAMETERS = semconv.MODEL_PARAMETER_ATTRIBUTES


def record_parameters(span: Span, body: Mapping[str, Any], names: Iterable[str]) -> None:
    """Request parameters: the standard ones as ``gen_ai.request.*``, all of them as JSON."""
    given = {name: body[name] for name in names if body.get(name) is not None}
    for name, value in given.items():
        attribute = _GEN_AI_PARAMETERS.get(name)
        if attribute == semconv.GEN_AI_REQUEST_STOP_SEQUENCES:
            genai.set_if(span, attribute, [value] if isinstance(value, str) else value)
        elif attribute is not None and not isinstance(value, bool):
            genai.set_if(span, attribute, value)
    service_tier = given.get("service_tier")
    genai.set_if(span, semconv.OPENAI_REQUEST_SERVICE_TIER, service_tier)
    if given:
        spans.set_json(span, semconv.LLM_MODEL_PARAMETERS, given, content=False)


def record_output_type(span: Span, format_type: object) -> None:
    if format_type in ("json_schema", "json_object"):
        span.set_attribute(semconv.GEN_AI_OUTPUT_TYPE, "json")
    elif format_type == "text":
        span.set_attribute(semconv.GEN_AI_OUTPUT_TYPE, "text")


def record_identity(span: Span, response: Any) -> None:
    genai.set_if(span, semconv.GEN_AI_RESPONSE_ID, field(response, "id"))
    genai.set_if(span, semconv.GEN_AI_RESPONSE_MODEL, field(response, "model"))
    genai.set_if(span, semconv.OPENAI_RESPONSE_SERVICE_TIER, field(response, "service_tier"))


def record_finish_reasons(span: Span, reasons: Iterable[object]) -> None:
    known = [str(reason) for reason in reasons if reason is not None]
    if known:
        span.set_attribute(semconv.GEN_AI_RESPONSE_FINISH_REASONS, known)


def record_tool_definitions(span: Span, tools: object) -> None:
    """Tool schemas the model was offered (kept when content capture is off: they are code)."""
    if isinstance(tools, (list, tuple)) and tools:
        spans.set_json(span, semconv.GEN_AI_TOOL_DEFINITIONS, list(tools), content=False)
